/** The cluster settings (policy) object: objects/cluster_settings.md, served by /v1/cluster/policy. */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

const ProxyPolicy = StrEnum(['single', 'all-master-shards', 'all-nodes']);
const Int = (o: { default?: number; minimum?: number } = {}) => Type.Integer({ minimum: o.minimum ?? 0, ...o });

export const clusterSettingsProps = {
  acl_pubsub_default: StrEnum(['resetchannels', 'allchannels']),
  auto_recovery: Type.Boolean({ default: false }),
  automatic_node_offload: Type.Boolean({ default: true }),
  bigstore_migrate_node_threshold: Int(),
  bigstore_migrate_node_threshold_p: Int(),
  bigstore_provision_node_threshold: Int(),
  bigstore_provision_node_threshold_p: Int(),
  data_internode_encryption: Type.Boolean(),
  db_conns_auditing: Type.Boolean(),
  default_bigstore_version: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
  default_concurrent_restore_actions: Int(),
  default_fork_evict_ram: Type.Boolean(),
  default_non_sharded_proxy_policy: ProxyPolicy,
  default_oss_sharding: Type.Boolean({ default: false }),
  default_oss_cluster: Type.Boolean({ default: false }),
  default_provisioned_redis_version: Type.String({ pattern: '^[0-9]+\\.[0-9]+$' }),
  default_recovery_wait_time: Type.Integer({ minimum: -1, default: -1 }),
  default_sharded_proxy_policy: ProxyPolicy,
  default_shards_placement: StrEnum(['dense', 'sparse']),
  default_tracking_table_max_keys_policy: Int({ default: 1000000 }),
  diskless_repl: StrEnum(['yes', 'no'], { default: 'yes' }),
  endpoint_rebind_propagation_grace_time: Int(),
  evict_node_use_free_memory: Type.Boolean(),
  expose_hostnames_for_all_suffixes: Type.Boolean({ default: false }),
  failure_detection_sensitivity: StrEnum(['high', 'low']),
  filter_node_wd_health_metrics: Type.Boolean({ default: true }),
  hide_user_data_from_log: Type.Boolean({ default: false }),
  login_lockout_counter_reset_after: Int(),
  login_lockout_duration: Int(),
  login_lockout_threshold: Int(),
  master_healthcheck_api_auth: Type.Boolean({ default: true }),
  max_redis_forks: Int({ default: 0 }),
  max_saved_events_per_type: Int(),
  max_simultaneous_backups: Int({ default: 4 }),
  metrics_exporter_expose_bdb_name: Type.Boolean({ default: false }),
  parallel_shards_upgrade: Int(),
  max_slave_full_syncs: Int({ default: 0 }),
  oss_cluster_api_preferred_endpoint_type: StrEnum(['ip', 'hostname'], { default: 'ip' }),
  oss_cluster_api_preferred_ip_type: StrEnum(['internal', 'external'], { default: 'internal' }),
  persistence_cleanup_grace_time: Int(),
  persistence_cleanup_scan_interval: Type.String(),
  persistent_node_removal: Type.Boolean(),
  rack_aware: Type.Boolean(),
  redis_migrate_node_threshold: Int(),
  redis_migrate_node_threshold_p: Int(),
  redis_provision_node_threshold: Int(),
  redis_provision_node_threshold_p: Int(),
  redis_upgrade_policy: StrEnum(['major', 'latest'], { default: 'major' }),
  repl_diskless: Type.Boolean({ default: true }),
  resp3_default: Type.Boolean({ default: true }),
  shards_overbooking: Type.Boolean(),
  show_internals: Type.Boolean(),
  show_metrics_during_state_machine: Type.Boolean(),
  slave_ha: Type.Boolean(),
  slave_ha_bdb_cooldown_period: Int(),
  slave_ha_cooldown_period: Int(),
  slave_ha_grace_period: Int(),
  slow_log_max_len: Int({ default: 1024 }),
  use_librdb: Type.Boolean(),
  witness_disk_update_frequency_divisor: Int({ default: 3, minimum: 1 }),
};

export const ClusterSettings = Type.Object(clusterSettingsProps, { description: 'Cluster resources management policy' });
export type ClusterSettings = Static<typeof ClusterSettings>;
export const ClusterSettingsUpdate = Type.Partial(Type.Object(clusterSettingsProps), { additionalProperties: false });
export type ClusterSettingsUpdate = Static<typeof ClusterSettingsUpdate>;

export const CmSettings = Type.Object({
  timezone: Type.String({ minLength: 1, description: 'Time zone (tz database name) for the Cluster Manager UI; default UTC' }),
}, { additionalProperties: false, description: 'Cluster Manager UI settings' });
export type CmSettings = Static<typeof CmSettings>;
export const CmSettingsUpdate = Type.Partial(CmSettings, { additionalProperties: false });
