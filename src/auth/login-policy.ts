/**
 * Sign-in status and account lockout, as pure functions of a user record, the cluster's policy
 * and the time (security/access-control/manage-users/login-lockout.md, password-expiration.md,
 * objects/cluster_settings.md). LocalUsers applies them to Basic logins and the users API reports
 * the resulting status; readers of raw `/users/<uid>` records (e.g. the JWT verifier) should call
 * `userStatus` too, since a lock runs out and a password expires without any write.
 */
import type { UserRecord, UserStatus } from './user-record.js';

export interface LoginPolicy {
  /** Failed logins before the account locks; 0 turns lockout off. */
  lockoutThreshold: number;
  /** Seconds a lock lasts; 0 = until an admin resets the password. */
  lockoutDuration: number;
  /** Seconds after the last failure at which the failure counter starts again from 0 (0 = never). */
  counterResetAfter: number;
  /** Days a password stays valid; 0 = forever. */
  expirationDays: number;
}

/** RS's defaults (login-lockout.md: 5 failures within 15 minutes lock the account for 30 minutes). */
export const DEFAULT_LOGIN_POLICY: LoginPolicy = { lockoutThreshold: 5, lockoutDuration: 1800, counterResetAfter: 900, expirationDays: 0 };

/** The policy from the cluster object (`password_expiration_duration`) and /v1/cluster/policy (`login_lockout_*`). */
export function loginPolicyOf(
  cluster: { password_expiration_duration?: number } | undefined,
  policy: { login_lockout_threshold?: number; login_lockout_duration?: number; login_lockout_counter_reset_after?: number } | undefined,
): LoginPolicy {
  return {
    lockoutThreshold: policy?.login_lockout_threshold ?? DEFAULT_LOGIN_POLICY.lockoutThreshold,
    lockoutDuration: policy?.login_lockout_duration ?? DEFAULT_LOGIN_POLICY.lockoutDuration,
    counterResetAfter: policy?.login_lockout_counter_reset_after ?? DEFAULT_LOGIN_POLICY.counterResetAfter,
    expirationDays: cluster?.password_expiration_duration ?? 0,
  };
}

const DAY_MS = 86_400_000;

/** True while a lock holds: set by too many failures (until it runs out) or by hand (status 'locked'). */
export function isLocked(u: UserRecord, p: LoginPolicy, nowMs: number): boolean {
  if (u.locked_at !== undefined) return p.lockoutDuration === 0 || nowMs < u.locked_at + p.lockoutDuration * 1000;
  return u.status === 'locked';
}

/**
 * The password of a regular user expires `expirationDays` after `password_issue_date`. Computed
 * from the date each time (password-expiration.md: turning the policy on locks out passwords that
 * are already older, turning it off releases them).
 */
export function isPasswordExpired(u: UserRecord, p: LoginPolicy, nowMs: number): boolean {
  if (u.auth_method !== 'regular' || p.expirationDays <= 0) return false;
  const issued = Date.parse(u.password_issue_date);
  return Number.isFinite(issued) && nowMs >= issued + p.expirationDays * DAY_MS;
}

export function userStatus(u: UserRecord, p: LoginPolicy, nowMs: number): UserStatus {
  if (isLocked(u, p, nowMs)) return 'locked';
  if (isPasswordExpired(u, p, nowMs)) return 'password_expired';
  return 'active';
}

/** Record changes after a failed login; `locked` says this failure locked the account. */
export function afterFailedLogin(u: UserRecord, p: LoginPolicy, nowMs: number): { changes: Partial<UserRecord>; locked: boolean } {
  if (p.lockoutThreshold <= 0 || isLocked(u, p, nowMs)) return { changes: {}, locked: false };
  const recent = u.last_failed_login !== undefined && (p.counterResetAfter === 0 || nowMs - u.last_failed_login <= p.counterResetAfter * 1000);
  // A lock that has run out starts a fresh count.
  const prior = recent && u.locked_at === undefined ? u.failed_logins ?? 0 : 0;
  const failed = prior + 1;
  const changes: Partial<UserRecord> = { failed_logins: failed, last_failed_login: nowMs, locked_at: undefined };
  if (failed >= p.lockoutThreshold) return { changes: { ...changes, locked_at: nowMs, status: 'locked' }, locked: true };
  return { changes: u.status === 'locked' ? { ...changes, status: 'active' } : changes, locked: false };
}

/** Record changes that clear the lockout bookkeeping (a successful login, or a password reset). */
export function clearedLockout(u: UserRecord): Partial<UserRecord> {
  const changes: Partial<UserRecord> = {};
  if (u.failed_logins !== undefined) changes.failed_logins = undefined;
  if (u.last_failed_login !== undefined) changes.last_failed_login = undefined;
  if (u.locked_at !== undefined) changes.locked_at = undefined;
  if (u.status !== 'active') changes.status = 'active';
  return changes;
}

/** Apply changes where `undefined` means "remove the field" (records are stored as JSON). */
export function withChanges(u: UserRecord, changes: Partial<UserRecord>): UserRecord {
  const next = { ...u, ...changes } as Record<string, unknown>;
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete next[k];
  return next as unknown as UserRecord;
}
