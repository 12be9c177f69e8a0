/**
 * How openrs handles every field a bdb request may set. Either:
 * - supported: stored, and applied to Redis / the proxy where it has a runtime effect (proxy
 *   tuning knobs are stored for the openrs proxy, which applies those it implements);
 * - unsupported-unless-default: openrs cannot honour it on open-source Redis; a request may
 *   only give the documented default (on update also the current value), or a value that
 *   `allowed` accepts. Anything else → 400 unsupported_option naming the field and reason,
 *   except where `code` names the documented error to use instead.
 * The table is exhaustive over BdbCreate/BdbUpdate (a missing field is a compile error).
 */
import type { BdbSettableField } from '../schemas/bdb.js';

export type FieldSupport = 'supported' | 'unsupported-unless-default';

export interface FieldRule {
  support: FieldSupport;
  /** One line: what openrs does with it, or why it cannot honour it. */
  reason: string;
  /** Non-default values openrs can honour anyway. */
  allowed?: (value: unknown) => boolean;
  /** A documented error_code raised for this field instead of unsupported_option (checked in bdb-rules). */
  code?: { create: string; update: string };
}

const S = (reason: string): FieldRule => ({ support: 'supported', reason });
const U = (reason: string, allowed?: (v: unknown) => boolean): FieldRule => ({ support: 'unsupported-unless-default', reason, allowed });

const empty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);
const oneOf = (...values: unknown[]) => (v: unknown) => values.includes(v);
const localOnly = (v: unknown) => (v as { type?: string } | null)?.type === 'mount_point';

const FLASH = 'Auto Tiering / Redis Flex (bigstore) needs Redis on Flash, which open-source Redis lacks';
const CRDT = 'Active-Active (CRDT) databases need the CRDT module and syncer, which openrs lacks';
const SYNCER = 'Replica Of (the syncer) is not implemented';
const BALANCING = 'automatic shard balancing is "for future use" in RS and not implemented';
const OSS_API = 'the OSS Cluster API is not implemented (one shard per database)';
const SUBJECTS = 'TLS client certificate subject validation is not implemented (the CA check only)';
const PROXY = 'proxy tuning: stored for the openrs proxy';
const MODULE = (m: string) => `configures the ${m} module; allowed once the database lists it in module_list`;

export const BDB_FIELD_RULES: Readonly<Record<BdbSettableField, FieldRule>> = {
  // identity and placement
  uid: S('database uid (create only)'),
  name: S('database name'),
  port: S('endpoint port (create only; 0 = automatic)'),
  type: U("memcached databases need a memcached protocol server; only 'redis'", oneOf('redis')),
  version: S('must name the installed redis-server (create only)'),
  redis_version: S('must name the installed redis-server (create only)'),
  account_id: S('stored (no runtime effect)'),
  internal: U('internal databases belong to the cluster itself'),
  avoid_nodes: S('placement constraint'),
  use_nodes: S('placement constraint'),
  shards_placement: S('placement policy'),
  rack_aware: { ...U('openrs clusters are not rack-aware'), code: { create: 'not_rack_aware', update: 'rack_awareness_violation' } },
  // memory, sharding, replication
  memory_size: S('maxmemory, split over shards and replicas'),
  replication: S('a replica shard per master'),
  sharding: S('accepted with shards_count 1'),
  shards_count: U('one shard per database for now (multi-shard routing is not implemented)', oneOf(1)),
  shard_key_regex: S('stored hashing rules (one shard holds every slot)'),
  implicit_shard_key: S('stored hashing rule (one shard holds every slot)'),
  hash_slots_policy: U("legacy 4096-slot hashing is RS-specific; only '16k'", oneOf('16k')),
  oss_cluster: U(OSS_API),
  oss_cluster_api_preferred_endpoint_type: U(OSS_API),
  oss_cluster_api_preferred_ip_type: U(OSS_API),
  oss_sharding: U('"for future use" in RS'),
  shard_block_crossslot_keys: U('blocking cross-slot keys in Lua needs RS\'s patched Redis'),
  shard_block_foreign_keys: S('with one shard no key is foreign, so either value holds'),
  mkms: U('multi-key multi-slot commands always work on one shard; refusing them is not implemented'),
  auto_shards_balancing: U(BALANCING),
  auto_shards_balancing_grace_period: U(BALANCING),
  shard_imbalance_threshold: U(BALANCING),
  shard_imbalance_threshold_percentage: U(BALANCING),
  slave_ha: U('replica high availability (moving replicas off failed nodes) is not implemented'),
  slave_ha_priority: U('replica high availability is not implemented'),
  slave_buffer: S('client-output-buffer-limit replica'),
  repl_backlog_size: S('repl-backlog-size'),
  proxy_policy: U("one proxy per database; only 'single'", oneOf('single')),
  data_internode_encryption: U('internode (replication) TLS is not implemented'),
  // persistence and backup
  data_persistence: S('appendonly / save'),
  aof_policy: S('appendfsync'),
  snapshot_policy: S('save'),
  master_persistence: S('persistence on the master shard too'),
  max_aof_file_size: U("an AOF size cap needs RS's patched Redis"),
  max_aof_load_time: U("an AOF load time cap needs RS's patched Redis"),
  recovery_wait_time: S('stored for database recovery'),
  backup: S('periodic backup'),
  backup_history: S('backup retention'),
  backup_interval: S('backup schedule'),
  backup_interval_offset: S('backup schedule'),
  backup_location: U('only NAS/local (mount_point) locations; no FTP, SFTP, S3, GCS or Azure client', localOnly),
  dataset_import_sources: U('only NAS/local (mount_point) sources', (v) => Array.isArray(v) && v.every(localOnly)),
  skip_import_analyze: S('stored import option'),
  // Redis behaviour
  eviction_policy: S('maxmemory-policy'),
  activedefrag: U("needs a redis-server built with Redis's own jemalloc; the OS package refuses it", oneOf('no')),
  active_defrag_cycle_max: S('active-defrag-cycle-max'),
  active_defrag_cycle_min: S('active-defrag-cycle-min'),
  active_defrag_ignore_bytes: S('active-defrag-ignore-bytes'),
  active_defrag_max_scan_fields: S('active-defrag-max-scan-fields'),
  active_defrag_threshold_lower: S('active-defrag-threshold-lower'),
  active_defrag_threshold_upper: S('active-defrag-threshold-upper'),
  maxclients: S('maxclients'),
  tracking_table_max_keys: S('tracking-table-max-keys'),
  resp3: S('RESP3 (HELLO 3) allowed or refused'),
  disabled_commands: S('commands refused for every user'),
  module_list: { ...U('open-source redis-server runs without modules unless the cluster installs them'), code: { create: 'missing_module', update: 'missing_module' } },
  search: U(MODULE('search'), empty),
  timeseries: U(MODULE('timeseries'), empty),
  probabilistic: U(MODULE('bf'), empty),
  query_performance_factor: U(MODULE('search'), empty),
  // access control and TLS
  authentication_admin_pass: S('admin password (replication/SYNC)'),
  authentication_redis_pass: S('default user password'),
  default_user: S('default user on/off'),
  roles_permissions: S('ACL users from roles'),
  disconnect_clients_on_password_removal: S('clients of removed passwords are disconnected'),
  authentication_sasl_uname: U('memcached SASL (no memcached databases)'),
  authentication_sasl_pass: U('memcached SASL (no memcached databases)'),
  tls_mode: U("TLS on replication links only ('replica_ssl') is not implemented", oneOf('enabled', 'disabled')),
  ssl: S('deprecated alias of tls_mode enabled'),
  enforce_client_authentication: S('mutual TLS on/off'),
  authentication_ssl_client_certs: S('client certificates trusted for mutual TLS'),
  authentication_ssl_crdt_certs: U(CRDT, empty),
  authorized_names: U(SUBJECTS, empty),
  authorized_subjects: U(SUBJECTS, empty),
  client_cert_subject_validation_type: U(SUBJECTS),
  mtls_allow_outdated_certs: U('certificate verification relaxations are not implemented'),
  mtls_allow_weak_hashing: U('certificate verification relaxations are not implemented'),
  audit_settings: U('database auditing is not implemented', (v) => ((v as { audit_mode?: string }).audit_mode ?? 'disabled') === 'disabled'),
  db_conns_auditing: U('database connection auditing is not implemented'),
  // alerts, metrics, upgrades, labels
  email_alerts: S('stored for the alerts feature'),
  metrics_export_all: S('stored for the metrics exporter'),
  auto_upgrade: S('stored (no runtime effect)'),
  tags: S('labels'),
  endpoint: S('stored (endpoint to reconfigure)'),
  // proxy (DMC) tuning
  conns: S(PROXY),
  conns_type: S(PROXY),
  conns_global_maximum_dedicated: S(PROXY),
  conns_minimum_dedicated: S(PROXY),
  max_connections: S('client connection limit at the proxy'),
  max_client_pipeline: S(PROXY),
  max_pipelined: S(PROXY),
  sched_policy: S(PROXY),
  link_sconn_on_full_request: S(PROXY),
  replica_sconns_on_demand: S(PROXY),
  multi_commands_opt: S(PROXY),
  partial_request_timeout_seconds: S(PROXY),
  preemptive_drain_timeout_seconds: S(PROXY),
  // Flash
  bigstore: U(FLASH),
  bigstore_ram_size: U(FLASH),
  bigstore_ram_weights: U(FLASH, empty),
  bigstore_version: U(FLASH),
  search_on_bigstore: U(FLASH),
  // Active-Active
  crdt: U(CRDT),
  crdt_causal_consistency: U(CRDT),
  crdt_config_version: U(CRDT),
  crdt_featureset_version: U(CRDT),
  crdt_ghost_replica_ids: U(CRDT),
  crdt_guid: U(CRDT),
  crdt_modules: U(CRDT),
  crdt_protocol_version: U(CRDT),
  crdt_repl_backlog_size: U(CRDT),
  crdt_replica_id: U(CRDT),
  crdt_replicas: U(CRDT),
  crdt_sources: U(CRDT, empty),
  crdt_sync: U(CRDT),
  crdt_sync_connection_alarm_timeout_seconds: U(CRDT),
  crdt_sync_dist: U(CRDT),
  crdt_syncer_auto_oom_unlatch: U(CRDT),
  crdt_xadd_id_uniqueness_mode: U(CRDT),
  replication_oom_threshold_percent: U(CRDT),
  // Replica Of (syncer)
  replica_read_only: U(SYNCER),
  replica_sources: U(SYNCER, empty),
  replica_sync: U(SYNCER),
  replica_sync_connection_alarm_timeout_seconds: U(SYNCER),
  replica_sync_dist: U(SYNCER),
  sync: U(SYNCER),
  sync_sources: U(SYNCER, empty),
  sync_dedicated_threads: U(SYNCER),
  syncer_log_level: U(SYNCER),
  support_syncer_reconf: U(SYNCER),
  generate_text_monitor: U(SYNCER),
  gradual_src_max_sources: U(SYNCER),
  gradual_src_mode: U(SYNCER),
  gradual_sync_max_shards_per_source: U(SYNCER),
  gradual_sync_mode: U(SYNCER),
  gradual_sync_policy: U(SYNCER),
  gradual_sync_policy_parameters: U(SYNCER),
  use_selective_flush: U(SYNCER),
};

/** Module configuration fields and the module_list name that unlocks them. */
export const MODULE_FOR_CONFIG: Readonly<Record<string, string>> = {
  search: 'search', timeseries: 'timeseries', probabilistic: 'bf', query_performance_factor: 'search',
};

export function classifyField(field: BdbSettableField): FieldSupport {
  const rule = BDB_FIELD_RULES[field];
  if (!rule) throw new TypeError(`'${String(field)}' is not a settable bdb field`);
  return rule.support;
}

/** Every field openrs accepts only with its default value, with the one-line reason. */
export function unsupportedFields(): ReadonlyMap<BdbSettableField, string> {
  return new Map(Object.entries(BDB_FIELD_RULES)
    .filter(([, r]) => r.support === 'unsupported-unless-default')
    .map(([f, r]) => [f as BdbSettableField, r.reason]));
}
