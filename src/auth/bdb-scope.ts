/**
 * Database-scoped roles (objects/role.md `resources`; create-cluster-roles.md "Scope a role to
 * specific databases"): a db_member or db_viewer role with `resources: [{type: 'db', uids}]`
 * "can view or manage only the databases listed", and "sees only their authorized databases
 * ... in database lists". The permission table still decides WHAT a role may do; this decides
 * on WHICH databases. conventions.ts applies it to every route, from one rule per route:
 *
 * - `param`: the path parameter naming a database → 403 unless it is in scope (before the handler);
 *   `shardParam`: one naming a shard → 403 unless the shard's database is in scope.
 * - `field`: the response field naming a database (`uid`, `bdb_uid`, or an `object_name` such as
 *   `bdb:3`); `shardField`: one naming a shard. List entries outside the scope are dropped, as are
 *   keys of maps keyed by uid (stats `last`); a single object outside it → 403.
 * - `deny`: the route acts on databases it cannot check (creating one, failing over a list of
 *   shards) → 403 for scoped callers.
 *
 * Rules are inferred from the URL (`bdbScopeRuleFor`), so routes other modules add under
 * /v1/bdbs/{uid}/..., /v1/shards/... are covered without declaring anything; a route may set
 * `config.bdbScope` itself to override.
 */
import type { Caller } from '../api/route-types.js';
import type { Role } from '../schemas/role.js';

export interface BdbScopeRule {
  param?: string;
  shardParam?: string;
  field?: string;
  shardField?: string;
  deny?: true;
}

/** What a scoped caller may see: its databases, and (loaded on demand) which database each shard belongs to. */
export interface BdbScope {
  bdbs: ReadonlySet<number>;
  shardBdbs(): Promise<ReadonlyMap<number, number>>;
}

/** Management roles `resources` can limit (role.md; the roles service refuses it on others). */
const SCOPABLE = new Set(['db_member', 'db_viewer']);

const PARAM = '\\/:([A-Za-z_][A-Za-z0-9_]*)';
const BDB_PARAM = new RegExp(`^/v\\d+/(?:local/)?(?:bdbs|actions/bdb)(?:/[^/:]+)*${PARAM}`);
const SHARD_PARAM = new RegExp(`^/v\\d+/(?:local/)?shards(?:/[^/:]+)*${PARAM}`);
const NO_PARAM = (what: string) => new RegExp(`^/v\\d+/(?:local/)?${what}(?:/[^/:]+)*/?$`);
const BDBS = NO_PARAM('bdbs');
const SHARDS = NO_PARAM('shards');
const ENDPOINTS = NO_PARAM('endpoints');
const ACTIONS = /^\/v\d+\/actions(?:\/:[A-Za-z_]+)?\/?$/;

/** The rule for a route, from its method and URL pattern (Fastify's `:param` form). */
export function bdbScopeRuleFor(method: string, url: string): BdbScopeRule | undefined {
  const read = method === 'GET' || method === 'HEAD';
  const param = BDB_PARAM.exec(url)?.[1];
  if (param) return { param };
  const shardParam = SHARD_PARAM.exec(url)?.[1];
  if (shardParam) return { shardParam };
  if (BDBS.test(url)) return read ? { field: 'uid' } : { deny: true };
  if (SHARDS.test(url)) return read ? { field: 'bdb_uid', shardField: 'uid' } : { deny: true };
  if (ENDPOINTS.test(url)) return read ? { field: 'uid' } : { deny: true };
  if (ACTIONS.test(url) && read) return { field: 'object_name' };
  return undefined;
}

/**
 * A database uid from a path parameter or field value: 3, "3", "bdb:3", or an endpoint uid
 * "3:1:1" (`<bdb>:<endpoint>:<node>`); undefined = the value names no database.
 */
export function bdbUidOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(?:bdb:)?([0-9]{1,15})(?::[0-9]+:[0-9]+)?$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

export class OutOfScope extends Error {}

const isRecord = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o);

/**
 * Drop what lies outside the scope from a response: entries of a top-level list, entries of the
 * lists an object holds (e.g. /v1/actions' `state-machines`), keys of a map keyed by uid, or the
 * whole object (OutOfScope). Values that name no database (`cluster`, `node:1`) are kept.
 * `shardBdbs` is needed only for rules with `shardField`.
 */
export function filterByScope(payload: unknown, rule: BdbScopeRule, bdbs: ReadonlySet<number>, shardBdbs: ReadonlyMap<number, number> = new Map()): unknown {
  const ofShard = (v: unknown) => {
    const s = bdbUidOf(v);
    return s === undefined ? undefined : shardBdbs.get(s) ?? -1; // a shard of no known database: hidden
  };
  /** true / false when `o` names a database (in scope or not), undefined when it names none. */
  const verdict = (o: Record<string, unknown>): boolean | undefined => {
    let uid: number | undefined;
    if (rule.field && rule.field in o) uid = bdbUidOf(o[rule.field]);
    else if (rule.shardField && rule.shardField in o) uid = ofShard(o[rule.shardField]);
    else return undefined;
    return uid === undefined ? undefined : bdbs.has(uid);
  };
  const keep = (o: unknown) => !isRecord(o) || verdict(o) !== false;
  if (Array.isArray(payload)) return payload.filter(keep);
  if (!isRecord(payload)) return payload;
  if (verdict(payload) === false) throw new OutOfScope();
  const keys = Object.keys(payload);
  if (keys.length > 0 && keys.every((k) => /^[0-9]+$/.test(k))) {
    // A map keyed by uid (e.g. GET /v1/bdbs/stats/last): the keys are what `uid` would hold.
    const byKey = rule.field === 'uid' ? (k: string) => bdbs.has(Number(k))
      : rule.shardField === 'uid' ? (k: string) => bdbs.has(ofShard(k)!)
      : () => true;
    return Object.fromEntries(Object.entries(payload).filter(([k]) => byKey(k)));
  }
  return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? v.filter(keep) : v]));
}

/** Reads roles by uid (the roles collection). */
export interface RoleReader {
  get(uid: number): Promise<{ value: Role } | undefined>;
}

/**
 * The databases a caller is limited to, or undefined when it is not limited. Only the caller's
 * roles at its effective management level count (the effective role is the highest one, and
 * permissions are not unioned across roles, docs/notes-users-roles.md): if any of them is
 * unscoped the caller is unscoped, else the scope is the union of their `resources` (a `db`
 * resource with no uids allows no database).
 */
export async function scopedBdbs(caller: Caller, roles: RoleReader): Promise<ReadonlySet<number> | undefined> {
  if (!SCOPABLE.has(caller.role) || !caller.role_uids?.length) return undefined;
  const held = (await Promise.all(caller.role_uids.map((uid) => roles.get(uid))))
    .map((r) => r?.value)
    .filter((r): r is Role => r !== undefined && r.management === caller.role);
  if (held.length === 0) return undefined;
  const scope = new Set<number>();
  for (const r of held) {
    const dbs = (r.resources ?? []).filter((x) => x.type === 'db');
    if (dbs.length === 0) return undefined;
    for (const res of dbs) for (const u of res.uids) scope.add(Number(u));
  }
  return scope;
}

/** The caller's BdbScope (undefined = unlimited), with shard ownership read only when a rule needs it. */
export async function bdbScopeOf(
  caller: Caller,
  roles: RoleReader,
  shards: () => Promise<readonly { uid: number | string; bdb_uid: number | string }[]>,
): Promise<BdbScope | undefined> {
  const bdbs = await scopedBdbs(caller, roles);
  if (!bdbs) return undefined;
  return { bdbs, shardBdbs: async () => new Map((await shards()).map((s) => [Number(s.uid), Number(s.bdb_uid)])) };
}
