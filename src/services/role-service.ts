/**
 * Roles (requests/roles, objects/role.md), kept at `/roles/<uid>`. A role's `management` is
 * what its users may do through the REST API: users keep their effective role denormalized
 * (UserRecord.role), so a change of `management` rewrites the affected users in the same
 * transaction. Roles in use (by users, LDAP mappings or databases' roles_permissions) cannot be
 * deleted; the predefined roles cannot be changed at all.
 */
import type { Caller } from '../api/route-types.js';
import type { UserRecord } from '../auth/user-record.js';
import { RsError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { Role, RoleCreate, RoleUpdate } from '../schemas/role.js';
import type { KvBackend, Op } from '../store/kv.js';
import type { Collection, Versioned } from '../store/object-store.js';
import { accessControlOps, builtinRoleFor, READ_ONLY_ROLE_UIDS } from './access-defaults.js';
import { effectiveRole } from './user-rules.js';

/** Where databases and LDAP mappings are kept (bdb.md roles_permissions, ldap_mapping.md role_uids). */
export const BDBS_PREFIX = '/bdbs/';
export const LDAP_MAPPINGS_PREFIX = '/ldap_mappings/';

type Opts = { dryRun?: boolean; actor: Caller };
type RolesPermission = { role_uid?: number; redis_acl_uid?: number };

/** bdbs whose roles_permissions mention a matching entry (none exist before databases land; checked anyway). */
export async function bdbsUsing(kv: KvBackend, match: (p: RolesPermission) => boolean): Promise<string[]> {
  const bdbs = await kv.list<{ uid?: number; roles_permissions?: RolesPermission[] }>(BDBS_PREFIX);
  return bdbs.filter((e) => e.value?.roles_permissions?.some(match)).map((e) => String(e.value.uid ?? e.key.slice(BDBS_PREFIX.length)));
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class RoleService {
  constructor(
    private readonly kv: KvBackend,
    private readonly roles: Collection<Role>,
    private readonly users: Collection<UserRecord>,
    private readonly events: EventLog,
  ) {}

  /**
   * Clusters bootstrapped before roles existed get the predefined ones at start, and their users
   * (role only, empty role_uids) the predefined role of their management role.
   */
  async ensureDefaults(): Promise<void> {
    if (await this.kv.get('/counters/roles')) return;
    const ops = accessControlOps();
    const compares = ops.map((op) => ({ key: op.key, modRevision: 0 }));
    for (const e of await this.kv.list<UserRecord>(this.users.prefix)) {
      if (e.value.role_uids?.length) continue;
      ops.push(this.users.putOp({ ...e.value, role_uids: [builtinRoleFor(e.value.role).uid] }));
      compares.push({ key: e.key, modRevision: e.modRevision });
    }
    // Create-only: if any of these keys exists already (or a user changed meanwhile), leave everything as it is.
    await this.kv.txn(compares, ops);
  }

  list(): Promise<Role[]> {
    return this.roles.list();
  }

  private async load(uid: number): Promise<Versioned<Role>> {
    const r = await this.roles.get(uid);
    if (!r) throw new RsError('role_not_exist', `Role ${uid} does not exist`);
    return r;
  }

  async get(uid: number): Promise<Role> {
    return (await this.load(uid)).value;
  }

  private async check(r: Role): Promise<void> {
    if (r.resources?.length && r.management !== 'db_member' && r.management !== 'db_viewer') {
      throw new RsError('invalid_param', `resources can limit only db_member and db_viewer roles, not '${r.management}'`);
    }
    if ((await this.roles.list()).some((o) => o.uid !== r.uid && sameName(o.name, r.name))) {
      throw new RsError('name_already_exists', `A role named '${r.name}' already exists`);
    }
  }

  private event(type: string, r: Role, actor: Caller, fields: Record<string, unknown> = {}): void {
    this.events.write(type, { role_uid: r.uid, role_name: r.name, management: r.management, ...fields, actor_uid: actor.uid, actor: actor.email || actor.name });
  }

  async create(body: RoleCreate, opts: Opts): Promise<Role> {
    const missing = (['name', 'management'] as const).filter((k) => body[k] === undefined);
    if (missing.length) throw new RsError('missing_field', `Missing field(s): ${missing.join(', ')}`);
    if (body.management === 'admin' && opts.actor.role !== 'admin') throw new RsError('insufficient_permissions', 'Only an admin may create a role with admin management');
    const draft = { ...body, uid: body.uid ?? 0 } as Role;
    await this.check(draft);
    if (opts.dryRun) {
      const { uid: _u, ...rest } = draft;
      return rest as Role;
    }
    for (;;) {
      const uid = body.uid ?? (await this.roles.allocateUid());
      const role = { ...draft, uid };
      const res = await this.kv.txn([{ key: this.roles.key(uid), modRevision: 0 }], [this.roles.putOp(role)]);
      if (res.succeeded) {
        this.event('role_created', role, opts.actor);
        return role;
      }
      if (body.uid !== undefined) throw new RsError('uid_already_exists', `A role with uid ${body.uid} already exists`);
    }
  }

  async update(uid: number, body: RoleUpdate, opts: Opts): Promise<Role> {
    const { value: cur, modRevision } = await this.load(uid);
    if (READ_ONLY_ROLE_UIDS.has(uid)) throw new RsError('read_only_object', `Role '${cur.name}' is predefined and cannot be changed`);
    if (body.uid !== undefined && body.uid !== uid) throw new RsError('invalid_param', `uid ${body.uid} does not match the URL (${uid})`);
    if ((cur.management === 'admin' || body.management === 'admin') && opts.actor.role !== 'admin') {
      throw new RsError('insufficient_permissions', 'Only an admin may change a role to or from admin management');
    }
    const next = { ...cur, ...body, uid } as Role;
    if (body.resources?.length === 0) delete next.resources;
    await this.check(next);

    // Users holding the role get their effective role recomputed, in the same transaction.
    const ops: Op[] = [this.roles.putOp(next)];
    const compares = [{ key: this.roles.key(uid), modRevision }];
    if (next.management !== cur.management) {
      const all = new Map((await this.roles.list()).map((r) => [r.uid, r.uid === uid ? next : r]));
      const users = await this.kv.list<UserRecord>(this.users.prefix);
      const changed = users
        .filter((e) => e.value.role_uids?.includes(uid))
        .map((e) => ({ e, role: effectiveRole(e.value.role_uids.map((r) => all.get(r)).filter((r): r is Role => r !== undefined)) }))
        .filter((x) => x.role !== x.e.value.role);
      const admins = users.filter((e) => e.value.role === 'admin').length;
      const demoted = changed.filter((x) => x.e.value.role === 'admin' && x.role !== 'admin').length;
      if (admins > 0 && demoted === admins) {
        throw new RsError('change_last_admin_role_not_allowed', `Changing role '${cur.name}' would leave no user with the admin role`);
      }
      for (const x of changed) {
        ops.push(this.users.putOp({ ...x.e.value, role: x.role }));
        compares.push({ key: x.e.key, modRevision: x.e.modRevision });
      }
    }
    if (opts.dryRun) return next;
    const res = await this.kv.txn(compares, ops);
    if (!res.succeeded) throw new RsError('config_edit_conflict', `Role ${uid} or one of its users was changed concurrently; retry`);
    this.event('role_updated', next, opts.actor, { changed: Object.keys(body).filter((k) => k !== 'uid') });
    return next;
  }

  async delete(uid: number, opts: Opts): Promise<void> {
    const { value: cur, modRevision } = await this.load(uid);
    if (READ_ONLY_ROLE_UIDS.has(uid)) throw new RsError('read_only_object', `Role '${cur.name}' is predefined and cannot be deleted`);
    if (cur.management === 'admin' && opts.actor.role !== 'admin') throw new RsError('insufficient_permissions', 'Only an admin may delete a role with admin management');
    const users = (await this.users.list()).filter((u) => u.role_uids?.includes(uid)).map((u) => u.uid);
    const mappings = (await this.kv.list<{ uid: number; role_uids?: number[] }>(LDAP_MAPPINGS_PREFIX)).filter((e) => e.value.role_uids?.includes(uid)).map((e) => e.value.uid);
    const bdbs = await bdbsUsing(this.kv, (p) => p.role_uid === uid);
    const uses = [
      users.length ? `users ${users.join(', ')}` : '',
      mappings.length ? `LDAP mappings ${mappings.join(', ')}` : '',
      bdbs.length ? `databases ${bdbs.join(', ')} (roles_permissions)` : '',
    ].filter(Boolean);
    if (uses.length) throw new RsError('role_in_use', `Role '${cur.name}' is in use by ${uses.join('; ')}`);
    if (opts.dryRun) return;
    if (!(await this.kv.txn([{ key: this.roles.key(uid), modRevision }], [this.roles.deleteOp(uid)])).succeeded) {
      throw new RsError('config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
    }
    this.event('role_deleted', cur, opts.actor);
  }
}
