/** Pure rules of the users API: the API view of a record, role resolution, uniqueness. */
import { MANAGEMENT_ROLES, type ManagementRole } from '../auth/permissions.js';
import type { UserRecord, UserStatus } from '../auth/user-record.js';
import { RsError } from '../errors.js';
import type { Role } from '../schemas/role.js';
import type { User } from '../schemas/user.js';

/** Fields any user may change on their own account without update_user (requests/users, PUT). */
export const SELF_SERVICE_FIELDS: ReadonlySet<string> = new Set([
  'name', 'password', 'email_alerts', 'bdbs_email_alerts', 'cluster_email_alerts',
  'alert_audit_db_conns', 'alert_bdb_backup', 'alert_bdb_crdt_src_syncer',
]);

/** Fields GET reports but a client cannot set. */
export const USER_READ_ONLY_FIELDS = ['status', 'password_issue_date', 'last_login'] as const;

const OPTIONAL_VIEW_FIELDS = [
  'bdbs_email_alerts', 'cluster_email_alerts', 'last_login', 'account_id',
  'alert_audit_db_conns', 'alert_bdb_backup', 'alert_bdb_crdt_src_syncer',
] as const;

/**
 * The user as the API shows it: the documented fields only (never `password_hashes` or the
 * lockout bookkeeping), keys in alphabetical order like the capture user_single.json.
 */
export function userView(u: UserRecord, status: UserStatus): User {
  const v: Record<string, unknown> = {
    uid: u.uid,
    name: u.name,
    email: u.email,
    role: u.role,
    role_uids: u.role_uids,
    auth_method: u.auth_method,
    status,
    email_alerts: u.email_alerts,
    certificate_subject_line: u.certificate_subject_line ?? '',
    password_issue_date: u.password_issue_date,
  };
  for (const k of OPTIONAL_VIEW_FIELDS) if (u[k] !== undefined) v[k] = u[k];
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) as User;
}

/** The highest management role among `roles`, in MANAGEMENT_ROLES order (as LDAP mappings resolve theirs). */
export function effectiveRole(roles: readonly Pick<Role, 'management'>[]): ManagementRole {
  let best = 0;
  for (const r of roles) best = Math.max(best, MANAGEMENT_ROLES.indexOf(r.management));
  return MANAGEMENT_ROLES[best]!;
}

const same = (a: string, b: string) => a !== '' && a.toLowerCase() === b.toLowerCase();

/**
 * Logins match a user's email or name, case-insensitively (LocalUsers.findByLogin), so neither
 * may equal another user's email or name: email_already_exists / name_already_exists, with the
 * status the request's page documents: 409 on POST /v1/users, 400 on PUT (its page lists
 * 400/404/406 and no 409).
 */
export function checkUnique(users: readonly UserRecord[], u: { uid: number; email: string; name: string }, status: 400 | 409): void {
  for (const o of users) {
    if (o.uid === u.uid) continue;
    if (same(u.email, o.email) || same(u.email, o.name)) throw new RsError('email_already_exists', `The email '${u.email}' is already taken`, { status });
    if (same(u.name, o.name) || same(u.name, o.email)) throw new RsError('name_already_exists', `The name '${u.name}' is already taken`, { status });
  }
}

export const prehashRefused = () => new RsError('unsupported_option',
  'password_hash_method is accepted when creating or updating a user (PUT/POST /v1/users), not on /v1/users/password: send the password itself');

/**
 * user.md: `password_hash_method: 1` → `password` is the hex SHA-256 of
 * `username:clustername:password`. Returns whether the body uses it (and checks its form).
 */
export function isPrehashed(body: { password?: string; password_hash_method?: 1 | '1' }): boolean {
  if (body.password_hash_method === undefined) return false;
  if (body.password === undefined) throw new RsError('missing_field', 'password_hash_method needs a password (the SHA-256 of username:clustername:password)');
  if (!/^[0-9a-fA-F]{64}$/.test(body.password)) throw new RsError('invalid_schema', 'With password_hash_method 1, password must be 64 hexadecimal digits (SHA-256 of username:clustername:password)');
  return true;
}
