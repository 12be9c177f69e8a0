/**
 * The shard object (objects/shard/_index.md, backup.md, loading.md, sync.md), shaped like the
 * capture fixtures/redis-enterprise-rs/shards_list.json: uid and node_uid are strings,
 * `loading` may hold only `status`, and `backup` / `sync` / `bigstore_ram_weight` are absent
 * when they do not apply.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

export const SHARD_ROLES = ['master', 'slave'] as const;
export type ShardRole = (typeof SHARD_ROLES)[number];

/** A shard changes role only by failover (master → slave) or promotion (slave → master). */
export const SHARD_ROLE_TRANSITIONS: Readonly<Record<ShardRole, readonly ShardRole[]>> = {
  master: ['slave'],
  slave: ['master'],
};

export const SHARD_STATUSES = ['active', 'inactive', 'trimming'] as const;
export const SHARD_DETAILED_STATUSES = ['busy', 'down', 'importing', 'loading', 'ok', 'timeout', 'trimming', 'unknown'] as const;
export type ShardDetailedStatus = (typeof SHARD_DETAILED_STATUSES)[number];

export const ShardBackup = Type.Object({
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Shard backup progress (percentage)' })),
  status: StrEnum(['exporting', 'succeeded', 'failed'], { description: 'Status of scheduled periodic backup process' }),
}, { additionalProperties: false });

export const ShardLoading = Type.Object({
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Percentage of bytes already loaded' })),
  status: StrEnum(['in_progress', 'idle'], { description: 'Status of the load of a dump file (read-only)' }),
}, { additionalProperties: false });

export const ShardSync = Type.Object({
  progress: Type.Optional(Type.Integer({ description: 'Number of bytes remaining in current sync' })),
  status: StrEnum(['in_progress', 'idle', 'link_down'], { description: "Indication of the shard's current sync status" }),
}, { additionalProperties: false });

export const Shard = Type.Object({
  uid: Type.String({ description: 'Cluster unique ID of shard' }),
  assigned_slots: Type.String({ description: 'Shards hash slot range, e.g. "0-16383"' }),
  backup: Type.Optional(ShardBackup),
  bdb_uid: Type.Integer({ description: 'The ID of the database this shard belongs to' }),
  bigstore_ram_weight: Type.Optional(Type.Number({ description: 'Shards RAM distribution weight' })),
  detailed_status: StrEnum(SHARD_DETAILED_STATUSES, { description: 'A more detailed status of the shard' }),
  loading: ShardLoading,
  node_uid: Type.String({ description: 'The ID of the node this shard is located on' }),
  redis_info: Type.Record(Type.String(), Type.Unknown(), { description: 'A sub-dictionary of the Redis INFO command' }),
  report_timestamp: Type.String({ description: "The time in which the shard's info was collected (read-only)" }),
  role: StrEnum(SHARD_ROLES, { description: 'Role of this shard' }),
  status: StrEnum(SHARD_STATUSES, { description: 'The current status of the shard' }),
  sync: Type.Optional(ShardSync),
}, { additionalProperties: false, description: 'An API object that represents a Redis shard in a database.' });
export type Shard = Static<typeof Shard>;
