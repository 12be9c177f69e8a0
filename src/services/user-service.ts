/**
 * Users (requests/users/_index.md, password.md): CRUD, passwords (several per user), the
 * password policy, role resolution and the last-admin rule. Every change is written to the event
 * log (user_created / user_updated / user_deleted, clusters/logging/alerts-events.md); no event,
 * response or log line carries a password or a hash.
 */
import { randomBytes } from 'node:crypto';
import type { Caller } from '../api/route-types.js';
import { clearedLockout, isLocked, loginPolicyOf, userStatus, withChanges, type LoginPolicy } from '../auth/login-policy.js';
import type { LoginSettings } from '../auth/local-users.js';
import { passwordProblem } from '../auth/password-policy.js';
import { HASH_SCHEME_FOR_ALGORITHM, hashPassword, prehashedEntry, redisPasswordHash, verifyPassword, type HashingAlgorithm } from '../auth/password.js';
import { roleAllows, type ManagementRole } from '../auth/permissions.js';
import type { UserRecord } from '../auth/user-record.js';
import { RsError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { ClusterSettings } from '../schemas/cluster-settings.js';
import type { Role } from '../schemas/role.js';
import { USER_NAME_PATTERN, type PasswordDelete, type PasswordSet, type User, type UserCreate, type UserUpdate } from '../schemas/user.js';
import { KvConflictError, type KvBackend } from '../store/kv.js';
import type { Collection, Singleton, Versioned } from '../store/object-store.js';
import { rsTime, type Clock } from '../util/clock.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { builtinRoleFor } from './access-defaults.js';
import type { ClusterRecord } from './cluster-defaults.js';
import { checkUnique, effectiveRole, isPrehashed, prehashRefused, SELF_SERVICE_FIELDS, USER_READ_ONLY_FIELDS, userView } from './user-rules.js';

export interface UserServiceDeps {
  kv: KvBackend;
  users: Collection<UserRecord>;
  roles: Collection<Role>;
  cluster: Singleton<ClusterRecord>;
  policy: Singleton<ClusterSettings>;
  events: EventLog;
  clock: Clock;
}

type Opts = { dryRun?: boolean; actor: Caller };
const NAME_RE = new RegExp(USER_NAME_PATTERN);
const isSelf = (actor: Caller, u: UserRecord) => actor.uid === u.uid && actor.email.toLowerCase() === u.email.toLowerCase();

export class UserService {
  constructor(private readonly d: UserServiceDeps) {}

  /** Login policy and hashing scheme, as LocalUsers reads them at every login. */
  async loginSettings(): Promise<LoginSettings> {
    const [c, p] = await Promise.all([this.d.cluster.get(), this.d.policy.get()]);
    return {
      policy: loginPolicyOf(c?.value, p?.value),
      scheme: HASH_SCHEME_FOR_ALGORITHM[c?.value.password_hashing_algorithm ?? 'SHA-256'],
      clusterName: c?.value.name ?? '',
    };
  }

  private async now(): Promise<{ nowMs: number; policy: LoginPolicy }> {
    return { nowMs: this.d.clock.now().getTime(), policy: (await this.loginSettings()).policy };
  }

  private view(u: UserRecord, policy: LoginPolicy, nowMs: number): User {
    return userView(u, userStatus(u, policy, nowMs));
  }

  private event(type: string, u: UserRecord, actor: Caller, fields: Record<string, unknown> = {}): void {
    this.d.events.write(type, { user_uid: u.uid, user_email: u.email, ...fields, actor_uid: actor.uid, actor: actor.email || actor.name });
  }

  async list(): Promise<User[]> {
    const { nowMs, policy } = await this.now();
    return (await this.d.users.list()).map((u) => this.view(u, policy, nowMs));
  }

  private async load(uid: number): Promise<Versioned<UserRecord>> {
    const rec = await this.d.users.get(uid);
    if (!rec) throw new RsError('user_not_exist', `User ${uid} does not exist`);
    return rec;
  }

  /** GET /v1/users/{uid}: view_user_info, or the caller's own account (openapi: any authenticated user). */
  async get(uid: number, actor: Caller): Promise<User> {
    const u = (await this.load(uid)).value;
    if (!isSelf(actor, u) && !roleAllows(actor.role, 'view_user_info')) throw new RsError('insufficient_permissions', `Role '${actor.role}' may view only its own user`);
    const { nowMs, policy } = await this.now();
    return this.view(u, policy, nowMs);
  }

  /** `role` / `role_uids` → both, consistent (user.md: role_uids decides; role alone maps to its builtin role). */
  private async resolveRoles(body: { role?: ManagementRole; role_uids?: number[] }): Promise<{ role: ManagementRole; role_uids: number[] } | undefined> {
    if (body.role_uids !== undefined) {
      const found = await Promise.all(body.role_uids.map((r) => this.d.roles.get(r)));
      const unknown = body.role_uids.filter((_, i) => !found[i]);
      if (unknown.length) throw new RsError('invalid_param', `No such role(s): ${unknown.join(', ')}`);
      const role = effectiveRole(found.map((f) => f!.value));
      if (body.role !== undefined && body.role !== role) {
        throw new RsError('invalid_param', `role '${body.role}' does not match role_uids, which give '${role}'; send only role_uids`);
      }
      return { role, role_uids: body.role_uids };
    }
    if (body.role !== undefined) return { role: body.role, role_uids: [builtinRoleFor(body.role).uid] };
    return undefined;
  }

  private async checkPassword(password: string, email: string): Promise<void> {
    const c = (await this.d.cluster.get())?.value;
    const problem = passwordProblem(password, email, { complexity: c?.password_complexity ?? false, minLength: c?.password_min_length ?? 8 });
    if (problem) throw new RsError('password_not_complex', problem);
  }

  private async hash(password: string): Promise<string> {
    return hashPassword(password, (await this.loginSettings()).scheme);
  }

  private async hasPassword(u: UserRecord, password: string): Promise<boolean> {
    for (const h of u.password_hashes) if (await verifyPassword(password, h)) return true;
    return false;
  }

  private async assertOtherAdmin(u: UserRecord, code: 'change_last_admin_role_not_allowed' | 'delete_last_admin_not_allowed'): Promise<void> {
    if (!(await this.d.users.list()).some((o) => o.uid !== u.uid && o.role === 'admin')) {
      throw new RsError(code, `User ${u.uid} is the last user with the admin role; at least one must remain`);
    }
  }

  async create(body: UserCreate, opts: Opts): Promise<User> {
    const prehashed = isPrehashed(body);
    const auth_method = body.auth_method ?? 'regular';
    const email = body.email ?? '';
    const missing: string[] = [];
    if (auth_method === 'certificate' ? !body.certificate_subject_line : !email) missing.push(auth_method === 'certificate' ? 'certificate_subject_line' : 'email');
    if (auth_method === 'regular' && body.password === undefined) missing.push('password');
    const name = body.name ?? (email || body.certificate_subject_line || '');
    // name defaults to the email (users POST: "must have an email, password, and role"): it is missing only
    // when given empty or when what it defaults to is there.
    if (!NAME_RE.test(name) && (body.name !== undefined || !missing.length)) missing.push('name');
    if (missing.length) throw new RsError('missing_field', `Missing field(s): ${missing.join(', ')}`);
    if (auth_method !== 'regular' && body.password !== undefined) throw new RsError('invalid_param', `A password is only for users with auth_method 'regular' (this one: '${auth_method}')`);
    // user.md: the default management role is db_viewer.
    const roles = (await this.resolveRoles(body)) ?? (await this.resolveRoles({ role: 'db_viewer' }))!;
    if (roles.role === 'admin' && opts.actor.role !== 'admin') throw new RsError('insufficient_permissions', 'Only an admin may create a user with the admin role');
    checkUnique(await this.d.users.list(), { uid: body.uid ?? 0, email, name }, 409);
    // A pre-hashed password cannot be checked against the complexity rules.
    if (body.password !== undefined && !prehashed) await this.checkPassword(body.password, email);

    const { uid: _u, password, password_hash_method: _p, role: _r, role_uids: _ru, ...fields } = body;
    const draft: UserRecord = {
      ...fields, uid: body.uid ?? 0, name, email, ...roles, auth_method, status: 'active', email_alerts: body.email_alerts ?? true,
      password_issue_date: rsTime(this.d.clock.now()), password_hashes: [], token_key: randomBytes(8).toString('hex'),
    };
    const { nowMs, policy } = await this.now();
    if (opts.dryRun) {
      const { uid: _d, ...v } = this.view(draft, policy, nowMs);
      return v as User;
    }
    if (password !== undefined) {
      draft.password_hashes = [prehashed ? prehashedEntry(password) : await this.hash(password)];
      draft.db_password_sha256 = prehashed ? [] : [redisPasswordHash(password)];
    }
    return this.serial(async () => {
      // Again, now that no other change to users can come in between (the hash above took a while).
      checkUnique(await this.d.users.list(), { uid: body.uid ?? 0, email, name }, 409);
      for (;;) {
        const uid = body.uid ?? (await this.d.users.allocateUid());
        const rec = { ...draft, uid };
        const res = await this.d.kv.txn([{ key: this.d.users.key(uid), modRevision: 0 }], [this.d.users.putOp(rec)]);
        if (res.succeeded) {
          this.event('user_created', rec, opts.actor, { role: rec.role, role_uids: rec.role_uids });
          return this.view(rec, policy, nowMs);
        }
        if (body.uid !== undefined) throw new RsError('uid_already_exists', `A user with uid ${body.uid} already exists`);
      }
    });
  }

  /**
   * Run the checks that span users (unique email and name, at least one admin) and the write they allow with no
   * other such change in between: parallel requests that each passed the checks made duplicate users, or left
   * no admin (QA). One manager process writes users, so an in-process queue is enough.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run('users', fn);
  }

  private readonly lock = new KeyedLock<'users'>();

  async update(uid: number, body: UserUpdate, opts: Opts): Promise<User> {
    const { value: cur, modRevision } = await this.load(uid);
    const { actor } = opts;
    const self = isSelf(actor, cur);
    const privileged = roleAllows(actor.role, 'update_user');
    const fields = Object.keys(body).filter((k) => !(k === 'uid' && body.uid === uid));
    if (!privileged) {
      const other = fields.filter((k) => !SELF_SERVICE_FIELDS.has(k));
      if (!self) throw new RsError('insufficient_permissions', `Role '${actor.role}' may change only its own user`);
      if (other.length) throw new RsError('insufficient_permissions', `Without update_user you may change only your own name, password and alert settings, not: ${other.join(', ')}`);
    } else if (!self && cur.role === 'admin' && actor.role !== 'admin') {
      throw new RsError('insufficient_permissions', 'Only an admin may change a user with the admin role');
    }
    if (body.uid !== undefined && body.uid !== uid) throw new RsError('invalid_param', `uid ${body.uid} does not match the URL (${uid})`);
    const ro = USER_READ_ONLY_FIELDS.filter((k) => body[k] !== undefined);
    if (ro.length) throw new RsError('read_only_field', `Read-only field(s) cannot be changed: ${ro.join(', ')}`);
    const prehashed = isPrehashed(body);

    const roles = await this.resolveRoles(body);
    if (roles?.role === 'admin' && actor.role !== 'admin' && cur.role !== 'admin') throw new RsError('insufficient_permissions', 'Only an admin may grant the admin role');
    const { uid: _u, password, password_hash_method: _p, role: _r, role_uids: _ru, status: _s, password_issue_date: _d, last_login: _l, ...plain } = body;
    let next: UserRecord = { ...cur, ...plain, ...roles };
    if (next.auth_method === 'certificate' && !next.certificate_subject_line) throw new RsError('missing_field', 'Missing field(s): certificate_subject_line');
    // As on POST: a login matches the email, so only certificate users may go without one (an
    // empty email would also escape the uniqueness check and match an empty Basic username).
    if (next.auth_method !== 'certificate' && !next.email) throw new RsError('missing_field', 'Missing field(s): email');
    if (next.auth_method !== 'regular' && password !== undefined) throw new RsError('invalid_param', `A password is only for users with auth_method 'regular'`);
    if (next.auth_method === 'regular' && password === undefined && next.password_hashes.length === 0) throw new RsError('missing_field', 'Missing field(s): password');
    if (cur.role === 'admin' && next.role !== 'admin') await this.assertOtherAdmin(cur, 'change_last_admin_role_not_allowed');
    if (next.email !== cur.email || next.name !== cur.name) checkUnique(await this.d.users.list(), next, 400);

    const { nowMs, policy } = await this.now();
    const wasLocked = isLocked(cur, policy, nowMs);
    if (password !== undefined) {
      if (!prehashed) await this.checkPassword(password, next.email);
      if (!prehashed && (await this.hasPassword(cur, password))) throw new RsError('new_password_same_as_current', 'The new password is identical to a current password');
      // login-lockout.md: resetting the password is how an admin unlocks an account.
      next = withChanges(next, { ...clearedLockout(next), password_issue_date: rsTime(this.d.clock.now()) });
      if (!opts.dryRun) {
        next.password_hashes = [prehashed ? prehashedEntry(password) : await this.hash(password)];
        next.db_password_sha256 = prehashed ? [] : [redisPasswordHash(password)];
      }
    }
    if (opts.dryRun) return this.view(next, policy, nowMs);
    await this.serial(async () => {
      if (cur.role === 'admin' && next.role !== 'admin') await this.assertOtherAdmin(cur, 'change_last_admin_role_not_allowed');
      if (next.email !== cur.email || next.name !== cur.name) checkUnique(await this.d.users.list(), next, 400);
      await this.put(next, modRevision);
    });
    this.event('user_updated', next, actor, { changed: fields.filter((k) => k !== 'password_hash_method') });
    if (password !== undefined && wasLocked) this.event('user_unlocked', next, actor);
    return this.view(next, policy, nowMs);
  }

  async delete(uid: number, actor: Caller): Promise<void> {
    const { value: cur, modRevision } = await this.load(uid);
    if (cur.role === 'admin' && actor.role !== 'admin') throw new RsError('insufficient_permissions', 'Only an admin may delete a user with the admin role');
    await this.serial(async () => {
      if (cur.role === 'admin') await this.assertOtherAdmin(cur, 'delete_last_admin_not_allowed');
      try {
        await this.d.kv.delete(this.d.users.key(uid), modRevision);
      } catch (e) {
        if (e instanceof KvConflictError) throw new RsError('config_edit_conflict', `User ${uid} was changed concurrently; retry`);
        throw e;
      }
    });
    this.event('user_deleted', cur, actor);
  }

  /** The user a /v1/users/password request is about (password.md): `username`, else the caller. */
  private async passwordTarget(username: string | undefined, actor: Caller): Promise<Versioned<UserRecord>> {
    let rec: Versioned<UserRecord> | undefined;
    if (username === undefined) {
      rec = await this.d.users.get(actor.uid);
      if (rec && !isSelf(actor, rec.value)) rec = undefined;
    } else {
      const l = username.toLowerCase();
      const u = (await this.d.users.list()).find((o) => o.email.toLowerCase() === l || o.name.toLowerCase() === l);
      // A non-admin learns nothing about other accounts, not even whether one exists (QA: 404 vs 403).
      if (actor.role !== 'admin' && !(u && isSelf(actor, u))) throw new RsError('unauthorized_action', "Only an admin may change another user's passwords");
      rec = u && (await this.d.users.get(u.uid));
    }
    if (!rec) throw new RsError('user_not_exist', username === undefined ? 'The authenticated user is not kept in the cluster' : `User '${username}' does not exist`);
    if (!isSelf(actor, rec.value) && actor.role !== 'admin') throw new RsError('unauthorized_action', "Only an admin may change another user's passwords");
    if (rec.value.auth_method !== 'regular') throw new RsError('invalid_param', `User '${rec.value.email || rec.value.name}' does not sign in with a password`);
    return rec;
  }

  /** PUT (replace all) or POST (add one) /v1/users/password. */
  async setPassword(mode: 'replace' | 'add', body: PasswordSet, actor: Caller): Promise<void> {
    if (body.password_hash_method !== undefined) throw prehashRefused();
    const { value: cur, modRevision } = await this.passwordTarget(body.username, actor);
    await this.checkPassword(body.new_password, cur.email);
    if (await this.hasPassword(cur, body.new_password)) throw new RsError('new_password_same_as_current', 'The new password is identical to one of the current passwords');
    const { nowMs, policy } = await this.now();
    const wasLocked = isLocked(cur, policy, nowMs);
    const h = await this.hash(body.new_password);
    const sha = redisPasswordHash(body.new_password);
    const issued = { password_issue_date: rsTime(this.d.clock.now()) };
    const next = mode === 'replace'
      ? withChanges(cur, { ...clearedLockout(cur), ...issued, password_hashes: [h], db_password_sha256: [sha] })
      : { ...cur, ...issued, password_hashes: [...cur.password_hashes, h], db_password_sha256: [...(cur.db_password_sha256 ?? []), sha] };
    await this.put(next, modRevision);
    this.event('user_updated', next, actor, { changed: ['password'], password_change: mode === 'replace' ? 'replaced' : 'added' });
    if (mode === 'replace' && wasLocked) this.event('user_unlocked', next, actor);
  }

  /** DELETE /v1/users/password. */
  async deletePassword(body: PasswordDelete, actor: Caller): Promise<void> {
    const { value: cur, modRevision } = await this.passwordTarget(body.username, actor);
    if (cur.password_hashes.length <= 1) throw new RsError('cannot_delete_last_password', 'Cannot delete the last password of a user');
    let keep: string[] | undefined;
    for (const [i, h] of cur.password_hashes.entries()) {
      if (await verifyPassword(body.old_password, h)) keep = cur.password_hashes.filter((_, j) => j !== i);
    }
    if (!keep) throw new RsError('invalid_param', "old_password is not one of the user's passwords");
    const gone = redisPasswordHash(body.old_password);
    const next = { ...cur, password_hashes: keep, ...(cur.db_password_sha256 ? { db_password_sha256: cur.db_password_sha256.filter((h) => h !== gone) } : {}) };
    await this.put(next, modRevision);
    this.event('user_updated', next, actor, { changed: ['password'], password_change: 'removed' });
  }

  private async put(u: UserRecord, modRevision: number): Promise<void> {
    try {
      await this.d.users.kvPut(u, modRevision);
    } catch (e) {
      if (e instanceof KvConflictError) throw new RsError('config_edit_conflict', `User ${u.uid} was changed concurrently; retry`);
      throw e;
    }
  }

  /**
   * PATCH /v1/cluster/change_password_hashing_algorithm. Hashes cannot be re-hashed without the
   * password: new passwords use the new algorithm at once, and each stored password is converted
   * at its user's next successful login (LocalUsers). Existing passwords keep working meanwhile.
   */
  async changeHashingAlgorithm(algorithm: HashingAlgorithm, actor: Caller): Promise<void> {
    const cur = await this.d.cluster.get();
    if (!cur) throw new RsError('node_not_bootstrapped');
    if ((cur.value.password_hashing_algorithm ?? 'SHA-256') === algorithm) {
      throw new RsError('password_hashing_algorithm_already_set', `The password hashing algorithm is already ${algorithm}`);
    }
    try {
      await this.d.cluster.put({ ...cur.value, password_hashing_algorithm: algorithm }, cur.modRevision);
    } catch (e) {
      if (e instanceof KvConflictError) throw new RsError('config_edit_conflict');
      throw e;
    }
    this.d.events.write('cluster_updated', { changed: ['password_hashing_algorithm'], password_hashing_algorithm: algorithm, actor_uid: actor.uid, actor: actor.email || actor.name });
  }
}
