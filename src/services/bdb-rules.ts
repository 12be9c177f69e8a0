/**
 * Pure checks for POST /v1/bdbs, POST /v2/bdbs and PUT /v1/bdbs/{uid}[/{action}]: no I/O, no
 * storage; the caller passes what it knows about the cluster in `BdbRulesContext`.
 *
 * Errors are `BdbRuleError`s (an RsError, so the error handler sends them as they are) with
 * the error_code and status of requests/bdbs/_index.md. That page gives codes without
 * per-code statuses; its status tables say POST answers "409 Conflict | Database with the
 * same UID already exists" and "406 Not Acceptable | Invalid configuration parameters
 * provided", and PUT "406 Not Acceptable | The requested configuration is invalid" and
 * "409 Conflict | ... busy with another configuration change". So uid_exists and busy are
 * 409 and every configuration code is 406. Codes openrs adds (docs/notes-bdb-schema.md):
 * unsupported_option (400, from the error catalog, shared with PUT /v1/cluster),
 * read_only_field (400, catalog) for changing a create-only field, and invalid_memory_size
 * (406) for a non-replicated database below the shard memory minimum.
 */
import { isDeepStrictEqual } from 'node:util';
import { REDIS_7_0_COMMANDS, REDIS_COMMANDS } from '../auth/redis-commands.js';
import { CertificateError, parseCertificates, type ParsedCertificate } from '../certs/x509.js';
import { disabledCommandProblems } from '../redis/config-map.js';
import { ERROR_CATALOG, RsError } from '../errors.js';
import {
  bdbDefaults, BDB_CREATE_ONLY_FIELDS, BDB_READ_ONLY_FIELDS, type Bdb, type BdbCreate, type BdbCreateV2, type BdbUpdate,
} from '../schemas/bdb.js';
import { BDB_FIELD_RULES, MODULE_FOR_CONFIG } from './bdb-field-rules.js';
import { MASKED_BDB_FIELDS, MASKED_BDB_PASSWORD } from './bdb-view.js';

export { BDB_FIELD_RULES, classifyField, unsupportedFields, type FieldSupport } from './bdb-field-rules.js';

/** error_code → [HTTP status, the page's description]. */
export const BDB_ERRORS = {
  // POST /v1/bdbs error codes
  uid_exists: [409, 'The specified database UID is already in use.'],
  missing_db_name: [406, 'DB name is a required property.'],
  missing_memory_size: [406, 'Memory Size is a required property.'],
  missing_module: [406, 'Modules missing from the cluster.'],
  port_unavailable: [406, 'The specified database port is reserved or already in use.'],
  invalid_sharding: [406, 'Invalid sharding configuration was specified.'],
  not_rack_aware: [406, 'Cluster is not rack-aware and a rack-aware database was requested.'],
  invalid_version: [406, 'An invalid database version was requested.'],
  busy: [409, 'The request failed because another request is being processed at the same time on the same database.'],
  invalid_data_persistence: [406, 'Invalid data persistence configuration.'],
  invalid_replication: [406, 'Not enough nodes to perform replication.'],
  insufficient_resources: [406, 'Not enough resources in cluster to host the database.'],
  memcached_cannot_use_modules: [406, 'Cannot create a memcached database with modules.'],
  redis_acl_unsupported: [406, 'Redis ACL is not supported for this database.'],
  // (openrs) the state changed since the blueprint was computed: a conflict, retried with a fresh one.
  wrong_cluster_state_id: [409, 'The given CLUSTER-STATE-ID does not match the current one'],
  // POST and PUT
  bad_shards_blueprint: [406, 'The sharding blueprint is broken or doesn’t fit the BDB.'],
  rack_awareness_violation: [406, 'Non rack-aware cluster / not enough nodes in unique racks.'],
  invalid_certificate: [406, 'SSL client certificate is missing or malformed.'],
  certificate_expired: [406, 'SSL client certificate has expired.'],
  duplicated_certs: [406, 'An SSL client certificate appears more than once.'],
  replication_violation: [406, 'CRDT database must use replication.'],
  eviction_policy_violation: [406, 'LFU eviction policy is not supported on bdb version<4'],
  invalid_oss_cluster_configuration: [406, 'BDB configuration does not meet the requirements for OSS cluster mode'],
  missing_backup_interval: [406, 'BDB backup is enabled but backup interval is missing.'],
  // (openrs) backup settings the pages give no code for: the documented generic codes
  // (bdbs/modules/config.md, redis_acls) with the PUT page's 406 for an invalid configuration.
  missing_field: [406, 'A needed field is missing'],
  invalid_param: [406, 'A parameter has an illegal value'],
  invalid_bdb_tags: [406, 'Tag objects with the same key parameter were passed.'],
  // PUT /v1/bdbs/{uid}[/{action}] error codes
  name_violation: [406, 'CRDT database name cannot be changed.'],
  not_supported_action_on_crdt: [406, '`reset_admin_pass` action is not allowed on CRDT enabled BDB.'],
  crdt_sharding_violation: [406, 'CRDB created without sharding cannot be changed to use sharding'],
  replication_node_violation: [406, 'Not enough nodes for replication.'],
  replication_size_violation: [406, 'Database limit too small for replication.'],
  // openrs's
  invalid_memory_size: [406, 'Database memory limit is below the minimum shard size.'],
  invalid_disabled_commands: [406, 'disabled_commands names a command that cannot be disabled.'],
  // (openrs) a roles_permissions entry naming what does not exist: the codes of the roles and
  // redis_acls pages, with the PUT page's 406 for an invalid configuration.
  role_not_exist: [406, 'Role does not exist'],
  redis_acl_not_exist: [406, 'Redis ACL does not exist'],
  unsupported_option: [ERROR_CATALOG.unsupported_option[0], ERROR_CATALOG.unsupported_option[1]],
  read_only_field: [ERROR_CATALOG.read_only_field[0], 'The field can only be set when the database is created'],
} as const satisfies Record<string, readonly [number, string]>;
export type BdbErrorCode = keyof typeof BDB_ERRORS;

/** A rejected bdb request: `{ error_code, status, description }`, sent by the error handler as is. */
export class BdbRuleError extends RsError {
  constructor(code: BdbErrorCode, detail?: string) {
    const [status, text] = BDB_ERRORS[code];
    super('internal_error', detail ?? text, { status });
    this.name = 'BdbRuleError';
    (this as { error_code: string }).error_code = code;
  }
  get status(): number { return this.statusCode; }
  get description(): string { return this.message; }
}

export interface BdbRulesContext {
  /** Ports taken by other databases' endpoints (and anything else bound on the nodes). */
  usedPorts: number[];
  /** Where database ports may be, inclusive (RS: 10000-19999). */
  portRange: { from: number; to: number };
  /** Cluster reserved_ports plus system ones: "11000" or "13000-13010". */
  reservedPorts: string[];
  /** Names of the other databases (case-sensitive, as RS names are). */
  existingNames: string[];
  /** Memory the cluster can give this database, in bytes. */
  clusterMemoryBytes: number;
  /** The installed redis-server version, e.g. "7.0.15". */
  redisVersion: string;
  /** Uids of existing databases (uid_exists); unchecked when absent. */
  existingUids?: number[];
  /** Nodes in the cluster; replication needs 2 (RS places replicas on another node). Unchecked when absent. */
  nodeCount?: number;
  /** Names (or uids) of the modules installed on the cluster; none when absent. */
  installedModules?: string[];
  /** cluster policy shards_overbooking: memory_size is then not held against the cluster's memory. */
  shardsOverbooking?: boolean;
  /** For certificate expiry; defaults to the current time. */
  now?: Date;
  /** Uids of the nodes, the roles and the Redis ACLs that exist (references are checked when given). */
  nodeUids?: number[];
  roleUids?: number[];
  redisAclUids?: number[];
  /** The largest maxclients the node's shards can run with (its open-files limit); unchecked when absent. */
  maxClients?: number;
}

/** Database names: 1-63 letters, digits and hyphens, starting and ending with a letter or digit. */
export const BDB_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** openrs's smallest shard (memory_size per shard, replicas included); a bare redis-server uses ~1 MiB. */
export const MIN_SHARD_MEMORY_BYTES = 16 * 1024 * 1024;
/** Redis's smallest replication backlog (CONFIG_REPL_BACKLOG_MIN_SIZE in server.h): CONFIG SET raises a smaller one to it. */
export const MIN_REPL_BACKLOG_BYTES = 16 * 1024;
/** LFU policies need Redis 4 (the page); LRM policies are new in Redis 8.6. */
const POLICY_MIN_VERSION: Record<string, [number, number]> = {
  'volatile-lfu': [4, 0], 'allkeys-lfu': [4, 0], 'volatile-lrm': [8, 6], 'allkeys-lrm': [8, 6],
};

type Mode = 'create' | 'update';
type Rec = Partial<Bdb> & Record<string, unknown>;
const fail = (code: BdbErrorCode, detail?: string): never => { throw new BdbRuleError(code, detail); };
const READ_ONLY = new Set<string>(BDB_READ_ONLY_FIELDS);

/** The request schemas already refuse these; repeated here for callers that skip them. */
function refuseReadOnly(body: Rec): void {
  const ro = Object.keys(body).filter((k) => READ_ONLY.has(k));
  if (ro.length) fail('read_only_field', `Read-only field(s) cannot be set: ${ro.join(', ')}`);
}

/** Checks a POST /v1/bdbs body; returns the new database's record (defaults, then the body). */
export function checkCreate(body: BdbCreate, ctx: BdbRulesContext): Partial<Bdb> {
  const b = body as Rec;
  refuseReadOnly(b);
  if (typeof b.name !== 'string' || b.name === '') fail('missing_db_name');
  if (b.memory_size === undefined) fail('missing_memory_size');
  if (b.uid !== undefined && ctx.existingUids?.includes(b.uid)) fail('uid_exists', `Database uid ${b.uid} is already in use`);
  checkName(b.name as string, ctx.existingNames);
  for (const f of ['version', 'redis_version'] as const) if (b[f] !== undefined) checkVersion(f, b[f], ctx.redisVersion);
  if (b.port !== undefined) checkPort(b.port, ctx);
  const eff = { ...bdbDefaults(), ...b } as Rec;
  syncSsl(eff, new Set(Object.keys(b)), b);
  checkConfig(eff, new Set(Object.keys(b)), 'create', ctx, undefined);
  return eff;
}

/** Checks a POST /v2/bdbs body: the bdb as for v1, and a recovery plan with one master per shard. */
export function checkCreateV2(body: BdbCreateV2, ctx: BdbRulesContext): Partial<Bdb> {
  const eff = checkCreate(body.bdb, ctx);
  const plan = body.recovery_plan;
  if (plan) {
    const masters = plan.original_bdb_shards.filter((s) => s.role === 'master').length;
    if (masters !== eff.shards_count) {
      fail('invalid_sharding', `The recovery plan has ${masters} master shard(s) but the database asks for ${eff.shards_count}`);
    }
  }
  return eff;
}

/** Checks a PUT /v1/bdbs/{uid} body against the current database; returns the merged record. */
export function checkUpdate(current: Partial<Bdb>, patch: BdbUpdate, ctx: BdbRulesContext): Partial<Bdb> {
  const cur = current as Rec;
  const p = patch as Rec;
  refuseReadOnly(p);
  const changed = new Set(Object.keys(p).filter((k) => !isDeepStrictEqual(p[k], cur[k])));
  const frozen = BDB_CREATE_ONLY_FIELDS.filter((f) => changed.has(f));
  if (frozen.length) fail('read_only_field', `Can only be set when the database is created: ${frozen.join(', ')}`);
  if (changed.has('name')) {
    if (cur.crdt) fail('name_violation');
    checkName(p.name as string, ctx.existingNames.filter((n) => n !== cur.name));
  }
  if (changed.has('sharding') && p.sharding === true && cur.crdt && !cur.sharding) fail('crdt_sharding_violation');
  const eff = { ...cur, ...p } as Rec;
  syncSsl(eff, changed, p);
  checkConfig(eff, changed, 'update', ctx, cur);
  return eff;
}

/**
 * Keeps the deprecated `ssl` and `tls_mode` saying the same thing (`ssl: true` ⇔ `tls_mode: 'enabled'`), as RS's
 * own database objects do. The one the request changes wins (tls_mode when both change); a request that sends
 * tls_mode unchanged (a GET body sent back) sets ssl from it. Before, each was stored as sent and TLS was on when
 * either said so: `{"tls_mode": "disabled"}` could not turn off TLS set with `ssl: true` (GET showed
 * tls_mode disabled while plain clients were refused), and `tls_mode: 'enabled'` showed `ssl: false`.
 */
function syncSsl(eff: Rec, changed: Set<string>, body: Rec): void {
  if (changed.has('tls_mode') || (!changed.has('ssl') && body.tls_mode !== undefined)) {
    if (eff.tls_mode !== undefined) eff.ssl = eff.tls_mode === 'enabled';
  } else if (changed.has('ssl') && typeof eff.ssl === 'boolean') {
    eff.tls_mode = eff.ssl ? 'enabled' : 'disabled';
  }
}

/**
 * A password field sent back as it was shown masked (a GET-then-PUT round trip with mask_bdb_credentials on)
 * keeps the current password, as PUT /v1/cluster does with smtp_password and PUT /v1/cluster/ldap with
 * bind_pass. Taken as a new password, the mask would replace every password of the database and lock its
 * clients out. Only a set password is ever masked, so the mask sent for an empty one is a real password.
 */
export function keepMaskedPasswords(current: Partial<Bdb>, patch: BdbUpdate): BdbUpdate {
  const out = { ...patch } as Rec;
  for (const k of MASKED_BDB_FIELDS) {
    if (out[k] === MASKED_BDB_PASSWORD && (current as Rec)[k]) delete out[k];
  }
  return out as BdbUpdate;
}

/** PUT /v1/bdbs/{uid}/{action}: the action-specific rule (the body goes through checkUpdate). */
export function checkUpdateAction(current: Partial<Bdb>, action: 'flush' | 'reset_admin_pass'): void {
  if (action === 'reset_admin_pass' && current.crdt) fail('not_supported_action_on_crdt');
}

function checkName(name: string, others: string[]): void {
  if (!BDB_NAME_RE.test(name)) {
    fail('name_violation', `Invalid database name '${name}': 1-63 letters, digits or hyphens, starting and ending with a letter or digit`);
  }
  if (others.includes(name)) fail('name_violation', `A database named '${name}' already exists`);
}

function versionParts(v: string): number[] | null {
  return /^\d+(\.\d+)*$/.test(v) ? v.split('.').map(Number) : null;
}

/**
 * A requested version must name the installed redis-server's major.minor: "7", "7.0" and
 * "7.0.0" all match 7.0.15 (the capture reports version "8.0.0" with redis_version "8.0").
 */
function checkVersion(field: string, requested: unknown, installed: string): void {
  if (!versionAvailable(requested, installed)) fail('invalid_version', versionUnavailable(field, requested, installed));
}

/** Whether `requested` names the installed redis-server's major.minor (checkVersion's rule). */
export function versionAvailable(requested: unknown, installed: string): boolean {
  const want = versionParts(String(requested));
  const have = versionParts(installed) ?? [];
  return want !== null && want.length <= 3 && want.slice(0, 2).every((n, i) => n === have[i]);
}

export const versionUnavailable = (field: string, requested: unknown, installed: string) =>
  `${field} '${String(requested)}' is not available: this cluster runs Redis ${installed}`;

function atLeast(installed: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = versionParts(installed.split('-')[0] ?? '') ?? [];
  return a > major || (a === major && b >= minor);
}

function inReserved(port: number, reserved: string[]): boolean {
  return reserved.some((r) => {
    const [a, b = a] = r.split('-').map((s) => Number(s.trim()));
    return port >= (a as number) && port <= (b as number);
  });
}

/** 0 asks for an automatic port; otherwise it must be in range, not reserved and not in use. */
function checkPort(port: number, ctx: BdbRulesContext): void {
  if (port === 0) return;
  const { from, to } = ctx.portRange;
  if (port < from || port > to) fail('port_unavailable', `Port ${port} is outside the database port range ${from}-${to}`);
  if (inReserved(port, ctx.reservedPorts)) fail('port_unavailable', `Port ${port} is reserved`);
  if (ctx.usedPorts.includes(port)) fail('port_unavailable', `Port ${port} is already in use`);
}

/** roles_permissions must name roles and Redis ACLs that exist; avoid_nodes / use_nodes must leave a node. */
function checkReferences(eff: Rec, any: (...f: string[]) => boolean, ctx: BdbRulesContext): void {
  if (any('roles_permissions')) {
    for (const rp of (eff.roles_permissions ?? []) as { role_uid: number; redis_acl_uid: number }[]) {
      if (ctx.roleUids && !ctx.roleUids.includes(rp.role_uid)) fail('role_not_exist', `roles_permissions: role ${rp.role_uid} does not exist`);
      if (ctx.redisAclUids && !ctx.redisAclUids.includes(rp.redis_acl_uid)) fail('redis_acl_not_exist', `roles_permissions: Redis ACL ${rp.redis_acl_uid} does not exist`);
    }
  }
  if (ctx.nodeUids && any('avoid_nodes', 'use_nodes')) {
    const avoid = new Set(((eff.avoid_nodes ?? []) as string[]).map(Number));
    const use = ((eff.use_nodes ?? []) as string[]).map(Number);
    const candidates = (use.length ? use.filter((n) => ctx.nodeUids!.includes(n)) : ctx.nodeUids).filter((n) => !avoid.has(n));
    if (!candidates.length) fail('insufficient_resources', 'avoid_nodes / use_nodes leave no node of the cluster to place the database on');
  }
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

/** Rules on the effective record that fire when one of their fields is in `changed`. */
function checkConfig(eff: Rec, changed: Set<string>, mode: Mode, ctx: BdbRulesContext, cur: Rec | undefined): void {
  const any = (...fields: string[]) => fields.some((f) => changed.has(f));
  const modules = (eff.module_list ?? []) as { module_name?: string; module_id?: string }[];

  if (eff.type === 'memcached' && any('type', 'module_list') && modules.length) fail('memcached_cannot_use_modules');
  if (eff.type === 'memcached' && any('type', 'roles_permissions') && !isEmpty(eff.roles_permissions)) fail('redis_acl_unsupported');
  if (eff.crdt && !eff.replication && any('crdt', 'replication')) fail('replication_violation');

  if (any('sharding', 'shards_count', 'shard_key_regex', 'oss_sharding')) {
    if ((eff.shards_count ?? 1) > 1 && !eff.sharding) fail('invalid_sharding', 'shards_count above 1 requires sharding: true');
    if (eff.sharding && isEmpty(eff.shard_key_regex) && !eff.oss_sharding) {
      fail('invalid_sharding', 'sharding: true requires shard hashing rules in shard_key_regex');
    }
  }

  if (any('memory_size', 'replication', 'shards_count')) checkMemory(eff, ctx);
  checkReferences(eff, any, ctx);
  if (eff.replication && changed.has('replication') && ctx.nodeCount !== undefined && ctx.nodeCount < 2) {
    fail(mode === 'create' ? 'invalid_replication' : 'replication_node_violation',
      `Replication needs at least 2 nodes; the cluster has ${ctx.nodeCount}`);
  }

  if (eff.data_persistence === 'snapshot' && isEmpty(eff.snapshot_policy) && any('data_persistence', 'snapshot_policy')) {
    fail('invalid_data_persistence', "data_persistence 'snapshot' requires a snapshot_policy");
  }
  if (changed.has('aof_policy') && eff.data_persistence !== 'aof' && eff.aof_policy !== bdbDefaults().aof_policy) {
    fail('invalid_data_persistence', "aof_policy applies only with data_persistence 'aof'");
  }
  if (eff.backup && any('backup', 'backup_interval') && !eff.backup_interval) fail('missing_backup_interval');
  // A schedule without a place to write to would never run (backup_status would stay '').
  if (eff.backup && any('backup', 'backup_location') && isEmpty(eff.backup_location)) {
    fail('missing_field', 'backup is enabled but backup_location is missing');
  }
  // objects/bdb: the offset "should be less than backup_interval".
  const offset = eff.backup_interval_offset;
  if (any('backup_interval', 'backup_interval_offset') && offset !== undefined && eff.backup_interval && offset >= eff.backup_interval) {
    fail('invalid_param', `backup_interval_offset (${offset}) must be less than backup_interval (${eff.backup_interval})`);
  }

  // redis-server lowers maxclients to what the open-files limit allows, then refuses to raise it again: the database
  // would fail to start (creation-failed) or to change. The default counts on create too.
  const clients = (eff.maxclients as number | undefined) ?? bdbDefaults().maxclients ?? 10000;
  if ((mode === 'create' || changed.has('maxclients')) && ctx.maxClients !== undefined && clients > ctx.maxClients) {
    fail('invalid_param', `maxclients ${clients} is more than this node's open-files limit allows: at most ${Math.max(0, ctx.maxClients)} (raise the hard limit, ulimit -Hn, of the openrs process, or set a lower maxclients)`);
  }
  // redis-server raises a smaller backlog to its minimum: the database would report a size it does not run with.
  if (changed.has('repl_backlog_size') && /^[0-9]+$/.test(String(eff.repl_backlog_size)) && Number(eff.repl_backlog_size) < MIN_REPL_BACKLOG_BYTES) {
    fail('invalid_param', `repl_backlog_size ${eff.repl_backlog_size} is below Redis's minimum of ${MIN_REPL_BACKLOG_BYTES} bytes ('auto' for the default)`);
  }
  if (changed.has('eviction_policy')) {
    const need = POLICY_MIN_VERSION[eff.eviction_policy as string];
    if (need && !atLeast(ctx.redisVersion, need)) {
      fail('eviction_policy_violation', `eviction_policy '${eff.eviction_policy}' needs Redis ${need.join('.')} or later (installed: ${ctx.redisVersion})`);
    }
  }
  if (changed.has('disabled_commands')) {
    const known = atLeast(ctx.redisVersion, [7, 2]) ? REDIS_COMMANDS : REDIS_7_0_COMMANDS;
    const problems = disabledCommandProblems({ disabled_commands: eff.disabled_commands as string | undefined }, known);
    if (problems.length) fail('invalid_disabled_commands', problems.join('; '));
  }
  if (changed.has('tags')) {
    const keys = ((eff.tags ?? []) as { key: string }[]).map((t) => t.key);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dup !== undefined) fail('invalid_bdb_tags', `Tag key '${dup}' appears more than once`);
  }
  if (any('authentication_ssl_client_certs', 'authentication_ssl_crdt_certs', 'tls_mode', 'ssl', 'enforce_client_authentication')) {
    checkCerts(eff, changed, ctx.now ?? new Date(), cur);
  }
  if (eff.oss_cluster && any('oss_cluster', 'hash_slots_policy', 'proxy_policy', 'shard_key_regex', 'module_list')) checkOssCluster(eff, modules);

  if (eff.rack_aware && changed.has('rack_aware')) {
    fail(mode === 'create' ? 'not_rack_aware' : 'rack_awareness_violation', 'openrs clusters are not rack-aware');
  }
  if (changed.has('module_list')) {
    const installed = new Set((ctx.installedModules ?? []).map((m) => m.toLowerCase()));
    const missing = modules.filter((m) => ![m.module_name, m.module_id].some((n) => n !== undefined && installed.has(n.toLowerCase())));
    if (missing.length) fail('missing_module', `Modules missing from the cluster: ${missing.map((m) => m.module_name ?? m.module_id ?? '?').join(', ')}`);
  }
  checkSupported(eff, changed, cur, modules);
}

function checkMemory(eff: Rec, ctx: BdbRulesContext): void {
  const size = eff.memory_size ?? 0;
  if (size === 0) return; // unlimited
  const copies = eff.replication ? 2 : 1;
  const perShard = size / ((eff.shards_count ?? 1) * copies);
  if (perShard < MIN_SHARD_MEMORY_BYTES) {
    const detail = `memory_size ${size} gives ${Math.floor(perShard)} bytes per shard; the minimum is ${MIN_SHARD_MEMORY_BYTES}`;
    fail(eff.replication ? 'replication_size_violation' : 'invalid_memory_size', detail);
  }
  if (!ctx.shardsOverbooking && size > ctx.clusterMemoryBytes) {
    fail('insufficient_resources', `memory_size ${size} exceeds the ${ctx.clusterMemoryBytes} bytes the cluster can provide`);
  }
}

/** The certificates of a bdb's client certificate lists; each entry may hold a bundle (every one is trusted). */
function clientCerts(rec: Rec | undefined): ParsedCertificate[] {
  const entries = [
    ...((rec?.authentication_ssl_client_certs ?? []) as { client_cert: string }[]),
    ...((rec?.authentication_ssl_crdt_certs ?? []) as { client_cert: string }[]),
  ];
  return entries.flatMap(({ client_cert }) => {
    try {
      return parseCertificates(client_cert);
    } catch (e) {
      if (e instanceof CertificateError) fail('invalid_certificate', `Malformed client certificate: ${e.message}`);
      throw e;
    }
  });
}

function checkCerts(eff: Rec, changed: Set<string>, now: Date, cur: Rec | undefined): void {
  const certs = clientCerts(eff);
  // Expiry is judged for certificates the request adds: one already stored that has since expired merely stops
  // authenticating anyone (TLS refuses it), and must not block every later change of the database (QA).
  let stored = new Set<string>();
  try {
    stored = new Set(clientCerts(cur).map((c) => c.fingerprint_sha256));
  } catch { /* a stored list that no longer parses: judge every certificate */ }
  const seen = new Set<string>();
  for (const parsed of certs) {
    if (!stored.has(parsed.fingerprint_sha256) && Date.parse(parsed.not_after) < now.getTime()) fail('certificate_expired', `Client certificate ${parsed.subject} expired on ${parsed.not_after}`);
    if (seen.has(parsed.fingerprint_sha256)) fail('duplicated_certs', `Client certificate ${parsed.subject} appears more than once`);
    seen.add(parsed.fingerprint_sha256);
  }
  // "If set to 'enabled', a certificate should be provided": enforced when the request asks for it.
  const tls = eff.tls_mode === 'enabled' || eff.ssl === true;
  if (tls && changed.has('enforce_client_authentication') && eff.enforce_client_authentication === 'enabled' && !certs.length) {
    fail('invalid_certificate', 'enforce_client_authentication is enabled but no client certificate is configured');
  }
}

/** objects/bdb (hash_slots_policy) and databases/configure/oss-cluster-api.md "Prerequisites". */
function checkOssCluster(eff: Rec, modules: { module_name?: string }[]): void {
  const why = eff.hash_slots_policy === 'legacy' ? "hash_slots_policy 'legacy'"
    : !['all-master-shards', 'all-nodes'].includes(eff.proxy_policy as string) ? `proxy_policy '${eff.proxy_policy}' (needs all-master-shards or all-nodes)`
    : modules.some((m) => m.module_name === 'timeseries') ? 'the timeseries module'
    : undefined;
  if (why) fail('invalid_oss_cluster_configuration', `OSS Cluster API cannot be enabled with ${why}`);
}

/** Fields openrs cannot honour: accepted only with the default (or, on update, the current) value. */
function checkSupported(eff: Rec, changed: Set<string>, cur: Rec | undefined, modules: { module_name?: string }[]): void {
  const defaults = bdbDefaults() as Rec;
  const listed = new Set(modules.map((m) => m.module_name?.toLowerCase()));
  const bad: string[] = [];
  for (const field of changed) {
    const rule = BDB_FIELD_RULES[field as keyof typeof BDB_FIELD_RULES];
    if (!rule || rule.support === 'supported' || rule.code) continue;
    const v = eff[field];
    const module = MODULE_FOR_CONFIG[field];
    const ok = isDeepStrictEqual(v, defaults[field]) || (cur !== undefined && isDeepStrictEqual(v, cur[field]))
      || rule.allowed?.(v) === true || (module !== undefined && listed.has(module));
    if (!ok) bad.push(`${field} (${rule.reason})`);
  }
  if (bad.length) fail('unsupported_option', `openrs does not support: ${bad.join('; ')}`);
}
