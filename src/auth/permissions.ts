/**
 * Role -> permission table of the Redis Software REST API, as data.
 *
 * Source: spec/references/rest-api/permissions.md, cross-checked against the
 * "Required permissions" tables of the endpoint pages under requests/.
 * The doc gives the mapping twice (per role, per permission); the two copies and
 * the endpoint pages do not always agree. Policy: where they disagree, take the
 * SAFER reading (the role does NOT get the permission). One deliberate exception,
 * view_bdb_info, is explained on its line. Every disputed entry has a comment; the
 * full list is in docs/decisions-permissions.md, and test/auth/permissions.test.ts
 * re-derives the table and the list of disagreements from the spec.
 * No endpoint page names a permission missing from permissions.md.
 */

export const MANAGEMENT_ROLES = [
  'none',
  'db_viewer',
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
] as const;
export type ManagementRole = (typeof MANAGEMENT_ROLES)[number];

/**
 * Permission -> roles holding it. Written per permission (the doc's second
 * table, same order) because that is the easiest form to review line by line.
 * `none` appears nowhere: it has no REST API permissions.
 */
const PERMISSION_ROLES = {
  add_cluster_module: ['admin'],
  cancel_cluster_action: ['admin'],
  cancel_node_action: ['admin'],
  config_ldap: ['admin', 'user_manager'],
  config_ocsp: ['admin'],
  // sso.md (PUT/DELETE /v1/cluster/sso, POST .../saml/metadata/idp) also lists user_manager;
  // both permissions.md tables say admin only. Safer reading: admin only.
  config_sso: ['admin'],
  create_bdb: ['admin', 'cluster_member', 'db_member'],
  create_crdb: ['admin', 'cluster_member', 'db_member'],
  create_ldap_mapping: ['admin', 'user_manager'],
  create_new_user: ['admin', 'user_manager'],
  create_redis_acl: ['admin', 'user_manager'],
  create_role: ['admin', 'user_manager'],
  delete_bdb: ['admin', 'cluster_member', 'db_member'],
  delete_cluster_module: ['admin'],
  delete_crdb: ['admin', 'cluster_member', 'db_member'],
  delete_ldap_mapping: ['admin', 'user_manager'],
  delete_redis_acl: ['admin', 'user_manager'],
  delete_role: ['admin', 'user_manager'],
  delete_user: ['admin', 'user_manager'],
  edit_bdb_module: ['admin', 'cluster_member', 'db_member'],
  failover_shard: ['admin', 'cluster_member', 'db_member'],
  flush_crdb: ['admin', 'cluster_member', 'db_member'],
  install_new_license: ['admin', 'user_manager'],
  manage_cluster_modules: ['admin'],
  migrate_shard: ['admin', 'cluster_member', 'db_member'],
  purge_instance: ['admin', 'cluster_member', 'db_member'],
  reset_bdb_current_backup_status: ['admin', 'cluster_member', 'db_member'],
  reset_bdb_current_export_status: ['admin', 'cluster_member', 'db_member'],
  reset_bdb_current_import_status: ['admin', 'cluster_member', 'db_member'],
  start_bdb_export: ['admin', 'cluster_member', 'db_member'],
  start_bdb_import: ['admin', 'cluster_member', 'db_member'],
  start_bdb_recovery: ['admin', 'cluster_member', 'db_member'],
  start_cluster_action: ['admin'],
  start_node_action: ['admin'],
  test_ocsp_status: ['admin'],
  update_bdb: ['admin', 'cluster_member', 'db_member'],
  update_bdb_alerts: ['admin', 'cluster_member', 'db_member'],
  update_bdb_with_action: ['admin', 'cluster_member', 'db_member'],
  update_cluster: ['admin'],
  update_crdb: ['admin', 'cluster_member', 'db_member'],
  update_ldap_mapping: ['admin', 'user_manager'],
  update_node: ['admin'],
  update_proxy: ['admin', 'user_manager'],
  update_redis_acl: ['admin', 'user_manager'],
  update_role: ['admin', 'user_manager'],
  update_user: ['admin', 'user_manager'],
  upgrade_crdb: ['admin', 'cluster_member', 'db_member'],
  view_all_bdb_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_bdbs_alerts: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_bdbs_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_ldap_mappings_info: ['admin', 'user_manager'],
  view_all_metrics: ['admin', 'cluster_member', 'cluster_viewer'],
  view_all_nodes_alerts: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_nodes_checks: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_nodes_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_nodes_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_proxies_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_redis_acls_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_roles_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_shard_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_all_users_info: ['admin', 'user_manager'],
  view_bdb_alerts: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  // requests/bdbs/actions/rebalance.md omits user_manager; both permissions.md tables and the
  // 7 other endpoint pages naming this permission include it. Kept: the table is global, so
  // dropping it would also deny GET /v1/bdbs/{uid} etc. (see docs/decisions-permissions.md).
  view_bdb_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  // Disagreement inside permissions.md: the per-permission table adds user_manager, the
  // per-role table (and requests/bdbs/actions/recover.md) do not. Safer reading: no user_manager.
  view_bdb_recovery_plan: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer'],
  view_bdb_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_cluster_alerts: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_cluster_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_cluster_keys: ['admin', 'cluster_member', 'user_manager'],
  view_cluster_modules: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_cluster_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_crdb: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_crdb_list: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_crdb_task: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_crdb_task_list: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  // Disagreement inside permissions.md: the per-permission table adds user_manager, the
  // per-role table does not. Safer reading: no user_manager.
  view_debugging_info: ['admin', 'cluster_member', 'db_member'],
  view_endpoint_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_ldap_config: ['admin', 'user_manager'],
  view_ldap_mapping_info: ['admin', 'user_manager'],
  view_license: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_logged_events: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'user_manager'],
  view_node_alerts: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_node_check: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_node_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_node_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_ocsp_config: ['admin'],
  view_ocsp_status: ['admin'],
  view_proxy_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_redis_acl_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_redis_pass: ['admin', 'cluster_member', 'db_member', 'user_manager'],
  view_role_info: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_shard_stats: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  // Both permissions.md tables give this to every role but none; sso.md, the only endpoint page
  // using it (GET /v1/cluster/sso, GET .../saml/metadata/sp), says admin + user_manager.
  // Safer reading: admin + user_manager.
  view_sso: ['admin', 'user_manager'],
  view_status_of_all_node_actions: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_status_of_cluster_action: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_status_of_node_action: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'],
  view_user_info: ['admin', 'user_manager'],
} as const satisfies Record<string, readonly ManagementRole[]>;

export type Permission = keyof typeof PERMISSION_ROLES;

/** Every permission name, in doc order. Derived so the names are written once. */
export const PERMISSIONS: readonly Permission[] = Object.freeze(
  Object.keys(PERMISSION_ROLES) as Permission[],
);

/** The same data inverted, for the lookup the request pipeline actually does. */
export const ROLE_PERMISSIONS: Readonly<Record<ManagementRole, ReadonlySet<Permission>>> =
  Object.freeze(
    Object.fromEntries(
      MANAGEMENT_ROLES.map((role): [ManagementRole, ReadonlySet<Permission>] => [
        role,
        new Set(PERMISSIONS.filter((p) => (PERMISSION_ROLES[p] as readonly string[]).includes(role))),
      ]),
    ) as Record<ManagementRole, ReadonlySet<Permission>>,
  );

/**
 * True when `role` holds `permission`. Takes plain strings because roles come
 * from stored users / request input; anything unknown is denied. `Object.hasOwn`
 * keeps names such as "constructor" or "__proto__" from reaching the prototype.
 */
export function roleAllows(role: string, permission: string): boolean {
  if (!Object.hasOwn(ROLE_PERMISSIONS, role)) return false;
  return ROLE_PERMISSIONS[role as ManagementRole].has(permission as Permission);
}
