/**
 * The roles and Redis ACLs every cluster starts with, written by the bootstrap transaction.
 * Names and uids as RS ships them (requests/roles: GET /v1/roles example, uids 1-6;
 * create-cluster-roles.md adds "User Manager"; requests/redis_acls example and
 * redis-acl-overview.md for the ACLs). Scripts look them up by name ("DB Member", "Not Dangerous").
 */
import type { Op } from '../store/kv.js';
import type { RedisAcl } from '../schemas/redis-acl.js';
import type { Role } from '../schemas/role.js';

export const ROLES_PREFIX = '/roles/';
export const REDIS_ACLS_PREFIX = '/redis_acls/';

export const ADMIN_ROLE_UID = 1;

export const DEFAULT_ROLES: readonly Role[] = [
  { uid: 1, name: 'Admin', management: 'admin' },
  { uid: 2, name: 'Cluster Member', management: 'cluster_member' },
  { uid: 3, name: 'Cluster Viewer', management: 'cluster_viewer' },
  { uid: 4, name: 'DB Member', management: 'db_member' },
  { uid: 5, name: 'DB Viewer', management: 'db_viewer' },
  { uid: 6, name: 'None', management: 'none' },
  { uid: 7, name: 'User Manager', management: 'user_manager' },
];

/**
 * "Full Access" includes `&*` because the cluster's pub/sub default is restrictive
 * (policy acl_pubsub_default: resetchannels; redis-acl-overview.md: "&* is added to the Full
 * Access ACL" then). It is the one predefined ACL that cannot be edited.
 */
export const DEFAULT_REDIS_ACLS: readonly RedisAcl[] = [
  { uid: 1, name: 'Full Access', acl: '+@all ~* &*' },
  { uid: 2, name: 'Read Only', acl: '+@read ~*' },
  { uid: 3, name: 'Not Dangerous', acl: '+@all -@dangerous ~*' },
];

/** Predefined objects that cannot be changed or deleted (409 read_only_object). */
export const READ_ONLY_ROLE_UIDS: ReadonlySet<number> = new Set(DEFAULT_ROLES.map((r) => r.uid));
export const READ_ONLY_REDIS_ACL_UIDS: ReadonlySet<number> = new Set([1]);

/** The builtin role holding each management role, for users created with `role` only. */
export const builtinRoleFor = (management: Role['management']): Role => DEFAULT_ROLES.find((r) => r.management === management)!;

/** Ops that create the defaults and start the uid counters after them (Collection.allocateUid). */
export function accessControlOps(): Op[] {
  return [
    ...DEFAULT_ROLES.map((r): Op => ({ type: 'put', key: `${ROLES_PREFIX}${r.uid}`, value: r })),
    ...DEFAULT_REDIS_ACLS.map((a): Op => ({ type: 'put', key: `${REDIS_ACLS_PREFIX}${a.uid}`, value: a })),
    { type: 'put', key: '/counters/roles', value: DEFAULT_ROLES.length },
    { type: 'put', key: '/counters/redis_acls', value: DEFAULT_REDIS_ACLS.length },
  ];
}
