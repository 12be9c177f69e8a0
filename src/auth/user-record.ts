/**
 * How a user is kept in the CCS (`/users/<uid>`). The full user API (issue: access control)
 * builds on this record; password hashes never leave the store layer's callers.
 */
import type { ManagementRole } from './permissions.js';

export interface UserRecord {
  uid: number;
  name: string;
  email: string;
  role: ManagementRole;
  role_uids: number[];
  auth_method: 'regular' | 'certificate' | 'entraid';
  status: 'active' | 'locked' | 'password_expired';
  email_alerts: boolean;
  bdbs_email_alerts: string[];
  alert_audit_db_conns: boolean;
  alert_bdb_backup: boolean;
  alert_bdb_crdt_src_syncer: boolean;
  password_issue_date: string;
  /** scrypt hashes (auth/password.ts); a user may hold several valid passwords at once. */
  password_hashes: string[];
}

export const USERS_PREFIX = '/users/';
