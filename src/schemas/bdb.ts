/**
 * The bdb (database) object: objects/bdb/_index.md and its sub-object pages, the bdb status
 * state machine (objects/bdb/status.md), and the request bodies of requests/bdbs/_index.md.
 *
 * Value types follow the real capture fixtures/redis-enterprise-rs/bdb_single.json where it
 * differs from the page: `active_defrag_ignore_bytes` is a byte-count string, `module_args`
 * is a string, `port` is 0 when it was auto-assigned (the real port is in `endpoints[]`),
 * the *_failure_reason / *_status fields are "" when idle, and `background_op` items may hold
 * only `status`. Fields the capture has but the page lacks are in `bdbCaptureOnly`.
 *
 * Field groups (the request schemas are built from them, STYLE habit 2):
 * - bdbWritable:    settable on create (POST) and update (PUT);
 * - bdbCreateOnly:  settable on create only; accepted by PUT only unchanged (bdb-rules);
 * - bdbReadOnly:    reported, never settable (the page's "(read-only)" plus shard_list/status);
 * - bdbCaptureOnly: undocumented fields RS reports (read-only for openrs).
 */
import { Type, type Static, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import { MAX_UID, StrEnum } from './common.js';
import {
  AuditSettings, AuthorizedSubject, BackgroundOp, BackupLocation, BdbEndpoint, BigstoreRamWeight, ClientCert,
  DatasetImportSource, GradualSyncPolicyParameters, ModuleListEntry, Probabilistic, QueryPerformanceFactor,
  RecoveryPlan, RolePermission, Search, ShardKeyRegex, SnapshotPolicy, SyncerSource, SyncSource, Tag, Timeseries,
} from './bdb-objects.js';

export * from './bdb-objects.js';

// ---------------------------------------------------------------------------------------------
// Status state machine (objects/bdb/status.md)

export const BDB_STATUSES = [
  'pending', 'active', 'active-change-pending', 'delete-pending', 'import-pending', 'creation-failed', 'recovery',
] as const;
export type BdbStatus = (typeof BDB_STATUSES)[number];

/** "Possible next status" column of status.md; a status with no entry is terminal. */
export const BDB_STATUS_TRANSITIONS: Readonly<Record<BdbStatus, readonly BdbStatus[]>> = {
  pending: ['active', 'creation-failed'],
  active: ['active-change-pending', 'import-pending', 'delete-pending'],
  'active-change-pending': ['active'],
  'import-pending': ['active'],
  'creation-failed': [],
  'delete-pending': [],
  recovery: [], // "Not currently relevant (intended for future use)"
};

export function canBdbTransition(from: BdbStatus, to: BdbStatus): boolean {
  return BDB_STATUS_TRANSITIONS[from].includes(to);
}

/** Values of replica_sync / crdt_sync / sync (objects/bdb/replica_sync.md). */
export const SYNC_STATES = ['enabled', 'disabled', 'paused', 'stopped'] as const;
/** replica_sync.md "Possible next status". */
export const SYNC_TRANSITIONS: Readonly<Record<(typeof SYNC_STATES)[number], readonly (typeof SYNC_STATES)[number][]>> = {
  disabled: ['enabled'],
  enabled: ['stopped', 'paused'],
  paused: ['enabled', 'stopped'],
  stopped: ['enabled'],
};

export const EVICTION_POLICIES = [
  'volatile-lru', 'volatile-ttl', 'volatile-random', 'allkeys-lru', 'allkeys-random', 'noeviction',
  'volatile-lfu', 'allkeys-lfu', 'allkeys-lrm', 'volatile-lrm',
] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

const SyncState = (description: string) => StrEnum(SYNC_STATES, { default: 'disabled', description });
const Progress = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });
/** Reason/status fields are "" in the capture while no backup/export/import has run. */
const OpStatus = (description: string) => StrEnum(['', 'exporting', 'succeeded', 'failed'], { description });
const FailureReason = (description: string) =>
  StrEnum(['', 'no-permission', 'wrong-file-path', 'general-error'], { description });

// ---------------------------------------------------------------------------------------------
// Field groups

/** Fields a client may set on create and change on update. */
export const bdbWritable = {
  name: Type.String({
    description: 'Database name. Only letters, numbers, or hyphens are valid characters. The name must start and end with a letter or number (max 63 characters, case-sensitive).',
  }),
  account_id: Type.Integer({ description: 'SM account ID' }),
  active_defrag_cycle_max: Type.Integer({ minimum: 1, maximum: 99, description: 'Maximum CPU percentage used for defragmentation when the upper threshold is reached' }),
  active_defrag_cycle_min: Type.Integer({ minimum: 1, maximum: 99, default: 1, description: 'Minimal CPU percentage used for defragmentation when the lower threshold is reached' }),
  // Digits bounded per unit so that the amount stays below 2^53 bytes: exact here, and a memory value Redis takes.
  active_defrag_ignore_bytes: Type.String({
    pattern: '^([0-9]{1,15}|[0-9]{1,12}[kK][bB]?|[0-9]{1,9}[mM][bB]?|[0-9]{1,6}[gG][bB]?)$', default: '104857600',
    description: 'Minimum amount of fragmentation waste to start active defragmentation (default: 100mb, reported in bytes as in the capture)',
  }),
  // Redis 7.0 takes 1 and more (createULongConfig active-defrag-max-scan-fields, 1..LONG_MAX).
  active_defrag_max_scan_fields: Type.Integer({ minimum: 1, default: 1000, description: 'Maximum number of set/hash/zset/list fields that will be processed from the main dictionary scan' }),
  active_defrag_threshold_lower: Type.Integer({ minimum: 0, maximum: 1000, default: 10, description: 'Minimum percentage of fragmentation to start active defragmentation' }),
  active_defrag_threshold_upper: Type.Integer({ minimum: 0, maximum: 1000, default: 100, description: 'Maximum percentage of fragmentation at which maximum effort is used' }),
  activedefrag: StrEnum(['yes', 'no'], { default: 'no', description: 'Enable or turn off active defragmentation functionality' }),
  aof_policy: StrEnum(['appendfsync-every-sec', 'appendfsync-always'], { default: 'appendfsync-every-sec', description: 'Policy for Append-Only File data persistence' }),
  audit_settings: AuditSettings,
  authentication_admin_pass: Type.String({ description: 'Password for administrative access to the BDB (used for SYNC from the BDB)' }),
  authentication_redis_pass: Type.String({ description: 'Redis AUTH password (deprecated as of v7.2, replaced by multiple passwords)' }),
  authentication_sasl_pass: Type.String({ description: 'Binary memcache SASL password' }),
  authentication_sasl_uname: Type.String({ pattern: '^[^&<>"]*$', description: 'Binary memcache SASL username' }),
  authentication_ssl_client_certs: Type.Array(ClientCert, { description: 'List of authorized client certificates' }),
  authentication_ssl_crdt_certs: Type.Array(ClientCert, { description: 'List of authorized CRDT certificates' }),
  authorized_names: Type.Array(Type.String(), { description: 'Additional certified names (deprecated as of v6.4.2; use authorized_subjects)' }),
  authorized_subjects: Type.Array(AuthorizedSubject, { description: 'Valid subjects for additional certificate validations during TLS client authentication (case-sensitive)' }),
  auto_shards_balancing: Type.Boolean({ default: false, description: 'Automatically balance database shards (for future use; should not be changed)' }),
  auto_shards_balancing_grace_period: Type.Integer({ minimum: 0, default: 120, description: 'Time to wait before auto sharding is initiated (for future use; should not be changed)' }),
  auto_upgrade: Type.Boolean({ default: false, description: 'Upgrade the database automatically after a cluster upgrade' }),
  avoid_nodes: Type.Array(Type.String(), { description: "Cluster node UIDs to avoid when placing the database's shards and binding its endpoints" }),
  backup: Type.Boolean({ default: false, description: 'Policy for periodic database backup' }),
  backup_history: Type.Integer({ minimum: 0, default: 0, description: 'Backup history retention policy (number of days, 0 is forever)' }),
  backup_interval: Type.Integer({ minimum: 0, description: 'Interval in seconds in which automatic backup will be initiated' }),
  backup_interval_offset: Type.Integer({ minimum: 0, description: 'Offset (in seconds) from round backup interval when automatic backup will be initiated (should be less than backup_interval)' }),
  backup_location: BackupLocation,
  bigstore: Type.Boolean({ default: false, description: 'Database bigstore option' }),
  bigstore_ram_size: Type.Integer({ minimum: 0, default: 0, description: 'Memory size of bigstore RAM part' }),
  bigstore_ram_weights: Type.Array(BigstoreRamWeight, { description: 'List of shard UIDs and their bigstore RAM weights' }),
  bigstore_version: Type.Union([Type.Literal(1), Type.Literal(2)], {
    default: 1, description: '1 for Auto Tiering (default), 2 for Redis Flex (speedb driver only)',
  }),
  client_cert_subject_validation_type: StrEnum(['disabled', 'san_cn', 'full_subject'], { description: 'Additional certificate validations during TLS client authentication' }),
  conns: Type.Integer({ minimum: 1, default: 5, description: 'Number of internal proxy connections' }),
  conns_global_maximum_dedicated: Type.Integer({ minimum: 0, default: 0, description: 'Maximum number of dedicated server connections for the database, across all workers (0 is unlimited)' }),
  conns_minimum_dedicated: Type.Integer({ minimum: 0, default: 2, description: 'Number of dedicated server connections the DMC has per worker per shard' }),
  conns_type: StrEnum(['per-thread', 'per-shard'], { default: 'per-thread', description: 'Connections limit type' }),
  crdt: Type.Boolean({ default: false, description: 'Use CRDT-based data types for multi-master replication' }),
  crdt_causal_consistency: Type.Boolean({ default: false, description: 'Causal consistent CRDB' }),
  crdt_config_version: Type.Integer({ description: 'Replica-set configuration version, for internal use only' }),
  crdt_featureset_version: Type.Integer({ description: 'CRDB active FeatureSet version' }),
  crdt_ghost_replica_ids: Type.String({ description: 'Removed replicas IDs, for internal use only' }),
  crdt_guid: Type.String({ description: 'GUID of CRDB this database belongs to, for internal use only' }),
  crdt_modules: Type.String({ description: 'CRDB modules information: the string representation of a JSON list' }),
  crdt_protocol_version: Type.Integer({ description: 'CRDB active Protocol version' }),
  crdt_repl_backlog_size: Type.String({ description: "Active-Active replication backlog size ('auto' or size in bytes)" }),
  crdt_replica_id: Type.Integer({ description: 'Local replica ID, for internal use only' }),
  crdt_replicas: Type.String({ description: 'Replica set configuration, for internal use only' }),
  crdt_sources: Type.Array(SyncerSource, { description: 'Remote endpoints/peers of CRDB database to sync from' }),
  crdt_sync: SyncState('Enable, disable, or pause syncing from crdt_sources (Active-Active only)'),
  crdt_sync_connection_alarm_timeout_seconds: Type.Integer({ minimum: 0, default: 0, description: 'Raise a connection alarm if the syncer takes longer than this to connect to an Active-Active database' }),
  crdt_sync_dist: Type.Boolean({ description: 'Enable/disable distributed syncer in master-master' }),
  crdt_syncer_auto_oom_unlatch: Type.Boolean({ default: true, description: 'Syncer automatically attempts to recover synchronisation from peers after an Out-Of-Memory error' }),
  crdt_xadd_id_uniqueness_mode: StrEnum(['liberal', 'strict', 'semi-strict'], { default: 'strict', description: 'XADD strict ID uniqueness mode (CRDT only)' }),
  data_internode_encryption: Type.Boolean({ description: 'Encrypt the data plane internode communication for this database' }),
  data_persistence: StrEnum(['disabled', 'snapshot', 'aof'], { default: 'disabled', description: 'Database on-disk persistence policy; snapshot needs a snapshot_policy' }),
  dataset_import_sources: Type.Array(DatasetImportSource, { description: 'Source file locations to import from when performing an import action (write-only)' }),
  db_conns_auditing: Type.Boolean({ description: 'Database connection auditing (deprecated as of 8.2.0; use audit_settings.audit_mode)' }),
  default_user: Type.Boolean({ default: true, description: 'Allow/disallow a default user to connect' }),
  disabled_commands: Type.String({ default: '', description: 'Redis commands which are disabled in db' }),
  disconnect_clients_on_password_removal: Type.Boolean({ default: false, description: 'Disconnect client connections using removed, revoked, or rotated passwords' }),
  email_alerts: Type.Boolean({ default: false, description: 'Send email alerts for this DB' }),
  endpoint: Type.String({ description: 'Latest bound endpoint. Used when reconfiguring an endpoint via update' }),
  enforce_client_authentication: StrEnum(['enabled', 'disabled'], { default: 'enabled', description: 'Require authentication of client certificates for SSL connections to the database' }),
  eviction_policy: StrEnum(EVICTION_POLICIES, { default: 'volatile-lru', description: "Database eviction policy (Redis style); Redis DB default 'volatile-lru', memcached DB default 'allkeys-lru'" }),
  generate_text_monitor: Type.Boolean({ description: 'Enable/disable generation of syncer monitoring information' }),
  gradual_src_max_sources: Type.Integer({ minimum: 1, default: 1, description: 'Sync a maximum N sources in parallel (gradual_src_mode must be enabled)' }),
  gradual_src_mode: StrEnum(['enabled', 'disabled'], { description: 'Indicates if gradual sync (of sync sources) should be activated' }),
  gradual_sync_max_shards_per_source: Type.Integer({ minimum: 1, default: 1, description: 'Sync a maximum of N shards per source in parallel (gradual_sync_mode must be enabled)' }),
  gradual_sync_mode: StrEnum(['enabled', 'disabled', 'auto'], { description: "Indicates if gradual sync (of source shards) should be activated ('auto' for automatic decision)" }),
  gradual_sync_policy: StrEnum(['default', 'non-gradual', 'migration', 'replica', 'active-active', 'custom'], { default: 'default', description: 'Managed gradual (parallel) full sync policy for replica synchronization' }),
  gradual_sync_policy_parameters: GradualSyncPolicyParameters,
  hash_slots_policy: StrEnum(['legacy', '16k'], { description: "The policy used for hash slots handling: 'legacy' is slots 1-4096, '16k' is 0-16383" }),
  implicit_shard_key: Type.Boolean({ default: false, description: 'If a key matches none of the shard_key_regex rules: true hashes the entire key, false returns an error' }),
  internal: Type.Boolean({ default: false, description: 'Is this a database used by the cluster internally' }),
  link_sconn_on_full_request: StrEnum(['enabled', 'disabled', 'ssl_only'], { default: 'disabled', description: 'Feature-flag for DMC behaviour on linking client request' }),
  max_aof_file_size: Type.Integer({ minimum: 0, default: 322122547200, description: "Maximum size for shard's AOF file (bytes). Default 300GB (on bigstore DB 150GB)" }),
  max_aof_load_time: Type.Integer({ minimum: 0, default: 3600, description: "Maximum time shard's AOF reload should take (seconds)" }),
  max_client_pipeline: Type.Integer({ minimum: 1, maximum: 2047, default: 200, description: 'Maximum number of pipelined commands per connection' }),
  max_connections: Type.Integer({ minimum: 0, default: 0, description: 'Maximum number of client connections allowed (0 unlimited)' }),
  max_pipelined: Type.Integer({ minimum: 1, default: 2000, description: "Maximum number of commands in the proxy's pipeline per shard connection" }),
  maxclients: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10000, description: 'The maximum number of connected clients at the same time' }),
  master_persistence: Type.Boolean({ default: false, description: 'Persist the primary shard in addition to replica shards in a replicated and persistent database' }),
  memory_size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Database memory limit (0 is unlimited), expressed in bytes' }),
  metrics_export_all: Type.Boolean({ description: 'Enable/disable exposing all shard metrics through the metrics exporter' }),
  mkms: Type.Boolean({ default: true, description: 'Are MKMS (Multi Key Multi Slots) commands supported?' }),
  module_list: Type.Array(ModuleListEntry, { description: 'List of modules associated with the database' }),
  mtls_allow_outdated_certs: Type.Boolean({ description: 'An optional mTLS relaxation flag for certs verification' }),
  mtls_allow_weak_hashing: Type.Boolean({ description: 'An optional mTLS relaxation flag for certs verification' }),
  multi_commands_opt: StrEnum(['disabled', 'batch', 'auto'], { description: "Batch MULTI/EXEC transactions ('auto' uses the cluster setting)" }),
  oss_cluster: Type.Boolean({ default: false, description: "OSS Cluster mode option. Cannot be enabled with 'hash_slots_policy': 'legacy'" }),
  oss_cluster_api_preferred_endpoint_type: StrEnum(['ip', 'hostname'], { default: 'ip', description: 'Endpoint type in the OSS cluster API' }),
  oss_cluster_api_preferred_ip_type: StrEnum(['internal', 'external'], { default: 'internal', description: 'Internal/external IP type in OSS cluster API. Default value for new endpoints' }),
  oss_sharding: Type.Boolean({ default: false, description: 'For future use; should not be changed' }),
  partial_request_timeout_seconds: Type.Integer({ minimum: 0, default: 3, description: 'Time out commands that stop being written midway (head-of-line blocking) after this many seconds' }),
  preemptive_drain_timeout_seconds: Type.Integer({ minimum: 0, default: 2, description: 'Timeout in seconds for preemptive drain of client connections before a shard is taken down' }),
  probabilistic: Probabilistic,
  proxy_policy: StrEnum(['single', 'all-master-shards', 'all-nodes'], { description: 'The default policy used for proxy binding to endpoints' }),
  query_performance_factor: QueryPerformanceFactor,
  rack_aware: Type.Boolean({ default: false, description: 'Require the database to always replicate across multiple racks' }),
  recovery_wait_time: Type.Integer({ minimum: -1, default: -1, description: 'Seconds to wait for the persistence file during auto recovery (-1 waits forever)' }),
  repl_backlog_size: Type.String({ pattern: '^(auto|[0-9]{1,15})$', description: "Redis replication backlog size ('auto' or size in bytes)" }),
  replica_sconns_on_demand: StrEnum(['enabled', 'disabled'], { default: 'enabled', description: 'Reduce DMC internode connections by at least 50%' }),
  replica_sources: Type.Array(SyncerSource, { description: 'Remote endpoints of database to sync from (Replica Of)' }),
  replica_sync: SyncState('Enable, disable, or pause syncing from specified replica_sources'),
  replica_sync_connection_alarm_timeout_seconds: Type.Integer({ minimum: 0, default: 0, description: 'Raise a connection alarm if the syncer takes longer than this to connect to a replica' }),
  replica_sync_dist: Type.Boolean({ description: 'Enable/disable distributed syncer in replica-of' }),
  replication: Type.Boolean({ default: false, description: 'In-memory database replication mode' }),
  replication_oom_threshold_percent: Type.Integer({ minimum: 0, maximum: 20, default: 5, description: 'Reserved memory buffer percentage below maxmemory that blocks client writes while allowing Active-Active replication (CRDT only)' }),
  resp3: Type.Boolean({ default: true, description: 'Enables or deactivates RESP3 support' }),
  roles_permissions: Type.Array(RolePermission, { description: 'Roles and the Redis ACLs they get on this database' }),
  sched_policy: StrEnum(['cmp', 'mru', 'spread', 'mnp'], { description: 'How server-side connections are used when forwarding traffic to shards' }),
  search: Search,
  search_on_bigstore: Type.Boolean({ default: false, description: 'Include search module in Redis on flash v2 (Flex databases)' }),
  shard_block_crossslot_keys: Type.Boolean({ default: false, description: 'In Lua scripts, prevent use of keys from different hash slots within the range owned by the current shard' }),
  shard_block_foreign_keys: Type.Boolean({ default: true, description: 'In Lua scripts, prevent use of keys which could reside in a different shard' }),
  shard_imbalance_threshold: Type.Number({ default: 314572800, description: 'Balance shards only if their imbalance is greater than this (for future use)' }),
  shard_imbalance_threshold_percentage: Type.Integer({ default: 20, description: 'Balance shards only if their imbalance percentage is greater than this (for future use)' }),
  shard_key_regex: Type.Array(ShardKeyRegex, { description: 'Custom keyname-based sharding rules' }),
  sharding: Type.Boolean({ default: false, description: 'Cluster mode (server-side sharding). When true, shard hashing rules must be provided by shard_key_regex' }),
  shards_count: Type.Integer({ minimum: 1, maximum: 512, default: 1, description: 'Number of database server-side shards' }),
  shards_placement: StrEnum(['dense', 'sparse'], { description: "'dense': shards on as few nodes as possible; 'sparse': on as many nodes as possible" }),
  skip_import_analyze: StrEnum(['enabled', 'disabled'], { description: 'Enable/disable skipping the analysis stage when importing an RDB file' }),
  // At most 9 digits each: a limit in MB stays an exact byte count (below 2^53) when the manager applies it.
  slave_buffer: Type.String({ pattern: '^(auto|[0-9]{1,9}|[0-9]{1,9}:[0-9]{1,9}:[0-9]{1,9})$', description: "Redis replica output buffer limits: 'auto', value in MB, or hard:soft:time" }),
  slave_ha: Type.Boolean({ description: 'Enable replica high availability mechanism for this database (default takes the cluster setting)' }),
  slave_ha_priority: Type.Integer({ description: 'Priority of the BDB in replica high availability mechanism' }),
  snapshot_policy: Type.Array(SnapshotPolicy, { description: 'Policy for snapshot-based data persistence' }),
  ssl: Type.Boolean({ default: false, description: 'Require SSL authenticated and encrypted connections (deprecated as of v5.0.1)' }),
  support_syncer_reconf: Type.Boolean({ description: 'Whether the syncer handles its own configuration changes' }),
  sync: SyncState('Deprecated as of v5.0.1: use replica_sync or crdt_sync'),
  sync_dedicated_threads: Type.Integer({ minimum: 0, maximum: 10, default: 5, description: 'Number of dedicated Replica Of threads' }),
  sync_sources: Type.Array(SyncSource, { description: 'Deprecated as of v5.0.1: use replica_sources or crdt_sources' }),
  syncer_log_level: StrEnum(['crit', 'error', 'warn', 'info', 'trace', 'debug'], { default: 'info', description: 'Minimum syncer log level to log' }),
  tags: Type.Array(Tag, { description: 'Tag objects attached to the database; keys must be unique' }),
  timeseries: Timeseries,
  tls_mode: StrEnum(['enabled', 'disabled', 'replica_ssl'], { default: 'disabled', description: 'Require TLS-authenticated and encrypted connections to the database' }),
  tracking_table_max_keys: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The client-side caching invalidation table size. 0 makes the cache unlimited' }),
  use_nodes: Type.Array(Type.String(), { description: 'Cluster node UIDs to use for database shards and bound endpoints' }),
  use_selective_flush: Type.Boolean({ default: true, description: 'If true, enable selective flush of destination shards' }),
};

/** Fields settable only when the database is created (a PUT may repeat the current value). */
export const bdbCreateOnly = {
  uid: Type.Integer({ minimum: 1, maximum: MAX_UID, description: 'Cluster unique ID of database. Can be set during creation but cannot be updated' }),
  port: Type.Integer({
    minimum: 0, maximum: 65535,
    description: 'TCP port on which the database is available. Generated automatically if omitted and returned as 0 (create only)',
  }),
  redis_version: Type.String({ description: 'Version of the redis-server processes: e.g. 6.0 (create only; changed by upgrade)' }),
  replica_read_only: Type.Boolean({ default: false, description: 'Active-Passive Replica Of databases only allow reads. Only configurable during database creation' }),
  type: StrEnum(['redis', 'memcached'], { default: 'redis', description: 'Type of database (create only)' }),
  version: Type.String({ description: 'Database compatibility version, such as 6.0.6. Can only change during creation and upgrades' }),
};

/** Fields the cluster reports and a client never sets. */
export const bdbReadOnly = {
  action_uid: Type.String({ description: "Currently running action's UID (read-only)" }),
  background_op: Type.Array(BackgroundOp, { description: 'Deprecated as of v7.8.2: use GET /v1/actions/bdb/<bdb_uid> (read-only)' }),
  backup_failure_reason: FailureReason('Reason of last failed backup process (read-only)'),
  backup_progress: Progress('Database scheduled periodic backup progress (percentage) (read-only)'),
  backup_status: OpStatus('Status of scheduled periodic backup process (read-only)'),
  created_time: Type.String({ description: 'The date and time the database was created (read-only)' }),
  dns_address_master: Type.String({ description: 'Database private address endpoint FQDN (read-only, deprecated as of v4.3.3)' }),
  endpoint_ip: Type.Array(Type.String(), { description: "External IP addresses of node hosting the BDB's endpoint (read-only, deprecated as of v4.3.3)" }),
  endpoint_node: Type.Integer({ description: "Node UID hosting the BDB's endpoint (read-only, deprecated as of v4.3.3)" }),
  endpoints: Type.Array(BdbEndpoint, { description: 'List of database access endpoints (read-only)' }),
  export_failure_reason: FailureReason('Reason of last failed export process (read-only)'),
  export_progress: Progress('Database manually triggered export progress (percentage) (read-only)'),
  export_status: OpStatus('Status of manually triggered export process (read-only)'),
  import_failure_reason: Type.Union([
    StrEnum(['', 'download-error', 'file-corrupted', 'general-error', 'key-too-long', 'invalid-bulk-length', 'out-of-memory']),
    Type.String({ pattern: '^file-larger-than-mem-limit:[0-9]+:[0-9]+$' }),
  ], { description: 'Import failure reason (read-only)' }),
  import_progress: Progress('Database import progress (percentage) (read-only)'),
  import_status: StrEnum(['', 'idle', 'initializing', 'importing', 'succeeded', 'failed'], { description: 'Database import process status (read-only)' }),
  last_backup_time: Type.String({ description: 'Time of last successful backup (read-only)' }),
  last_changed_time: Type.String({ description: 'Last administrative configuration change (read-only)' }),
  last_export_time: Type.String({ description: 'Time of last successful export (read-only)' }),
  shard_list: Type.Array(Type.Integer(), { description: 'Cluster unique IDs of all database shards' }),
  status: StrEnum(BDB_STATUSES, { description: 'Database lifecycle status (read-only)' }),
  syncer_mode: StrEnum(['distributed', 'centralized'], { description: 'Syncer on a single node (centralized) or on each node with a proxy (distributed) (read-only)' }),
  traffic_manually_disabled: Type.Boolean({ description: 'Whether traffic was manually turned off using the stop_traffic API (read-only)' }),
  wait_command: Type.Boolean({ default: true, description: 'Supports Redis wait command (read-only)' }),
};

/** Reported by RS (capture bdb_single.json) but not on the page; read-only for openrs. */
export const bdbCaptureOnly = {
  acl: Type.Array(Type.Unknown(), { description: 'Undocumented (capture: [])' }),
  bigstore_max_ram_ratio: Type.Integer({ description: 'Undocumented bigstore setting (capture: 10)' }),
  compare_key_hslot: Type.Boolean({ description: 'Undocumented (capture: false)' }),
  dns_suffixes: Type.Array(Type.Unknown(), { description: 'Undocumented (capture: [])' }),
  flush_on_fullsync: Type.Boolean({ description: 'Undocumented syncer setting (capture: true)' }),
  group_uid: Type.Integer({ description: 'Undocumented: bdb group (objects/bdb_group.md) the database belongs to, 0 for none' }),
  redis_cluster_enabled: Type.Boolean({ description: 'Undocumented (capture: false)' }),
  throughput_ingress: Type.Number({ description: 'Undocumented (capture: 0)' }),
  topology_epoch: Type.Integer({ description: 'Undocumented (capture: 1)' }),
};

/** Fields RS returns for every database (those of the capture); the rest are optional in `Bdb`. */
export const BDB_ALWAYS_PRESENT = [
  'acl', 'active_defrag_cycle_max', 'active_defrag_cycle_min', 'active_defrag_ignore_bytes', 'active_defrag_max_scan_fields',
  'active_defrag_threshold_lower', 'active_defrag_threshold_upper', 'activedefrag', 'aof_policy', 'authentication_admin_pass',
  'authentication_redis_pass', 'authentication_sasl_pass', 'authentication_sasl_uname', 'authentication_ssl_client_certs',
  'authentication_ssl_crdt_certs', 'authorized_subjects', 'auto_upgrade', 'background_op', 'backup', 'backup_failure_reason',
  'backup_history', 'backup_interval', 'backup_progress', 'backup_status', 'bigstore', 'bigstore_max_ram_ratio',
  'bigstore_ram_size', 'bigstore_version', 'client_cert_subject_validation_type', 'compare_key_hslot', 'conns', 'conns_type',
  'crdt', 'crdt_causal_consistency', 'crdt_config_version', 'crdt_ghost_replica_ids', 'crdt_guid', 'crdt_modules',
  'crdt_repl_backlog_size', 'crdt_replica_id', 'crdt_replicas', 'crdt_sources', 'crdt_sync',
  'crdt_sync_connection_alarm_timeout_seconds', 'crdt_sync_dist', 'crdt_syncer_auto_oom_unlatch',
  'crdt_xadd_id_uniqueness_mode', 'created_time', 'data_internode_encryption', 'data_persistence', 'dataset_import_sources',
  'db_conns_auditing', 'default_user', 'dns_address_master', 'dns_suffixes', 'email_alerts', 'endpoints', 'eviction_policy',
  'export_failure_reason', 'export_progress', 'export_status', 'flush_on_fullsync', 'generate_text_monitor',
  'gradual_src_max_sources', 'gradual_src_mode', 'gradual_sync_max_shards_per_source', 'gradual_sync_mode', 'group_uid',
  'hash_slots_policy', 'implicit_shard_key', 'import_failure_reason', 'import_progress', 'import_status', 'internal',
  'last_changed_time', 'master_persistence', 'max_aof_file_size', 'max_aof_load_time', 'max_client_pipeline',
  'max_connections', 'max_pipelined', 'maxclients', 'memory_size', 'metrics_export_all', 'mkms', 'module_list',
  'mtls_allow_outdated_certs', 'mtls_allow_weak_hashing', 'multi_commands_opt', 'name', 'oss_cluster',
  'oss_cluster_api_preferred_endpoint_type', 'oss_cluster_api_preferred_ip_type', 'oss_sharding', 'port', 'proxy_policy',
  'rack_aware', 'recovery_wait_time', 'redis_cluster_enabled', 'redis_version', 'repl_backlog_size', 'replica_read_only',
  'replica_sources', 'replica_sync', 'replica_sync_connection_alarm_timeout_seconds', 'replica_sync_dist', 'replication',
  'resp3', 'roles_permissions', 'sched_policy', 'shard_block_crossslot_keys', 'shard_block_foreign_keys', 'shard_key_regex',
  'shard_list', 'sharding', 'shards_count', 'shards_placement', 'skip_import_analyze', 'slave_buffer', 'slave_ha',
  'slave_ha_priority', 'snapshot_policy', 'ssl', 'status', 'support_syncer_reconf', 'sync', 'sync_dedicated_threads',
  'sync_sources', 'syncer_log_level', 'syncer_mode', 'throughput_ingress', 'tls_mode', 'topology_epoch',
  'tracking_table_max_keys', 'type', 'uid', 'use_selective_flush', 'version', 'wait_command',
] as const;

// ---------------------------------------------------------------------------------------------
// Object and request schemas

type Optionalized<T extends TProperties> = { [K in keyof T]: TOptional<T[K]> };

function optionalAll<T extends TProperties>(props: T): Optionalized<T> {
  return Object.fromEntries(Object.entries(props).map(([k, s]) => [k, Type.Optional(s)])) as Optionalized<T>;
}

type AlwaysPresent = (typeof BDB_ALWAYS_PRESENT)[number];
const allProps = { ...bdbWritable, ...bdbCreateOnly, ...bdbReadOnly, ...bdbCaptureOnly };
type AllProps = typeof allProps;
type BdbProps = { [K in keyof AllProps]: K extends AlwaysPresent ? AllProps[K] : TOptional<AllProps[K]> };

const always = new Set<string>(BDB_ALWAYS_PRESENT);
const bdbProps = Object.fromEntries(
  Object.entries(allProps).map(([k, s]) => [k, always.has(k) ? s : Type.Optional(s as TSchema)]),
) as BdbProps;

/** A database as GET /v1/bdbs/{uid} returns it. */
export const Bdb = Type.Object(bdbProps, {
  additionalProperties: false,
  description: 'An API object that represents a managed database in the cluster.',
});
export type Bdb = Static<typeof Bdb>;

/**
 * `shards_blueprint` of POST and PUT /v1/bdbs (requests/bdbs/actions/optimize_shards_placement.md): where each
 * shard goes, as GET .../optimize_shards_placement answers it. A request field only: checked, never stored.
 */
export const ShardsBlueprint = Type.Array(Type.Object({
  nodes: Type.Array(Type.Object({ node_uid: Type.String(), role: StrEnum(['master', 'slave']) }, { additionalProperties: false }), { minItems: 1 }),
  slot_range: Type.String(),
}, { additionalProperties: false }), { description: 'Shard placement blueprint (from optimize_shards_placement, rebalance or revamp dry runs)' });
export type ShardsBlueprint = Static<typeof ShardsBlueprint>;

/**
 * POST /v1/bdbs body. name and memory_size are required, but checked in bdb-rules, which answers the
 * page's 406 missing_db_name / missing_memory_size.
 */
export const BdbCreate = Type.Object({
  ...optionalAll(bdbWritable),
  ...optionalAll(bdbCreateOnly),
  shards_blueprint: Type.Optional(ShardsBlueprint),
}, { additionalProperties: false, description: 'A new database: name and memory_size plus any writable bdb field' });
export type BdbCreate = Static<typeof BdbCreate>;

/** PUT /v1/bdbs/{uid} body. Create-only fields are accepted only with their current value (bdb-rules). */
export const BdbUpdate = Type.Object({
  ...optionalAll(bdbWritable),
  ...optionalAll(bdbCreateOnly),
  shards_blueprint: Type.Optional(ShardsBlueprint),
}, { additionalProperties: false, description: 'Database fields to change; create-only fields may only repeat the current value' });
export type BdbUpdate = Static<typeof BdbUpdate>;

/** POST /v2/bdbs body: the bdb under "bdb", with an optional recovery plan. */
export const BdbCreateV2 = Type.Object({
  bdb: BdbCreate,
  recovery_plan: Type.Optional(RecoveryPlan),
}, { additionalProperties: false, description: 'Create a database (v2), optionally recovering it from persistence files' });
export type BdbCreateV2 = Static<typeof BdbCreateV2>;

export const BDB_WRITABLE_FIELDS = Object.keys(bdbWritable) as (keyof typeof bdbWritable)[];
export const BDB_CREATE_ONLY_FIELDS = Object.keys(bdbCreateOnly) as (keyof typeof bdbCreateOnly)[];
export const BDB_READ_ONLY_FIELDS = [...Object.keys(bdbReadOnly), ...Object.keys(bdbCaptureOnly)] as (keyof Bdb)[];
/** Every field a request may name (create or update). */
export type BdbSettableField = keyof typeof bdbWritable | keyof typeof bdbCreateOnly;

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * Values RS reports for a database whose creator did not set them, where the page gives no
 * default: taken from the capture bdb_single.json (an RS 8.0 database created with name and
 * memory_size only). `port: 0` is what RS reports for an auto-assigned port.
 */
const CAPTURE_DEFAULTS: Partial<Bdb> = {
  acl: [],
  active_defrag_cycle_max: 25,
  authentication_redis_pass: '',
  authentication_sasl_pass: '',
  authentication_sasl_uname: '',
  authentication_ssl_client_certs: [],
  authentication_ssl_crdt_certs: [],
  authorized_subjects: [],
  background_op: [{ status: 'idle' }],
  backup_failure_reason: '',
  backup_interval: 86400,
  backup_progress: 0,
  backup_status: '',
  bigstore_max_ram_ratio: 10,
  client_cert_subject_validation_type: 'disabled',
  compare_key_hslot: false,
  crdt_config_version: 0,
  crdt_ghost_replica_ids: '',
  crdt_guid: '',
  crdt_modules: '[]',
  crdt_repl_backlog_size: 'auto',
  crdt_replica_id: 0,
  crdt_replicas: '',
  crdt_sources: [],
  crdt_sync_dist: true,
  data_internode_encryption: false,
  dataset_import_sources: [],
  db_conns_auditing: false,
  dns_address_master: '',
  dns_suffixes: [],
  export_failure_reason: '',
  export_progress: 0,
  export_status: '',
  flush_on_fullsync: true,
  generate_text_monitor: false,
  gradual_src_mode: 'disabled',
  gradual_sync_mode: 'auto',
  group_uid: 0,
  hash_slots_policy: '16k',
  import_failure_reason: '',
  import_progress: 0,
  import_status: '',
  metrics_export_all: false,
  module_list: [],
  mtls_allow_outdated_certs: false,
  mtls_allow_weak_hashing: false,
  multi_commands_opt: 'auto',
  port: 0,
  proxy_policy: 'single',
  redis_cluster_enabled: false,
  repl_backlog_size: 'auto',
  replica_sources: [],
  replica_sync_dist: true,
  roles_permissions: [],
  sched_policy: 'cmp',
  shard_key_regex: [],
  shards_placement: 'dense',
  skip_import_analyze: 'disabled',
  slave_buffer: 'auto',
  slave_ha_priority: 0,
  snapshot_policy: [],
  support_syncer_reconf: true,
  sync_sources: [],
  syncer_mode: 'distributed',
  throughput_ingress: 0,
  topology_epoch: 1,
  tracking_table_max_keys: 1000000,
};

/** Documented defaults of sub-objects that the page states in prose rather than as `default`. */
const PROSE_DEFAULTS: Partial<Bdb> = {
  // gradual_sync_policy_parameters: "src_endpoint_limit (default: 1) ... src_node_limit (default: -1)"
  gradual_sync_policy_parameters: { src_endpoint_limit: 1, src_node_limit: -1 },
};

function schemaDefaults(): Partial<Bdb> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(Bdb.properties)) {
    const d = (s as { default?: unknown }).default;
    if (d !== undefined) out[k] = structuredClone(d);
  }
  return out as Partial<Bdb>;
}

/**
 * The record a new database starts from before the request body is applied: the page's
 * defaults (the schema `default`s, including sub-object defaults it states in prose), then
 * the capture's values for fields the page gives none. `slave_ha` "takes the cluster setting".
 * Module configuration objects (search, timeseries, probabilistic, query_performance_factor)
 * are not included: RS reports them only for databases with that module (`moduleDefaults()`).
 */
export function bdbDefaults(cluster: { slave_ha?: boolean } = {}): Partial<Bdb> {
  return {
    ...structuredClone(CAPTURE_DEFAULTS),
    ...structuredClone(PROSE_DEFAULTS),
    ...schemaDefaults(),
    slave_ha: cluster.slave_ha ?? false,
  };
}

/** `bdbDefaults()` under the name the brief uses. */
export const BDB_DEFAULTS = bdbDefaults;
