/** The node object (objects/node.md); value types follow the capture fixtures/redis-enterprise-rs/node_single.json. */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

export const nodeWritable = {
  accept_servers: Type.Boolean({ default: true, description: 'The node only accepts new shards if accept_servers is true' }),
  addr: Type.String({ minLength: 1, description: 'Internal IP address of node' }),
  external_addr: Type.Array(Type.String({ minLength: 1 }), { description: 'External IP addresses of node' }),
  max_listeners: Type.Integer({ minimum: 0, description: 'Maximum number of listeners on the node' }),
  max_redis_forks: Type.Integer({ minimum: -1, default: -1 }),
  max_redis_servers: Type.Integer({ minimum: 0, description: 'Maximum number of shards on the node' }),
  max_slave_full_syncs: Type.Integer({ minimum: -1, default: -1 }),
  rack_id: Type.String(),
  recovery_path: Type.String(),
  second_rack_id: Type.String(),
};

export const Node = Type.Object({
  uid: Type.Integer({ description: 'Cluster unique ID of node (read-only)' }),
  ...nodeWritable,
  architecture: Type.String(),
  bigredis_storage_path: Type.String(),
  bigstore_enabled: Type.Boolean(),
  cores: Type.Integer(),
  ephemeral_storage_path: Type.String(),
  ephemeral_storage_size: Type.Number(),
  fips_enabled: Type.Boolean(),
  flash_shard_count: Type.Integer(),
  os_family: Type.String(),
  os_name: Type.String(),
  os_semantic_version: Type.String(),
  os_version: Type.String(),
  persistent_storage_path: Type.String(),
  persistent_storage_size: Type.Number(),
  ram_shard_count: Type.Integer(),
  shard_count: Type.Integer(),
  shard_list: Type.Array(Type.Integer()),
  software_version: Type.String(),
  status: StrEnum(['active', 'decommissioning', 'down', 'provisioning']),
  supported_database_versions: Type.Array(Type.Object({ db_type: Type.String(), version: Type.String() }, { additionalProperties: true })),
  system_time: Type.String(),
  total_memory: Type.Integer(),
  uptime: Type.Integer(),
  use_internal_ipv6: Type.Boolean({ default: false }),
}, { description: 'An API object that represents a node in the cluster.' });
export type Node = Static<typeof Node>;

/** PUT /v1/nodes/{uid}: the editable attributes listed on requests/nodes. */
export const NodeUpdate = Type.Partial(Type.Object(nodeWritable), { additionalProperties: false });
export type NodeUpdate = Static<typeof NodeUpdate>;
