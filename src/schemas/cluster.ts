/**
 * The cluster object (objects/cluster/_index.md), its alert_settings and logrotate_settings.
 * Field set and value types follow the real capture fixtures/redis-enterprise-rs/cluster.json
 * where it differs from the page (e.g. data_cipher_suites_tls_1_3 is an array there).
 */
import { Type, type Static } from '@sinclair/typebox';
import { PortNumber, StrEnum } from './common.js';

const Threshold = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Alert enabled or disabled' }),
  threshold: Type.String({ description: 'Threshold for alert going on/off' }),
}, { additionalProperties: false, description: 'cluster_alert_settings_with_threshold' });

const THRESHOLD_ALERTS = [
  'cluster_ca_cert_about_to_expire', 'cluster_certs_about_to_expire', 'cluster_license_about_to_expire',
  'cluster_users_count_approaches_limit', 'node_cpu_utilization', 'node_ephemeral_storage', 'node_free_flash',
  'node_internal_certs_about_to_expire', 'node_memory', 'node_net_throughput', 'node_persistent_storage',
] as const;
const BOOLEAN_ALERTS = [
  'cluster_even_node_count', 'cluster_flash_overcommit', 'cluster_inconsistent_rl_sw', 'cluster_internal_bdb',
  'cluster_multiple_nodes_down', 'cluster_node_joined', 'cluster_node_operation_failed', 'cluster_node_remove_abort_completed',
  'cluster_node_remove_abort_failed', 'cluster_node_remove_completed', 'cluster_node_remove_failed', 'cluster_ocsp_query_failed',
  'cluster_ocsp_status_revoked', 'cluster_ram_overcommit', 'cluster_too_few_nodes_for_replication', 'node_aof_slow_disk_io',
  'node_checks_error', 'node_failed', 'node_insufficient_disk_aofrw',
] as const;

export const AlertSettings = Type.Partial(Type.Object({
  ...Object.fromEntries(THRESHOLD_ALERTS.map((k) => [k, Threshold])),
  ...Object.fromEntries(BOOLEAN_ALERTS.map((k) => [k, Type.Boolean({ default: false })])),
}), { additionalProperties: false, description: 'Cluster and node alert settings' });

export const LogrotateSettings = Type.Partial(Type.Object({
  maxage: Type.Integer({ minimum: 0, default: 7, description: 'Remove rotated logs older than the specified number of days' }),
  maxsize: Type.String({ pattern: '^[0-9]+[kKmMgG]?$', default: '200M', description: 'The log will rotate after it reaches the specified size' }),
  rotate: Type.Integer({ minimum: 0, default: 10, description: 'How many times the log will be rotated' }),
}), { additionalProperties: false });

const TlsVersion = StrEnum(['1.2', '1.3']);
const MtlsSubject = Type.Object({
  CN: Type.String(), O: Type.Optional(Type.String()), OU: Type.Optional(Type.Array(Type.String())),
  L: Type.Optional(Type.String()), ST: Type.Optional(Type.String()), C: Type.Optional(Type.String()),
}, { additionalProperties: false });

/** Fields a client may change with PUT /v1/cluster. */
export const clusterWritable = {
  alert_settings: AlertSettings,
  allow_modules_upload: Type.Boolean({ default: false }),
  availability_lag_tolerance_ms: Type.Integer({ minimum: 0, default: 100 }),
  bigstore_driver: StrEnum(['speedb', 'rocksdb']),
  client_maint_notifications: Type.Boolean({ default: false }),
  cm_port: PortNumber,
  cm_session_timeout_minutes: Type.Integer({ minimum: 1, default: 15 }),
  cnm_http_max_threads_per_worker: Type.Integer({ minimum: 1, default: 10 }),
  cnm_http_port: PortNumber,
  cnm_http_workers: Type.Integer({ minimum: 1, default: 1 }),
  cnm_https_port: PortNumber,
  control_cipher_suites: Type.String({ description: 'Enabled ciphers for the control plane (OpenSSL cipher list format)' }),
  control_plane_basic_authentication: Type.Boolean({ default: true }),
  crdb_coordinator_port: PortNumber,
  crdt_rest_client_retries: Type.Integer({ minimum: 0 }),
  crdt_rest_client_timeout: Type.Integer({ minimum: 0 }),
  data_cipher_list: Type.String(),
  data_cipher_suites_tls_1_3: Type.Array(Type.String()),
  debuginfo_path: Type.String(),
  disconnect_clients_on_password_removal: StrEnum(['enabled', 'disabled', 'auto'], { default: 'auto' }),
  dmc_external_authentication: Type.Boolean({ default: false }),
  dmc_external_cba_authentication: Type.Boolean({ default: false }),
  dmc_external_entraid_authentication: Type.Boolean({ default: false }),
  dmc_external_ldap_authentication: Type.Boolean({ default: false }),
  email_alerts: Type.Boolean({ default: false }),
  email_from: Type.String(),
  encrypt_pkeys: Type.Boolean({ default: false }),
  envoy_admin_port: PortNumber,
  envoy_max_downstream_connections: Type.Integer({ minimum: 100, maximum: 2048 }),
  envoy_mgmt_server_port: PortNumber,
  gossip_envoy_admin_port: PortNumber,
  handle_redirects: Type.Boolean({ default: false }),
  http_support: Type.Boolean({ default: false }),
  logrotate_settings: LogrotateSettings,
  mask_bdb_credentials: Type.Boolean({ default: false }),
  metrics_auth: Type.Boolean({ default: false }),
  min_control_TLS_version: TlsVersion,
  min_data_TLS_version: TlsVersion,
  min_sentinel_TLS_version: TlsVersion,
  mtls_authorized_subjects: Type.Array(MtlsSubject),
  mtls_certificate_authentication: Type.Boolean(),
  mtls_client_cert_subject_validation_type: StrEnum(['disabled', 'san_cn', 'full_subject']),
  multi_commands_opt: StrEnum(['disabled', 'batch', 'force_disabled'], { default: 'disabled' }),
  options_method_forbidden: Type.Boolean({ default: false }),
  password_complexity: Type.Boolean({ default: false }),
  password_expiration_duration: Type.Integer({ minimum: 0, default: 0 }),
  password_min_length: Type.Integer({ minimum: 8, maximum: 256, default: 8 }),
  proxy_max_ccs_disconnection_time: Type.Integer({ minimum: 0 }),
  replica_sconns_on_demand: StrEnum(['enabled', 'disabled', 'auto'], { default: 'auto' }),
  reserved_ports: Type.Array(Type.String({ pattern: '^[0-9]{1,5}(-[0-9]{1,5})?$' })),
  robust_crdt_syncer: Type.Boolean({ default: false }),
  s3_ca_cert: Type.String(),
  s3_url: Type.String(),
  sentinel_cipher_suites: Type.Array(Type.String()),
  sentinel_tls_mode: StrEnum(['allowed', 'disabled', 'required']),
  slowlog_in_sanitized_support: Type.Boolean(),
  smtp_host: Type.String(),
  smtp_password: Type.String({ description: 'SMTP server password; GET returns "***" when one is set, and a PUT of "***" keeps it' }),
  smtp_port: Type.Integer({ minimum: 1, maximum: 65535 }),
  smtp_tls_mode: StrEnum(['none', 'starttls', 'tls']),
  smtp_use_tls: Type.Boolean({ default: false }),
  smtp_username: Type.String({ pattern: '^[^&<>"]*$' }),
  state_machine_smart_client_handoffs_delay_ms: Type.Integer({ minimum: 0, maximum: 10000, default: 2000 }),
  upgrade_mode: Type.Boolean({ default: false }),
  use_external_ipv6: Type.Boolean({ default: true }),
  use_ipv6: Type.Boolean({ default: true }),
};

/** Fields the cluster reports but a client cannot set (read-only on the page, or capture-only). */
export const clusterReadOnly = {
  name: Type.String({ description: "Cluster's fully qualified domain name (read-only)" }),
  created_time: Type.String({ description: 'Cluster creation date (read-only)' }),
  cluster_ssh_public_key: Type.String(),
  control_cipher_suites_tls_1_3: Type.String(),
  crdt_supported_featureset_version: Type.Integer(),
  crdt_supported_protocol_versions: Type.Array(Type.String()),
  default_non_sharded_proxy_policy: Type.String({ default: 'single' }),
  default_sharded_proxy_policy: Type.String({ default: 'all-master-shards' }),
  proxy_certificate: Type.String({ description: "Cluster's proxy certificate (change with /v1/cluster/certificates)" }),
  syncer_certificate: Type.String({ description: "Cluster's syncer certificate (change with /v1/cluster/certificates)" }),
  rack_aware: Type.Boolean(),
  sentinel_cipher_suites_tls_1_3: Type.String(),
  slave_ha: Type.Boolean({ default: false }),
  slave_ha_bdb_cooldown_period: Type.Integer({ default: 86400 }),
  slave_ha_cooldown_period: Type.Integer({ default: 3600 }),
  slave_ha_grace_period: Type.Integer({ default: 900 }),
  system_reserved_ports: Type.Array(Type.Integer()),
  upgrade_in_progress: Type.Boolean(),
  password_hashing_algorithm: StrEnum(['SHA-256', 'PBKDF2'] as const, {
    default: 'SHA-256',
    description: 'Password hashing algorithm (change with PATCH /v1/cluster/change_password_hashing_algorithm; SHA-256 is stored as scrypt by openrs)',
  }),
  wait_command: Type.Boolean({ default: true }),
};

export const Cluster = Type.Object({ ...clusterReadOnly, ...clusterWritable }, {
  description: 'An API object that represents the cluster.',
});
export type Cluster = Static<typeof Cluster>;

/** PUT /v1/cluster body: any documented field; read-only ones are refused by name in the service. */
export const ClusterUpdate = Type.Partial(Type.Object({ ...clusterWritable, ...clusterReadOnly }), { additionalProperties: false });
export type ClusterUpdate = Static<typeof ClusterUpdate>;
