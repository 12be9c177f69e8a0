/**
 * Basic credentials of users kept in the CCS (`/users/<uid>`), with the cluster's login policy:
 * account lockout after repeated failures, password expiration, and the login events.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { KvConflictError } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import { systemClock, type Clock } from '../util/clock.js';
import { KeyedLock } from '../util/keyed-lock.js';
import type { Caller } from '../api/route-types.js';
import type { BasicVerifier } from './authenticate.js';
import { afterFailedLogin, clearedLockout, DEFAULT_LOGIN_POLICY, userStatus, withChanges, type LoginPolicy } from './login-policy.js';
import { DUMMY_HASHES, hashPassword, hashSchemeOf, redisPasswordHash, verifyPassword, type HashScheme, type PrehashContext } from './password.js';
import type { UserRecord } from './user-record.js';

/** How long a verified (password, hash) pair is trusted without re-running the hash. */
const VERIFIED_TTL_MS = 60_000;

/** What the login checks need from the cluster, read at each login (policy changes apply at once). */
export interface LoginSettings {
  policy: LoginPolicy;
  /** The scheme new hashes use; a matching password stored under another scheme is re-hashed. */
  scheme: HashScheme;
  /** For passwords given pre-hashed (password_hash_method 1). */
  clusterName?: string;
}

export interface LocalUsersOptions {
  settings?: () => Promise<LoginSettings>;
  events?: EventLog;
  clock?: Clock;
  /** Checks a password against a stored hash (default verifyPassword); tests watch which hashes a login checks. */
  verify?: typeof verifyPassword;
}

export class LocalUsers implements BasicVerifier {
  /**
   * Password hashing is deliberately slow (~50-250 ms of CPU), and RS clients send Basic
   * credentials with every request, so a successful check is remembered briefly. The key includes
   * the stored hash, so a password change or removal invalidates it at once. A cache miss that
   * verifies is also what counts as "a login" for the event log and `last_login`.
   */
  private readonly verified = new Map<string, number>();
  private readonly clock: Clock;
  private readonly verify: typeof verifyPassword;

  constructor(
    private readonly users: Collection<UserRecord>,
    private readonly opts: LocalUsersOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.verify = opts.verify ?? verifyPassword;
  }

  private cacheKey(password: string, hash: string): string {
    return `${hash}:${createHash('sha256').update(password).digest('base64')}`;
  }

  private remember(password: string, hash: string): void {
    if (this.verified.size > 1000) this.verified.clear();
    this.verified.set(this.cacheKey(password, hash), this.clock.now().getTime() + VERIFIED_TTL_MS);
  }

  /** Whether `password` matches `hash`, and whether that came from the cache. */
  private async check(password: string, hash: string, prehash?: PrehashContext): Promise<{ ok: boolean; cached: boolean }> {
    const until = this.verified.get(this.cacheKey(password, hash));
    if (until !== undefined && until > this.clock.now().getTime()) return { ok: true, cached: true };
    const ok = await this.verify(password, hash, prehash);
    if (ok) this.remember(password, hash);
    return { ok, cached: false };
  }

  async findByLogin(login: string): Promise<UserRecord | undefined> {
    // An empty login is nobody's, even if a record has an empty email (certificate users may).
    if (login === '') return undefined;
    const l = login.toLowerCase();
    return (await this.users.list()).find((u) => u.email.toLowerCase() === l || u.name.toLowerCase() === l);
  }

  private async settings(): Promise<LoginSettings> {
    return this.opts.settings ? this.opts.settings() : { policy: DEFAULT_LOGIN_POLICY, scheme: 'scrypt' };
  }

  async verifyBasic(login: string, password: string, req: FastifyRequest): Promise<Caller | undefined> {
    const settings = await this.settings();
    const user = await this.regularUser(login, password, settings.scheme);
    if (!user) return undefined;
    if (settings.policy.lockoutThreshold <= 0) return this.verifyUser(user, login, password, settings, req);
    // With a lockout, one user's logins are checked one at a time, each seeing the failures of the ones before: a
    // burst of parallel guesses all read the account unlocked and were all checked (QA: 30 of them, threshold 3).
    // Read again inside: an attempt before this one may have locked it (or the user may be gone).
    return this.attempts.run(user.uid, async () => {
      const fresh = await this.regularUser(login, password, settings.scheme);
      return fresh && this.verifyUser(fresh, login, password, settings, req);
    });
  }
  private readonly attempts = new KeyedLock<number>();

  /**
   * The user `login` names if it logs in with a password. For anyone else the password is hashed anyway, with the
   * cluster's current scheme (which new and converted passwords use), so that the response time does not reveal
   * which logins exist.
   */
  private async regularUser(login: string, password: string, scheme: HashScheme): Promise<UserRecord | undefined> {
    const user = await this.findByLogin(login);
    if (user?.auth_method === 'regular') return user;
    await this.verify(password, DUMMY_HASHES[scheme]);
    return undefined;
  }

  private async verifyUser(user: UserRecord, login: string, password: string, settings: LoginSettings, req: FastifyRequest): Promise<Caller> {
    const { policy, scheme, clusterName } = settings;
    const now = this.clock.now().getTime();
    // A locked account is refused whatever the password, and the password is not checked (a dummy hash keeps the
    // time alike): answering a right one differently from a wrong one let a guesser go on while locked and learn
    // the password from the answer (QA, session 10).
    if (userStatus(user, policy, now) === 'locked') {
      await this.verify(password, DUMMY_HASHES[scheme]);
      this.event('user_login_failed', user, { reason: 'locked' }, 'WARNING');
      req.log.info({ login }, 'authentication refused: account locked');
      throw new RsError('unauthorized', policy.lockoutDuration === 0
        ? 'The account is locked after too many failed logins; an admin must reset its password to unlock it'
        : `The account is locked after too many failed logins; try again later (lock lasts ${policy.lockoutDuration} s) or ask an admin to reset the password`);
    }
    let matched: string | undefined;
    let cached = false;
    const prehash = { logins: [user.email, user.name], clusterName: clusterName ?? '' };
    for (const h of user.password_hashes) {
      const r = await this.check(password, h, prehash);
      if (r.ok) {
        matched = h;
        cached = r.cached;
        break;
      }
    }
    if (matched === undefined) {
      await this.failed(user, policy, now, req);
      throw new RsError('unauthorized', 'Invalid credentials');
    }
    // Expiry is told only to callers that know the password. Its events are written once per cache window, like
    // successes.
    const status = userStatus(user, policy, now);
    if (status === 'password_expired' && !req.routeOptions?.config?.allowExpiredPassword) {
      if (!cached) this.event('user_login_failed', user, { reason: 'password_expired' }, 'WARNING');
      req.log.info({ login }, 'authentication refused: password expired');
      throw new RsError('password_expired', 'The password has expired: set a new one with PUT /v1/users/password (allowed with the expired password) or ask an admin to reset it');
    }
    // A cached success still clears what an earlier lock left behind (the pair may have been
    // cached while the account was locked), so the record's status does not stay stale.
    const stale = user.failed_logins !== undefined || user.locked_at !== undefined || user.status !== status;
    if (!cached || stale) await this.succeeded(user, matched, password, status, scheme, now, !cached);
    return { uid: user.uid, name: user.name, email: user.email, role: user.role, role_uids: user.role_uids };
  }

  private event(type: string, user: UserRecord, fields: Record<string, unknown>, severity: 'INFO' | 'WARNING'): void {
    this.opts.events?.write(type, { user_uid: user.uid, user_email: user.email, ...fields }, severity);
  }

  private async failed(user: UserRecord, policy: LoginPolicy, now: number, req: FastifyRequest): Promise<void> {
    req.log.info({ login: user.email }, 'authentication failed');
    this.event('user_login_failed', user, { reason: 'invalid_password' }, 'WARNING');
    const updated = await this.updateRecord(user.uid, (u) => {
      const { changes } = afterFailedLogin(u, policy, now);
      return Object.keys(changes).length ? withChanges(u, changes) : undefined;
    });
    if (updated && updated.locked_at === now) {
      this.event('user_locked', updated, { failed_logins: updated.failed_logins, lockout_duration: policy.lockoutDuration }, 'WARNING');
    }
  }

  /**
   * A verified login (not from the cache): event, `last_login`, cleared failure count, and the
   * matching password re-hashed when the cluster's hashing algorithm changed since it was set
   * (openrs cannot re-hash without the password; docs/notes-users-roles.md).
   */
  private async succeeded(user: UserRecord, matched: string, password: string, status: string, scheme: HashScheme, now: number, isLogin: boolean): Promise<void> {
    if (isLogin) this.event('user_login_succeeded', user, {}, 'INFO');
    const rehashed = hashSchemeOf(matched) !== scheme ? await hashPassword(password, scheme) : undefined;
    const updated = await this.updateRecord(user.uid, (u) => {
      const changes: Partial<UserRecord> = clearedLockout(u);
      if (isLogin) changes.last_login = Math.floor(now / 1000);
      if (status !== 'active') changes.status = status as UserRecord['status'];
      const i = u.password_hashes.indexOf(matched);
      if (rehashed && i >= 0) changes.password_hashes = u.password_hashes.map((h, j) => (j === i ? rehashed : h));
      // A pre-hashed password becomes usable for databases once its plain form is known.
      if (rehashed && matched.startsWith('prehash-sha256$')) {
        const sha = redisPasswordHash(password);
        if (!(u.db_password_sha256 ?? []).includes(sha)) changes.db_password_sha256 = [...(u.db_password_sha256 ?? []), sha];
      }
      return withChanges(u, changes);
    });
    // The next request verifies against the new hash: let it hit the cache, not count as a login.
    if (rehashed && updated?.password_hashes.includes(rehashed)) this.remember(password, rehashed);
  }

  /** Read-modify-write with compare-and-set; gives up quietly after a few conflicts (bookkeeping only). */
  private async updateRecord(uid: number, fn: (u: UserRecord) => UserRecord | undefined): Promise<UserRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.users.get(uid);
      if (!cur) return undefined;
      const next = fn(cur.value);
      if (!next) return cur.value;
      try {
        await this.users.kvPut(next, cur.modRevision);
        return next;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
    return undefined;
  }
}
