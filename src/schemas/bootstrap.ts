/** The bootstrap configuration object (objects/bootstrap/*) and the bootstrap status response. */
import { Type, type Static } from '@sinclair/typebox';
import { PortNumber, StrEnum } from './common.js';

export const BOOTSTRAP_ACTIONS = ['create_cluster', 'join_cluster', 'recover_cluster'] as const;

const Paths = Type.Object({
  bigstore_path: Type.Optional(Type.String({ minLength: 1 })),
  ccs_persistent_path: Type.Optional(Type.String({ minLength: 1 })),
  ephemeral_path: Type.Optional(Type.String({ minLength: 1 })),
  persistent_path: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false, description: 'Storage paths object' });

const Identity = Type.Object({
  uid: Type.Optional(Type.Integer({ minimum: 1 })),
  accept_servers: Type.Optional(Type.Boolean({ default: true })),
  addr: Type.Optional(Type.String({ minLength: 1 })),
  external_addr: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  name: Type.Optional(Type.String()),
  override_rack_id: Type.Optional(Type.Boolean()),
  rack_id: Type.Optional(Type.String()),
  second_rack_id: Type.Optional(Type.String()),
  use_internal_ipv6: Type.Optional(Type.Boolean({ default: false })),
}, { additionalProperties: false, description: 'Node identity' });

const Limits = Type.Object({
  max_listeners: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),
  max_redis_servers: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),
}, { additionalProperties: false });

const NodeIdentity = Type.Object({
  bigstore_driver: Type.Optional(StrEnum(['rocksdb', 'speedb'])),
  bigstore_enabled: Type.Optional(Type.Boolean({ default: false })),
  identity: Type.Optional(Identity),
  limits: Type.Optional(Limits),
  paths: Type.Optional(Paths),
}, { additionalProperties: false, description: 'Node description' });

const ClusterIdentity = Type.Object({
  name: Type.Optional(Type.String({ description: 'Fully qualified cluster name (RFC 952 / RFC 1123, at most 64 characters)' })),
  nodes: Type.Optional(Type.Array(Type.String())),
  wait_command: Type.Optional(Type.Boolean({ default: true })),
}, { additionalProperties: false });

const Credentials = Type.Object({
  client_cert: Type.Optional(Type.String()),
  client_key: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  trusted_ca: Type.Optional(Type.String()),
  username: Type.Optional(Type.String({ pattern: '^[^&<>"]*$' })),
}, { additionalProperties: false });

const BootstrapPolicy = Type.Object({
  default_fork_evict_ram: Type.Optional(Type.Boolean()),
  default_non_sharded_proxy_policy: Type.Optional(StrEnum(['single', 'all-master-shards', 'all-nodes'])),
  default_sharded_proxy_policy: Type.Optional(StrEnum(['single', 'all-master-shards', 'all-nodes'])),
  default_shards_placement: Type.Optional(StrEnum(['dense', 'sparse'])),
  rack_aware: Type.Optional(Type.Boolean()),
  shards_overbooking: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const Bootstrap = Type.Object({
  action: Type.Optional(StrEnum(BOOTSTRAP_ACTIONS)),
  cluster: Type.Optional(ClusterIdentity),
  cnm_https_port: Type.Optional(PortNumber),
  crdb_coordinator_port: Type.Optional(PortNumber),
  credentials: Type.Optional(Credentials),
  dns_suffixes: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  envoy_admin_port: Type.Optional(PortNumber),
  envoy_mgmt_server_port: Type.Optional(PortNumber),
  gossip_envoy_admin_port: Type.Optional(PortNumber),
  license: Type.Optional(Type.String()),
  max_retries: Type.Optional(Type.Integer({ minimum: 0 })),
  node: Type.Optional(NodeIdentity),
  policy: Type.Optional(BootstrapPolicy),
  recovery_filename: Type.Optional(Type.String()),
  required_version: Type.Optional(Type.String()),
  retry_time: Type.Optional(Type.Integer({ minimum: 0 })),
  user_defined_modules: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  witness_disk: Type.Optional(Type.Object({}, { additionalProperties: true })),
}, { additionalProperties: false, description: 'A bootstrap configuration object.' });
export type Bootstrap = Static<typeof Bootstrap>;

export const BOOTSTRAP_STATES = ['idle', 'initiated', 'creating_cluster', 'recovering_cluster', 'joining_cluster', 'error', 'completed'] as const;
export type BootstrapState = (typeof BOOTSTRAP_STATES)[number];

export const BootstrapStatus = Type.Object({
  state: StrEnum(BOOTSTRAP_STATES),
  start_time: Type.Optional(Type.String()),
  end_time: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_details: Type.Optional(Type.Object({ message: Type.Optional(Type.String()) }, { additionalProperties: true })),
});
export type BootstrapStatus = Static<typeof BootstrapStatus>;
