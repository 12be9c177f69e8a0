/**
 * The user object (objects/user.md; constraints from openapi.json `User` / `UserRequest`) and the
 * bodies of /v1/users/password (requests/users/password.md). Field set and shape follow the
 * capture fixtures/redis-enterprise-rs/user_single.json.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MANAGEMENT_ROLES } from '../auth/permissions.js';
import { StrEnum, Uid } from './common.js';

/** openapi `UserRequest.name`: ASCII without the special characters & < > ". */
export const USER_NAME_PATTERN = '^[ -!#-%\'-;=?-~]+$';
/** openapi `UserRequest.email` (empty allowed, e.g. for certificate users). */
export const EMAIL_PATTERN = '(^$|^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9-.]+$)';

const ManagementRole = StrEnum(MANAGEMENT_ROLES, { description: "User's management role (deprecated in favour of role_uids)" });

/** Fields a client may set (POST, PUT). */
const userWritable = {
  name: Type.String({ minLength: 1, maxLength: 255, pattern: USER_NAME_PATTERN, description: "User's name (ASCII, without & < > \")" }),
  email: Type.String({ maxLength: 255, pattern: EMAIL_PATTERN, description: "User's email; also the login name" }),
  role: ManagementRole,
  role_uids: Type.Array(Uid, { minItems: 1, uniqueItems: true, description: "UIDs of the user's roles (role-based access control)" }),
  auth_method: StrEnum(['regular', 'certificate', 'entraid', 'sso'] as const, { default: 'regular', description: "User's authentication method" }),
  email_alerts: Type.Boolean({ default: true, description: 'Activate email alerts for the user' }),
  bdbs_email_alerts: Type.Array(Type.String(), { uniqueItems: true, description: "UIDs of databases the user receives alerts for, or ['all']" }),
  cluster_email_alerts: Type.Boolean({ description: 'Activate cluster email alerts for the user' }),
  certificate_subject_line: Type.String({ description: "The certificate's subject line (RFC 2253), for certificate-based authentication users" }),
  account_id: Type.Integer({ description: 'SM account ID' }),
  alert_audit_db_conns: Type.Boolean(),
  alert_bdb_backup: Type.Boolean(),
  alert_bdb_crdt_src_syncer: Type.Boolean(),
};

const userReadOnly = {
  uid: Type.Integer({ minimum: 1, description: "User's unique ID" }),
  status: StrEnum(['active', 'locked', 'password_expired'] as const, { description: 'Sign-in status (read-only)' }),
  password_issue_date: Type.String({ description: 'When the password was set (read-only)' }),
  last_login: Type.Integer({ description: 'UNIX time of the last successful login (read-only)' }),
};

/** The user as the API returns it: never a password or a hash. */
export const User = Type.Object({
  uid: userReadOnly.uid,
  name: userWritable.name,
  email: userWritable.email,
  role: ManagementRole,
  role_uids: Type.Array(Type.Integer()),
  auth_method: userWritable.auth_method,
  status: userReadOnly.status,
  email_alerts: userWritable.email_alerts,
  certificate_subject_line: userWritable.certificate_subject_line,
  password_issue_date: Type.Optional(userReadOnly.password_issue_date),
  bdbs_email_alerts: Type.Optional(userWritable.bdbs_email_alerts),
  cluster_email_alerts: Type.Optional(userWritable.cluster_email_alerts),
  last_login: Type.Optional(userReadOnly.last_login),
  account_id: Type.Optional(userWritable.account_id),
  alert_audit_db_conns: Type.Optional(userWritable.alert_audit_db_conns),
  alert_bdb_backup: Type.Optional(userWritable.alert_bdb_backup),
  alert_bdb_crdt_src_syncer: Type.Optional(userWritable.alert_bdb_crdt_src_syncer),
}, { description: 'An API object that represents a Redis Software user.' });
export type User = Static<typeof User>;

const secretProps = {
  password: Type.String({ description: "User's password (regular users); never returned" }),
  password_hash_method: Type.Union([Type.Literal(1), Type.Literal('1')], { description: "1: the password is the hex SHA-256 of 'username:clustername:password' (user.md)" }),
};

/** POST /v1/users: `uid` may be given (openapi `UserRequest.uid`). */
export const UserCreate = Type.Partial(Type.Object({ uid: Uid, ...userWritable, ...secretProps }), { additionalProperties: false });
export type UserCreate = Static<typeof UserCreate>;

/** PUT /v1/users/{uid}: read-only fields are accepted by the schema and refused by name. */
export const UserUpdate = Type.Partial(Type.Object({ ...userReadOnly, ...userWritable, ...secretProps }), { additionalProperties: false });
export type UserUpdate = Static<typeof UserUpdate>;

const username = Type.String({ minLength: 1, description: "The affected user's login (email) or name; defaults to the authenticated user" });

/** PUT and POST /v1/users/password. `old_password` is deprecated and ignored (openapi). */
export const PasswordSet = Type.Object({
  username: Type.Optional(username),
  new_password: Type.String({ description: 'The new password' }),
  old_password: Type.Optional(Type.String({ description: 'Deprecated and ignored' })),
  password_hash_method: Type.Optional(secretProps.password_hash_method),
}, { additionalProperties: false });
export type PasswordSet = Static<typeof PasswordSet>;

/** DELETE /v1/users/password. */
export const PasswordDelete = Type.Object({
  username: Type.Optional(username),
  old_password: Type.String({ description: 'The password to remove' }),
}, { additionalProperties: false });
export type PasswordDelete = Static<typeof PasswordDelete>;

/** PATCH /v1/cluster/change_password_hashing_algorithm (openapi ChangePasswordHashingAlgorithmRequest). */
export const HashingAlgorithmChange = Type.Object({
  algorithm: StrEnum(['SHA-256', 'PBKDF2'] as const, { description: 'The password hashing algorithm for all users' }),
}, { additionalProperties: false });
