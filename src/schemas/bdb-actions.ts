/**
 * Request and response bodies of the dataset actions: requests/bdbs/actions/export.md,
 * import.md and recover.md. The location objects are objects/bdb/backup_location.md and
 * dataset_import_sources.md (bdb-objects.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { BackupLocation, DatasetImportSource } from './bdb-objects.js';

export const ExportRequest = Type.Object({
  export_location: BackupLocation,
  email_notification: Type.Optional(Type.Boolean({ description: 'Email on export failure/completion (accepted; openrs sends no email for it)' })),
}, { additionalProperties: false, description: 'POST /v1/bdbs/{uid}/actions/export' });
export type ExportRequest = Static<typeof ExportRequest>;

/** "Other attributes are not allowed and will cause the request to fail." */
export const ImportRequest = Type.Object({
  dataset_import_sources: Type.Optional(Type.Array(DatasetImportSource, { description: 'RDB files to import; the database\'s configured ones when omitted' })),
  email_notification: Type.Optional(Type.Boolean({ description: 'Email on import failure/completion (accepted; openrs sends no email for it)' })),
}, { additionalProperties: false, description: 'POST /v1/bdbs/{uid}/actions/import' });
export type ImportRequest = Static<typeof ImportRequest>;

export const RecoverDataFile = Type.Object({
  filename: Type.String(),
  node_uid: Type.Optional(Type.String()),
  shard_slots: Type.Optional(Type.String()),
}, { additionalProperties: false });

export const RecoverRequest = Type.Object({
  data_files: Type.Optional(Type.Array(RecoverDataFile, { description: 'Files to recover from (must be among the plan\'s files)' })),
  ignore_errors: Type.Optional(Type.Boolean({ description: 'Recover even when some shard has no persistence file' })),
  recover_without_data: Type.Optional(Type.Boolean({ description: 'Start the shards empty; their files are moved aside, not deleted' })),
}, { additionalProperties: false, description: 'POST /v1/bdbs/{uid}/actions/recover' });
export type RecoverRequest = Static<typeof RecoverRequest>;

export const RecoveryPlanFile = Type.Object({
  filename: Type.String(),
  last_modified: Type.Number(),
  node_uid: Type.String(),
  shard_role: Type.String(),
  shard_slots: Type.String(),
  shard_uid: Type.String(),
  size: Type.Integer(),
});

/** GET /v1/bdbs/{uid}/actions/recover. `status`: 'ready' or 'missing-files' (rladmin recover list). */
export const RecoveryPlanView = Type.Object({
  data_files: Type.Array(RecoveryPlanFile),
  status: Type.String(),
});
export type RecoveryPlanView = Static<typeof RecoveryPlanView>;

/** A module the upgrade would change (requests/bdbs/upgrade.md `modules`). */
const UpgradeModule = Type.Object({
  current_module: Type.Optional(Type.String()),
  new_module: Type.Optional(Type.String()),
  new_module_args: Type.Optional(Type.String()),
  module_name: Type.Optional(Type.String()),
}, { additionalProperties: false });

/** POST /v1/bdbs/{uid}/upgrade (requests/bdbs/upgrade.md). */
export const UpgradeRequest = Type.Object({
  force_restart: Type.Optional(Type.Boolean({ description: 'Restart shards even if no version change' })),
  keep_redis_version: Type.Optional(Type.Boolean({ description: 'Keep current Redis version (deprecated)' })),
  keep_crdt_protocol_version: Type.Optional(Type.Boolean({ description: 'Keep current crdt protocol version' })),
  may_discard_data: Type.Optional(Type.Boolean({ description: 'Discard data in a non-replicated, non-persistent bdb' })),
  force_discard: Type.Optional(Type.Boolean({ description: 'Discard data even if the bdb is replicated and/or persistent' })),
  preserve_roles: Type.Optional(Type.Boolean({ description: "Preserve shards' master/replica roles (requires an extra failover)" })),
  swap_roles: Type.Optional(Type.Boolean({ description: "The page's example field: true lets master and replica end swapped (the default), false keeps the roles (preserve_roles)" })),
  parallel_shards_upgrade: Type.Optional(Type.Integer({ minimum: 1, description: 'Max number of shards to upgrade in parallel' })),
  modules: Type.Optional(Type.Array(UpgradeModule, { description: 'Modules to upgrade' })),
  redis_version: Type.Optional(Type.String({ description: 'The Redis version to upgrade to (the installed one)' })),
  latest_with_modules: Type.Optional(Type.Boolean({ description: 'Upgrade to the latest Redis and module versions (deprecated)' })),
}, { additionalProperties: false, description: 'POST /v1/bdbs/{uid}/upgrade' });
export type UpgradeRequest = Static<typeof UpgradeRequest>;
