/**
 * Sub-objects of the bdb object (objects/bdb/*.md and the nested shapes on objects/bdb/_index.md).
 * Re-exported by ./bdb.js; kept apart so bdb.ts stays about the bdb itself.
 */
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import { StrEnum } from './common.js';

/** objects/bdb/snapshot_policy.md: a snapshot every `secs` if at least `writes` changes. */
export const SnapshotPolicy = Type.Object({
  secs: Type.Integer({ minimum: 1, description: 'Interval in seconds between snapshots' }),
  // redis-server keeps `save`'s change count in a C int: a larger one wraps (2^32+1 → 1 write, 3e9 → negative).
  writes: Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Number of write changes required to trigger a snapshot' }),
}, { additionalProperties: false });
export type SnapshotPolicy = Static<typeof SnapshotPolicy>;

const subdir = Type.Optional(Type.String({ description: 'Path to the backup directory in the bucket/container (optional)' }));

/**
 * objects/bdb/backup_location.md (and, with `filename`, dataset_import_sources.md): one
 * location object per `type`. Azure's account_key and sas_token are mutually exclusive.
 */
function locations<E extends TProperties>(filename: E) {
  const strict = { additionalProperties: false };
  return [
    Type.Object({ type: Type.Literal('url'), url: Type.String({ description: 'ftp://user:password@host:port/path/ (FTP/S; HTTP/S for imports)' }) }, strict),
    Type.Object({
      type: Type.Literal('sftp'),
      sftp_url: Type.String({ description: 'sftp://user:password@host[:port][/path/]' }),
      key: Type.Optional(Type.String({ description: "SSH private key; the cluster's own key if omitted" })),
    }, strict),
    Type.Object({
      type: Type.Literal('s3'),
      access_key_id: Type.String(), secret_access_key: Type.String(), bucket_name: Type.String(),
      region_name: Type.Optional(Type.String()), subdir, ...filename,
    }, strict),
    Type.Object({
      type: Type.Literal('gs'),
      bucket_name: Type.String(), client_email: Type.String(), client_id: Type.String(),
      private_key: Type.String(), private_key_id: Type.String(), subdir, ...filename,
    }, strict),
    Type.Object({
      type: Type.Literal('abs'),
      account_name: Type.String(), container: Type.String(),
      account_key: Type.Optional(Type.String()), sas_token: Type.Optional(Type.String()), subdir, ...filename,
    }, strict),
    Type.Object({ type: Type.Literal('mount_point'), path: Type.String({ description: 'Path to the local mount point (or file, for imports)' }) }, strict),
  ] as const;
}
export const LOCATION_TYPES = ['url', 'sftp', 's3', 'gs', 'abs', 'mount_point'] as const;

export const BackupLocation = Type.Union([...locations({})], { description: 'Target for automatic database backups' });
export type BackupLocation = Static<typeof BackupLocation>;
export const DatasetImportSource = Type.Union([...locations({ filename: Type.String({ description: 'RDB filename, including the file extension' }) })], { description: 'RDB (or gzipped RDB) file to import' });
export type DatasetImportSource = Static<typeof DatasetImportSource>;

/** objects/bdb/syncer_sources.md: a Replica Of / Active-Active source. */
export const SyncerSource = Type.Object({
  uid: Type.Optional(Type.Integer({ description: 'Unique ID of this source' })),
  uri: Type.String({ description: 'Source Redis URI' }),
  client_cert: Type.Optional(Type.String({ description: 'Client certificate to use if encryption is enabled' })),
  client_key: Type.Optional(Type.String({ description: 'Client key to use if encryption is enabled' })),
  compression: Type.Optional(Type.Integer({ minimum: 0, maximum: 6, description: 'Compression level for the replication link' })),
  encryption: Type.Optional(Type.Boolean({ description: 'Encryption enabled/disabled' })),
  lag: Type.Optional(Type.Integer({ description: 'Lag in milliseconds between source and destination (while synced)' })),
  last_error: Type.Optional(Type.String({ description: 'Last error encountered when syncing from the source' })),
  last_update: Type.Optional(Type.String({ description: 'Time when we last received an update from the source' })),
  rdb_size: Type.Optional(Type.Integer({ description: "The source's RDB size to be transferred during the syncing phase" })),
  rdb_transferred: Type.Optional(Type.Integer({ description: "Number of bytes transferred from the source's RDB during the syncing phase" })),
  replication_tls_sni: Type.Optional(Type.String({ description: 'Replication TLS server name indication' })),
  server_cert: Type.Optional(Type.String({ description: 'Server certificate to use if encryption is enabled' })),
  status: Type.Optional(Type.String({ description: "Sync status of this source: 'out-of-sync', 'syncing' or 'in-sync' (replica_sources_status.md)" })),
}, { additionalProperties: false });
export type SyncerSource = Static<typeof SyncerSource>;

/** replica_sources_status.md: statuses and their possible next statuses. */
export const REPLICA_SOURCE_STATUS_TRANSITIONS = {
  'out-of-sync': ['syncing'],
  syncing: ['in-sync', 'out-of-sync'],
  'in-sync': ['syncing', 'out-of-sync'],
} as const;

/** Deprecated `sync_sources` items (objects/bdb/_index.md). */
export const SyncSource = Type.Object({
  uid: Type.Optional(Type.Integer()), uri: Type.String(), compression: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 })),
  status: Type.Optional(Type.String()), rdb_transferred: Type.Optional(Type.Integer()), rdb_size: Type.Optional(Type.Integer()),
  last_update: Type.Optional(Type.String()), lag: Type.Optional(Type.Integer()), last_error: Type.Optional(Type.String()),
}, { additionalProperties: false });

/** `endpoints[]` items, shaped like the capture (uid "1:1", addr array, dns_name, port). */
export const BdbEndpoint = Type.Object({
  uid: Type.String({ description: 'Unique identification of this endpoint, "<bdb_uid>:<n>"' }),
  dns_name: Type.String({ description: "Endpoint's DNS name" }),
  port: Type.Integer({ minimum: 0, maximum: 65535, description: "Endpoint's TCP port number" }),
  addr: Type.Array(Type.String(), { description: "Endpoint's accessible addresses" }),
  addr_type: StrEnum(['internal', 'external'], { description: 'Whether the endpoint is based on internal or external IPs' }),
  proxy_policy: StrEnum(['single', 'all-master-shards', 'all-nodes'], { description: 'The policy used for proxy binding to the endpoint' }),
  exclude_proxies: Type.Optional(Type.Array(Type.Integer(), { description: 'List of proxies to exclude' })),
  include_proxies: Type.Optional(Type.Array(Type.Integer(), { description: 'List of proxies to include' })),
  oss_cluster_api_preferred_ip_type: StrEnum(['internal', 'external'], { description: 'Preferred IP type in the OSS cluster API' }),
  oss_cluster_api_preferred_endpoint_type: StrEnum(['ip', 'hostname'], { description: 'Preferred endpoint type in the OSS cluster API' }),
}, { additionalProperties: false });
export type BdbEndpoint = Static<typeof BdbEndpoint>;

/**
 * `module_list[]` items. module_args is a string in the capture (the page shows a list of
 * strings/nulls); module_id and semantic_version are optional as of 7.4.2.
 */
export const ModuleListEntry = Type.Object({
  module_name: Type.Optional(Type.String({ description: "Module's name" })),
  module_id: Type.Optional(Type.String({ description: 'Module UID (deprecated; use module_name)' })),
  module_args: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Union([Type.String(), Type.Null()])), Type.Null()], {
    description: 'Module command-line arguments (deprecated as of 8.0)',
  })),
  semantic_version: Type.Optional(Type.String({ description: "Module's semantic version (deprecated)" })),
}, { additionalProperties: false });
export type ModuleListEntry = Static<typeof ModuleListEntry>;

export const RolePermission = Type.Object({
  role_uid: Type.Integer({ description: 'Role UID' }),
  redis_acl_uid: Type.Integer({ description: 'Redis ACL UID' }),
}, { additionalProperties: false });

export const Tag = Type.Object({
  key: Type.String({ minLength: 1, pattern: '^[^&<>"]*$', description: "The tag's meaning; unique among the database's tags" }),
  value: Type.String({ description: "The tag's value" }),
}, { additionalProperties: false });

export const ClientCert = Type.Object({
  client_cert: Type.String({ description: 'X.509 PEM (base64) encoded certificate' }),
}, { additionalProperties: false });

/** authorized_subjects[] items: CN required; OU is an array; C a 2-letter country code. */
export const AuthorizedSubject = Type.Object({
  CN: Type.String({ description: 'Common Name' }),
  O: Type.Optional(Type.String({ description: 'Organization' })),
  OU: Type.Optional(Type.Array(Type.String(), { description: 'Organizational Unit' })),
  L: Type.Optional(Type.String({ description: 'Locality (city)' })),
  ST: Type.Optional(Type.String({ description: 'State/Province' })),
  C: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: '2-letter country code' })),
}, { additionalProperties: false });

export const BigstoreRamWeight = Type.Object({
  shard_uid: Type.Integer({ description: 'Shard UID' }),
  weight: Type.Number({ description: 'Relative weight of RAM distribution' }),
}, { additionalProperties: false });

export const ShardKeyRegex = Type.Object({
  regex: Type.String({ description: 'Key name regex; its `tag` group (or the whole match) is hashed' }),
}, { additionalProperties: false });

/** The rules the page gives for "the default rules". */
export const DEFAULT_SHARD_KEY_REGEX = [{ regex: '.*\\{(?<tag>.*)\\}.*' }, { regex: '(?<tag>.*)' }];

/** background_op[] items (deprecated, read-only); the capture has `[{"status":"idle"}]`. */
export const BackgroundOp = Type.Object({
  status: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  error: Type.Optional(Type.Unknown({ description: 'Error object' })),
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Percent of completed steps in current operation' })),
}, { additionalProperties: false });

/** A gradual sync limit: -1 (no limit) or a positive integer; 0 is not valid. */
const SyncLimit = (description: string, dflt?: number) =>
  Type.Union([Type.Literal(-1), Type.Integer({ minimum: 1 })], dflt === undefined ? { description } : { description, default: dflt });

export const GradualSyncPolicyParameters = Type.Object({
  src_endpoint_limit: Type.Optional(SyncLimit('Source endpoint limit', 1)),
  dst_endpoint_limit: Type.Optional(SyncLimit('Destination endpoint limit')),
  dst_shard_limit: Type.Optional(SyncLimit('Destination shard limit')),
  src_node_limit: Type.Optional(SyncLimit('Source node limit', -1)),
}, { additionalProperties: false, description: 'Gradual full sync limits, applied when gradual_sync_policy is custom' });

const FilterType = StrEnum(['inclusive', 'exclusive'], { default: 'inclusive' });
const USERNAME_PATTERN = '^[ !#-%\'-;=?-~]{1,255}$'; // printable ASCII without & < > "

/** objects/bdb/audit_settings.md */
export const AuditSettings = Type.Object({
  audit_mode: Type.Optional(StrEnum(['disabled', 'connection', 'connection_and_crud'], { default: 'disabled', description: 'Per-database auditing mode' })),
  username_filter: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean({ default: false })),
    usernames: Type.Optional(Type.Array(Type.String({ pattern: USERNAME_PATTERN }), { maxItems: 512, default: [] })),
    filter_type: Type.Optional(FilterType),
    allow_while_username_unknown: Type.Optional(Type.Boolean({ default: false })),
  }, { additionalProperties: false, description: 'Which client usernames are included in or excluded from CRUD audit records' })),
  source_ip_filter: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean({ default: false })),
    ip_addresses: Type.Optional(Type.Array(Type.String(), { default: [], description: 'Bare IPv4 or IPv6 addresses' })),
    cidr_ranges: Type.Optional(Type.Array(Type.String(), { default: [], description: 'IPv4 or IPv6 CIDR ranges' })),
    filter_type: Type.Optional(FilterType),
  }, { additionalProperties: false, description: 'Which client source IPs are included in or excluded from CRUD audit records' })),
  max_total_key_bytes: Type.Optional(Type.Integer({ minimum: 0, default: 131072, description: 'Maximum total key bytes captured in a single command audit record' })),
}, {
  additionalProperties: false,
  default: {
    audit_mode: 'disabled',
    username_filter: { enabled: false, usernames: [], filter_type: 'inclusive', allow_while_username_unknown: false },
    source_ip_filter: { enabled: false, ip_addresses: [], cidr_ranges: [], filter_type: 'inclusive' },
    max_total_key_bytes: 131072,
  },
  description: 'Per-database connection and CRUD auditing',
});
export type AuditSettings = Static<typeof AuditSettings>;

/** objects/bdb/query_performance_factor.md */
export const QueryPerformanceFactor = Type.Object({
  active: Type.Optional(Type.Boolean({ default: false, description: 'If true, enables query performance factor for the database' })),
  scaling_factor: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, default: 0, description: 'Scales the magnitude of the query performance factor' })),
}, { additionalProperties: false, description: 'Query performance factor (search) settings' });

/** POST /v2/bdbs `recovery_plan` (the page shows only this much of its shape). */
export const RecoveryPlan = Type.Object({
  original_bdb_shards: Type.Array(Type.Object({
    uid: Type.String(),
    node_uid: Type.String(),
    role: StrEnum(['master', 'slave']),
    assigned_slots: Type.String(),
  }, { additionalProperties: true })),
}, { additionalProperties: true, description: 'Recover the new database from persistence files of these shards' });
export type RecoveryPlan = Static<typeof RecoveryPlan>;

// Module configuration objects (objects/bdb/search.md, timeseries.md, probabilistic.md);
// RS reports them only with ?extended=true. Ranges above 2^53 are left open.
export const searchFields = {
  'search-timeout': Type.Integer({ minimum: 1, default: 500, description: 'The maximum amount of time in milliseconds that a search query is allowed to run.' }),
  'search-ext-load': Type.String({ description: 'If present, Redis Search will try to load an extension dynamic library from its specified file path. Requires a database restart to take effect.' }),
  'search-max-doctablesize': Type.Integer({ minimum: 1, default: 1000000, description: 'The maximum size of the internal hash table used for storing the documents. Requires a database restart to take effect.' }),
  'search-friso-ini': Type.String({ description: 'If present, load the custom Chinese dictionary from the specified path. Requires a database restart to take effect.' }),
  'search-cursor-max-idle': Type.Integer({ minimum: 1, default: 300000, description: 'The maximum idle time in milliseconds that can be set to the cursor api.' }),
  'search-partial-indexed-docs': Type.Integer({ minimum: 0, default: 0, description: 'Enable or turn off the Redis command filter. Requires a database restart to take effect.' }),
  'search-gc-scan-size': Type.Integer({ minimum: 1, default: 100, description: 'The bulk size of the internal GC used for cleaning up indexes. Requires a database restart to take effect.' }),
  'search-no-gc': Type.Boolean({ default: false, description: 'If set, Garbage Collection is deactivated for all indexes. Requires a database restart to take effect.' }),
  'search-fork-gc-run-interval': Type.Integer({ minimum: 1, default: 30, description: 'Interval in seconds between two consecutive fork GC runs.' }),
  'search-fork-gc-retry-interval': Type.Integer({ minimum: 1, default: 5, description: 'Interval in seconds in which Redis Search will retry to run fork GC in case of a failure.' }),
  'search-fork-gc-clean-threshold': Type.Integer({ minimum: 1, default: 100, description: 'The fork GC will only start to clean when the number of not cleaned documents exceeds this threshold; otherwise, it will skip this run.' }),
  'search-vss-max-resize': Type.Integer({ minimum: 0, maximum: 4294967295, default: 0, description: 'The maximum memory resize for vector similarity indexes in bytes.' }),
  'search-union-iterator-heap': Type.Integer({ minimum: 1, default: 20, description: 'The minimum number of iterators in a union from which the iterator will switch to heap-based implementation.' }),
  'search-min-phonetic-term-len': Type.Integer({ minimum: 1, default: 3, description: 'Minimum length of term to be considered for phonetic matching.' }),
  'search-multi-text-slop': Type.Integer({ minimum: 1, maximum: 4294967295, default: 100, description: 'Set Redis Search delta used to increase positional offsets between array slots for multi-text values. Requires a database restart to take effect.' }),
  'search-raw-docid-encoding': Type.Boolean({ default: false, description: 'Turn off compression for DocID inverted index. Boost CPU performance. Requires a database restart to take effect.' }),
  'search-_print-profile-clock': Type.Boolean({ default: true, description: 'Turn off print of time for ft.profile. For testing only.' }),
  'search-_free-resource-on-thread': Type.Boolean({ default: true, description: 'Determine whether some index resources are free on a second thread' }),
  'search-_numeric-compress': Type.Boolean({ default: false, description: 'Enable legacy compression of double to float.' }),
  'search-bg-index-sleep-gap': Type.Integer({ minimum: 1, maximum: 4294967295, default: 100, description: 'The number of iterations to run while performing background indexing before we call usleep(1) (sleep for 1 micro-second) and make sure that we allow Redis to process other commands. Requires a database restart to take effect.' }),
  'search-_numeric-ranges-parents': Type.Integer({ minimum: 0, maximum: 2, default: 0, description: 'Keep numeric ranges in numeric tree parent nodes of leaves for x' }),
  'search-fork-gc-sleep-before-exit': Type.Integer({ minimum: 0, default: 0, description: 'Set the number of seconds for the fork GC to sleep before exists, should always be set to 0 (other then on tests).' }),
  'search-no-mem-pools': Type.Boolean({ default: false, description: 'Set Redis Search to run without memory pools. Requires a database restart to take effect.' }),
  'search-_prioritize-intersect-union-children': Type.Boolean({ default: false, description: 'Intersection iterator orders the children iterators by their relative estimated number of results in ascending order. If the first iterators have a lower count of results, skips a larger number of results, which translates into faster iteration. If this flag is set, we use this optimization in a way where union iterators are being factorized by the number of their own children, so that we sort by the number of children times the overall estimated number of results instead.' }),
  'search-conn-per-shard': Type.Integer({ minimum: 0, default: 0, description: 'Number of connections to each shard in the cluster. Default to 0. If 0, the number of connections is set to WORKERS + 1.' }),
  'search-cursor-reply-threshold': Type.Integer({ minimum: 1, default: 1, description: 'Maximum number of replies to accumulate before triggering _FT.CURSOR READ on the shards' }),
  'search-threads': Type.Integer({ description: 'Maximum number of replies to accumulate before triggering _FT.CURSOR READ on the shards. Requires a database restart to take effect.' }),
  'search-default-dialect': Type.Integer({ minimum: 1, maximum: 4, default: 1, description: 'The default DIALECT to be used by FT.CREATE, FT.AGGREGATE, FT.EXPLAIN, FT.EXPLAINCLI, and FT.SPELLCHECK.' }),
  'search-topology-validation-timeout': Type.Integer({ minimum: 0, default: 30000, description: 'Sets the timeout for topology validation (in milliseconds). After this timeout, any pending requests will be processed, even if the topology is not fully connected.' }),
  'search-workers': Type.Integer({ minimum: 0, maximum: 8192, default: 0, description: 'Number of worker threads to use for query processing and background tasks.' }),
  'search-min-operation-workers': Type.Integer({ minimum: 0, maximum: 8192, default: 4, description: 'Number of worker threads to use for background tasks when the server is in an operation event.' }),
  'search-tiered-hnsw-buffer-limit': Type.Integer({ minimum: 0, default: 1024, description: 'Sets the buffer limit threshold for vector similarity tiered HNSW index. If using WORKERS for indexing and the number of vectors waiting in the buffer to be indexed exceeds this limit, inserts new vectors directly into HNSW. Requires a database restart to take effect.' }),
  'search-workers-priority-bias-threshold': Type.Integer({ minimum: 0, default: 1, description: 'The number of high-priority tasks to run at any given time by the worker thread pool, before executing low-priority tasks. After this number of high-priority tasks are running, the worker thread pool will run high and low-priority tasks alternately. Requires a database restart to take effect.' }),
  'search-on-timeout': StrEnum(['RETURN', 'FAIL'], { default: 'RETURN', description: 'The response policy for queries that exceed the TIMEOUT setting can be one of the following: RETURN / FAIL' }),
  'search-min-prefix': Type.Integer({ minimum: 1, default: 2, description: 'The minimum number of characters allowed for prefix queries (e.g., hel*)' }),
  'search-min-stem-len': Type.Integer({ minimum: 2, maximum: 4294967295, default: 4, description: 'The minimum word length to stem' }),
  'search-max-prefix-expansions': Type.Integer({ minimum: 1, default: 200, description: 'The maximum number of expansions allowed for query prefixes' }),
  'search-max-search-results': Type.Integer({ minimum: 0, default: 1000000, description: 'The maximum number of results to be returned by the FT.SEARCH command if LIMIT is used' }),
  'search-max-aggregate-results': Type.Integer({ minimum: 0, default: 2147483648, description: 'The maximum number of results to be returned by the FT.AGGREGATE command if LIMIT is used' }),
  'search-io-threads': Type.Integer({ minimum: 1, maximum: 256, default: 1, description: 'The number of threads the coordinator is using for IO threads to handle network to/from other shards' }),
  'search-enable-unstable-features': Type.Boolean({ default: false, description: 'Enable unstable features.' }),
  'search-index-cursor-limit': Type.Integer({ minimum: 0, default: 128, description: 'The maximum number of cursors that can be opened, per shard, at any given time. Cursors can be opened by the user via FT.AGGREGATE WITHCURSOR. Cursors are also opened internally by Redis Search for long-running queries. Once INDEX_CURSOR_LIMIT is reached, any further attempts to open a cursor will result in an error.' }),
  'search-bm25std-tanh-factor': Type.Integer({ minimum: 1, maximum: 10000, default: 4, description: 'Set the BM25STD.TANH stretch factor. This is an integer value that divides the argument of the tanh function that is used to normalize the score computed by the BM25STD scorer.' }),
  'search-indexer-yield-every-ops': Type.Integer({ minimum: 1, maximum: 4294967295, default: 1000, description: 'The number of operations to perform before yielding to Redis during indexing while loading.' }),
  'search-on-oom': StrEnum(['return', 'fail', 'ignore'], { default: 'return', description: 'Action to perform when search OOM is exceeded.' }),
  'search-default-scorer': StrEnum(['TFIDF', 'BM25', 'TFIDF.DOCNORM', 'BM25STD', 'BM25STD.TANH', 'BM25STD.NORM', 'DISMAX', 'DOCSCORE', 'HAMMING'], { default: 'BM25STD', description: 'Default scorer to use when no scorer is specified in queries.' }),
  'search-_bg-index-mem-pct-thr': Type.Integer({ minimum: 0, maximum: 100, default: 100, description: 'Set the percentage of memory usage threshold out of maxmemory at which background indexing will stop.' }),
  'search-_bg-index-oom-pause-time': Type.Integer({ minimum: 0, maximum: 4294967295, default: 5, description: 'Set the time in seconds given to the background indexing thread to sleep when it reaches the memory limit.' }),
  'search-bg-index-sleep-duration-us': Type.Integer({ minimum: 0, maximum: 999999, default: 1, description: 'Sleep duration in microseconds (µs) during background indexing.' }),
};
export const timeseriesFields = {
  'ts-num-threads': Type.Integer({ minimum: 1, maximum: 16, description: 'Number of threads for time series operations. Requires a database restart to take effect.' }),
  'ts-compaction-policy': Type.String({ description: 'Default compaction rules. This default value is applied to each new time series upon its creation' }),
  'ts-retention-policy': Type.Integer({ minimum: 0, default: 0, description: 'Default retention period, in milliseconds. This default value is applied to each new time series upon its creation, but if COMPACTION_POLICY is specified, it is overridden for created compactions as specified in COMPACTION_POLICY.' }),
  'ts-duplicate-policy': StrEnum(['BLOCK', 'FIRST', 'LAST', 'MIN', 'MAX', 'SUM'], { default: 'BLOCK', description: 'Default policy for handling insertion of multiple samples with identical timestamps. This default value is applied to each new time series upon its creation.' }),
  'ts-encoding': StrEnum(['COMPRESSED', 'UNCOMPRESSED'], { default: 'COMPRESSED', description: 'Default chunk encoding for automatically-created compacted time series. This default value is applied to each new compacted time series automatically created due to the creation of a new time series when COMPACTION_POLICY is specified.' }),
  'ts-chunk-size-bytes': Type.Integer({ minimum: 48, maximum: 1048576, default: 4096, description: 'Default initial allocation size, in bytes, for the data part of each new chunk. This default value is applied to each new time series upon its creation.' }),
  'ts-ignore-max-time-diff': Type.Integer({ minimum: 0, default: 0, description: 'Default maximum time difference that can be expired to consider a new insertion to be a duplicate. This default value is applied to each new time series upon its creation.' }),
  'ts-ignore-max-val-diff': Type.Number({ default: 0, description: 'Default maximum value difference for a new insertion to be considered a duplicate. This default value is applied to each new time series upon its creation.' }),
};
export const probabilisticFields = {
  'bf-error-rate': Type.Number({ minimum: 0, maximum: 1, default: 0.01, description: 'Error ratio for new Bloom filters. These defaults are applied to each new Bloom filter upon its creation.' }),
  'bf-initial-size': Type.Integer({ minimum: 1, maximum: 1048576, default: 100, description: 'Initial capacity for new Bloom filters. These defaults are applied to each new Bloom filter upon its creation.' }),
  'bf-expansion-factor': Type.Integer({ minimum: 0, maximum: 32768, default: 2, description: 'Expansion factor for new Bloom filters. These defaults are applied to each new Bloom filter upon its creation.' }),
  'cf-initial-size': Type.Integer({ minimum: 1, maximum: 1048576, default: 1024, description: 'Initial capacity for new Cuckoo filters. These defaults are applied to each new Cuckoo filter upon its creation.' }),
  'cf-bucket-size': Type.Integer({ minimum: 1, maximum: 255, default: 2, description: 'Number of items in each bucket for new Cuckoo filters. These defaults are applied to each new Cuckoo filter upon its creation.' }),
  'cf-max-iterations': Type.Integer({ minimum: 1, maximum: 65535, default: 20, description: 'Maximum iterations for new Cuckoo filters. These defaults are applied to each new Cuckoo filter upon its creation.' }),
  'cf-expansion-factor': Type.Integer({ minimum: 0, maximum: 32768, default: 1, description: 'Expansion factor for new Cuckoo filters. These defaults are applied to each new Cuckoo filter upon its creation.' }),
  'cf-max-expansions': Type.Integer({ minimum: 1, maximum: 65536, default: 32, description: 'Maximum expansions for new Cuckoo filters. These defaults are applied to each new Cuckoo filter upon its creation.' }),
};

const optionalEach = <T extends Record<string, TSchema>>(props: T) =>
  Type.Partial(Type.Object(props), { additionalProperties: false });

export const Search = Type.Object(optionalEach(searchFields).properties, { additionalProperties: false, description: 'Configuration fields for Redis Search' });
export const Timeseries = Type.Object(optionalEach(timeseriesFields).properties, { additionalProperties: false, description: 'Configuration fields for timeseries' });
export const Probabilistic = Type.Object(optionalEach(probabilisticFields).properties, { additionalProperties: false, description: 'Configuration fields for probabilistic data structures' });

function defaultsOf(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).flatMap(([k, s]) => {
    const d = (s as { default?: unknown }).default;
    return d === undefined ? [] : [[k, d]];
  }));
}

/** The documented defaults of the module configuration objects, for databases with that module. */
export function moduleDefaults() {
  return {
    search: defaultsOf(searchFields) as Static<typeof Search>,
    timeseries: defaultsOf(timeseriesFields) as Static<typeof Timeseries>,
    probabilistic: defaultsOf(probabilisticFields) as Static<typeof Probabilistic>,
    query_performance_factor: { active: false, scaling_factor: 0 } as Static<typeof QueryPerformanceFactor>,
  };
}
