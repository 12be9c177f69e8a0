/**
 * One error type for the whole API. `new RsError('node_not_found')` takes its HTTP status and
 * default description from the catalog below and serializes as the RS error body
 * `{ "error_code": ..., "description": ... }` (`cluster_Error` in the spec's openapi.json;
 * its `status_code` is marked x-go-json-ignore, so it is not part of the wire body).
 *
 * Codes come from the spec pages where a page documents one; codes the spec does not name
 * (generic HTTP conditions) are listed in docs/decisions.md.
 */
export const ERROR_CATALOG = {
  // Generic request conventions (rest-api/_index.md).
  invalid_schema: [400, 'The request does not match the object schema'],
  invalid_json_body: [400, 'The request body is not valid JSON'],
  bad_request: [400, 'The request is malformed'],
  unsupported_content_type: [400, 'Content-Type must be application/json'],
  body_too_large: [413, 'The request body is too large'],
  read_only_field: [400, 'The request sets a read-only field'],
  unsupported_option: [400, 'This option is not supported by openrs'],
  unauthorized: [401, 'Authentication is required'],
  insufficient_permissions: [403, 'The user is not allowed to perform this action'],
  not_found: [404, 'The requested URI does not exist'],
  method_not_allowed: [405, 'The method is not allowed for this URI'],
  node_not_bootstrapped: [503, 'This node is not a member of a cluster'],
  unsupported_api_version: [505, 'Unsupported x-api-version'],
  internal_error: [500, 'An internal error occurred'],
  config_edit_conflict: [409, 'The configuration was edited by another source simultaneously'],

  // Bootstrap (requests/bootstrap).
  config_error: [400, 'Invalid bootstrap configuration'],
  bootstrap_in_progress: [409, 'Bootstrap already in progress'],
  already_bootstrapped: [409, 'This node is already part of a cluster'],
  invalid_license: [400, 'The license string provided is invalid'],
  path_error: [400, 'A needed path does not exist or is not accessible'],

  // Nodes (requests/nodes).
  node_not_found: [404, 'Node does not exist'],
  // Proxies (requests/proxies).
  proxy_not_found: [404, 'Proxy UID does not exist'],
  proxy_timeout: [504, 'Timeout while waiting for confirmation from proxy'],
  node_not_offline: [406, 'Attempted to change node address while it is online'],
  node_already_populated: [406, 'The node contains shards or endpoints, cannot disable accept_servers'],
  node_already_has_rack_id: [406, "Attempted to change node's rack_id when it already has one"],

  // Cluster (requests/cluster).
  bad_debuginfo_path: [400, "Debuginfo path doesn't exist or is inaccessible"],

  // Certificates (requests/cluster/certificates): statuses from the page, codes are openrs's.
  invalid_certificate: [400, 'The certificate or key is invalid'],
  certificate_expired: [406, 'The certificate is expired or not yet valid'],
  unknown_certificate: [403, 'Unknown certificate name'],
  required_certificate: [403, 'A required certificate cannot be deleted'],
  unsupported_rotation: [403, 'Unsupported certificate rotation'],
  certificate_not_found: [404, 'Unknown certificate name'],

  // Databases, shards and actions (requests/bdbs, requests/shards, requests/actions).
  db_not_exist: [404, 'Database does not exist'],
  shard_not_exist: [404, 'Shard does not exist'],
  shard_is_slave: [400, 'Shard is a replica'],
  shard_uids_required: [404, 'List of shard UIDs is required and not given'],
  failover_shards_different_bdb: [400, 'All failover shards should be in the same database'],
  db_busy: [409, 'Database is currently busy'],
  action_not_exist: [404, 'Action does not exist'],
  // Availability (requests/bdbs/availability.md); bdb_unavailable gets documented suffixes (services/availability-service.ts).
  db_not_found: [404, 'Database does not exist in the cluster'],
  no_quorum: [503, 'Master healthcheck failed (no quorum in the cluster)'],
  bdb_unavailable: [503, 'Database is not available'],
  bdb_endpoint_unavailable: [503, 'Local database endpoint is not available'],
  unsupported_action: [400, 'This database action is not supported'],

  // Replica Of / Active-Active views (requests/bdbs/peer_stats.md, sync_source_stats.md, syncer_state/),
  // modules (requests/bdbs/modules/), shard migration (requests/shards/actions/migrate.md). Statuses from
  // the pages; codes the pages do not name are openrs's (docs/decisions/bdb-routes-extra.md).
  bdb_not_crdb: [406, 'Database is not a CRDB'], // (openrs)
  peer_not_exist: [404, 'CRDB peer instance does not exist'], // (openrs)
  sync_source_not_exist: [404, 'Sync source does not exist'], // (openrs)
  syncer_state_not_exist: [404, 'Syncer state key does not exist'], // (openrs)
  module_not_exist: [404, 'Module with the given module_name does not exist for the database'],
  param_error: [400, '"module_args" parameter was not parsed properly'],
  missing_module: [406, 'Module is not present in cluster'],
  target_node_uid_required: [404, 'A target node UID is required and not given'], // (openrs)
  // Cluster modules (7.22 requests/modules: POST /v1/modules error codes), DNS suffixes (requests/suffix):
  // docs/decisions/cluster-routes-extra.md.
  no_module: [400, "Module wasn't provided or could not be found"],
  suffix_not_exist: [404, 'Suffix name does not exist'], // (openrs)

  // Active-Active (requests/crdbs/, requests/crdb_tasks/): statuses from the pages, which name no codes;
  // the codes are openrs's, like the `*_not_exist` ones above (docs/decisions/cluster-routes-health.md).
  crdb_not_exist: [404, 'Active-Active database does not exist'], // (openrs)
  crdb_task_not_exist: [404, 'CRDB task does not exist'], // (openrs)
  invalid_crdb_guid: [406, 'The Active-Active GUID is invalid'], // (openrs)

  // OCSP (requests/ocsp/): codes and statuses from the pages. no_responder_url carries POST
  // /v1/ocsp/test's 500 ("responder_url is not configured"); PUT never reaches it (see ocsp-service.ts).
  ocsp_unsupported_by_capability: [406, 'Not all nodes support OCSP capability'],
  no_responder_url: [500, 'No OCSP responder URL is configured'],

  // jsonschema.
  invalid_object: [406, 'Invalid object name'],

  // LDAP (requests/cluster/ldap.md, requests/ldap_mappings): codes and statuses from the pages.
  illegal_fields_combination: [400, 'An unacceptable combination of fields was specified, or a required field is missing'],
  ldap_mapping_not_exist: [404, 'LDAP mapping does not exist'],
  invalid_dn_param: [400, 'A dn parameter has an illegal value'],
  invalid_name_param: [400, 'A name parameter has an illegal value'],
  invalid_role_uids_param: [400, 'A role_uids parameter has an illegal value'],
  // Shared by the users / roles / redis_acls / ldap_mappings pages (same meaning on each). 400: the
  // roles, redis_acls and ldap_mappings pages list no other status for it (openapi.json's 409 is not
  // on the pages); POST /v1/users, whose page documents 409, passes that (docs/decisions/users-roles.md).
  name_already_exists: [400, 'An object of the same type and name exists'],
  missing_field: [400, 'A needed field is missing'],

  // JWT (requests/users/authorize.md, refresh_jwt.md). password_expired is the page's code; the
  // token codes are openrs's (the spec names none; invalid_token follows RFC 6750), docs/notes-jwt.md.
  password_expired: [401, 'The password has expired and must be changed'],
  invalid_token: [401, 'The token is invalid'],
  token_expired: [401, 'The token has expired'],

  // Users, passwords, roles, Redis ACLs (requests/users, users/password.md, roles, redis_acls).
  // Codes from the pages with the statuses they list; the ones marked (openrs) are named by openrs
  // for conditions the pages give a status but no code for (docs/notes-users-roles.md).
  user_not_exist: [404, 'User does not exist'],
  email_already_exists: [409, 'The given email is already taken'], // POST; PUT /v1/users documents no 409 and answers 400
  password_not_complex: [400, 'The given password is not complex enough'],
  new_password_same_as_current: [400, 'The given new password is identical to a current password'],
  cannot_delete_last_password: [400, 'Cannot delete the last password of a user'],
  unauthorized_action: [403, "Updating another user's password is acceptable by an admin user only"],
  change_last_admin_role_not_allowed: [406, 'At least one user with admin role should exist'],
  delete_last_admin_not_allowed: [406, 'At least one user with admin role should exist'], // (openrs)
  invalid_param: [400, 'A parameter has an illegal value'],
  read_only_object: [409, 'Cannot change a read-only object'],
  uid_already_exists: [409, 'An object with this uid already exists'], // (openrs)
  role_not_exist: [404, 'Role does not exist'], // (openrs)
  role_in_use: [406, 'The role is in use'], // (openrs)
  redis_acl_not_exist: [404, 'Redis ACL does not exist'], // (openrs)
  redis_acl_in_use: [406, 'The Redis ACL is in use'], // (openrs)
  password_hashing_algorithm_already_set: [400, 'This password hashing algorithm is already set'], // (openrs)

  // Single sign-on (requests/cluster/sso.md): codes and statuses from the page.
  missing_param: [400, 'A required parameter is missing while SSO is being enabled'],
  missing_certificate: [406, 'SSO certificate is not found'],
  saml_metadata_parsing_error: [400, 'IdP metadata is not a valid base64-encoded XML'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class RsError extends Error {
  readonly error_code: string;
  readonly statusCode: number;
  /** Extra documented fields some endpoints add to the error body (e.g. bootstrap `error_details`). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, description?: string, opts: { status?: number; extra?: Record<string, unknown> } = {}) {
    const [status, text] = ERROR_CATALOG[code];
    super(description ?? text);
    this.name = 'RsError';
    this.error_code = code;
    this.statusCode = opts.status ?? status;
    this.extra = opts.extra;
  }

  /** A code that a feature module owns (e.g. license codes); status given explicitly. */
  static custom(code: string, status: number, description: string, extra?: Record<string, unknown>): RsError {
    const e = new RsError('internal_error', description, { status, extra });
    (e as { error_code: string }).error_code = code;
    return e;
  }

  toJSON(): Record<string, unknown> {
    return { error_code: this.error_code, description: this.message, ...this.extra };
  }
}
