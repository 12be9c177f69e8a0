/**
 * How a user is kept in the CCS (`/users/<uid>`). The users API (services/user-service.ts) owns
 * the record; LocalUsers (Basic logins) updates only the login bookkeeping at the end. Password
 * hashes and the lockout counters never leave the store layer's callers: the API answers with
 * `userView` (services/user-service.ts), which copies the documented fields only.
 */
import type { ManagementRole } from './permissions.js';

export type AuthMethod = 'regular' | 'certificate' | 'entraid' | 'sso';
export type UserStatus = 'active' | 'locked' | 'password_expired';

export interface UserRecord {
  uid: number;
  /**
   * Random, set when the user is created, carried by its JWTs: a token stops working when its user is deleted,
   * even if a new user is later given the same uid (internal, never in the user object).
   */
  token_key?: string;
  name: string;
  email: string;
  /**
   * The effective management role: the highest `management` of the roles in `role_uids`
   * (MANAGEMENT_ROLES order). The users and roles services keep it in step with the roles, so
   * every reader (Basic, JWT) can take it as is.
   */
  role: ManagementRole;
  role_uids: number[];
  auth_method: AuthMethod;
  /**
   * Stored sign-in status, a hint for readers of the raw record. The status that counts also
   * depends on the clock and the cluster policy (lock duration, password expiration):
   * `userStatus()` in auth/login-policy.ts computes it.
   */
  status: UserStatus;
  email_alerts: boolean;
  bdbs_email_alerts?: string[];
  cluster_email_alerts?: boolean;
  /** Alert switches older RS versions keep on users; stored and reported only when set. */
  alert_audit_db_conns?: boolean;
  alert_bdb_backup?: boolean;
  alert_bdb_crdt_src_syncer?: boolean;
  certificate_subject_line?: string;
  account_id?: number;
  /** When a password was last set (RS timestamp); expiration counts from here. */
  password_issue_date: string;
  /** Hashes (auth/password.ts); a user may hold several valid passwords at once. */
  password_hashes: string[];
  /**
   * SHA-256 (hex) of each password, set together with `password_hashes`: the form Redis ACL rules take
   * (`#<hex>`), for the database users made from bdb roles_permissions. Redis needs the password or this
   * hash and cannot use a salted scrypt one (docs/notes-data-plane.md). Absent for passwords set before
   * openrs kept it: such a user gets database access once a password is set again.
   */
  db_password_sha256?: string[];
  /** UNIX time (s) of the last successful login (at most once per verification cache window). */
  last_login?: number;
  /** Failed logins counted towards the lockout threshold, and when the last one happened (ms). */
  failed_logins?: number;
  last_failed_login?: number;
  /** When the account was locked (ms since the epoch); absent when it is not locked. */
  locked_at?: number;
}

export const USERS_PREFIX = '/users/';
