/**
 * Request bodies and queries of the Active-Active routes (requests/crdbs/, requests/crdb_tasks/;
 * objects/crdb/_index.md, crdb/modify_request.md). openrs has no Active-Active databases, so these
 * schemas only check that a request is well formed before it is answered (docs/decisions/cluster-routes-health.md).
 * Nested objects (database_config, instance_info) are taken as objects: no CRDB exists to apply them to.
 */
import { Type } from '@sinclair/typebox';

const Obj = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** objects/crdb/_index.md: the CRDB object (POST /v1/crdbs, PATCH /v1/crdbs/{guid}). */
export const CrdbBody = Type.Object({
  guid: Type.Optional(Type.String({ description: 'The global unique ID of the Active-Active database' })),
  causal_consistency: Type.Optional(Type.Boolean({ description: 'Enables causal consistency across CRDT instances' })),
  default_db_config: Type.Optional(Obj('Default database configuration (CRDB database_config object)')),
  encryption: Type.Optional(Type.Boolean({ description: 'Encrypt communication' })),
  featureset_version: Type.Optional(Type.Integer({ description: 'Active FeatureSet version' })),
  instances: Type.Optional(Type.Array(Obj('CRDB instance_info object'))),
  local_databases: Type.Optional(Type.Array(Type.Object({ bdb_uid: Type.String(), id: Type.Integer() }))),
  managed_by: Type.Optional(Type.String({ description: 'The component that manages the Active-Active database' })),
  modules: Type.Optional(Type.Array(Type.Object({ featureset_version: Type.Optional(Type.Integer()), module_name: Type.String() }))),
  name: Type.Optional(Type.String({ description: 'Name of the Active-Active database' })),
  protocol_version: Type.Optional(Type.Integer({ description: 'Active protocol version' })),
  volatile_config_fields: Type.Optional(Type.Array(Type.String())),
}, { additionalProperties: false });

/** objects/crdb/modify_request.md (POST /v1/crdbs/{guid}/updates). */
export const CrdbModifyRequest = Type.Object({
  add_instances: Type.Optional(Type.Array(Obj('CRDB instance_info object'))),
  crdb: Type.Optional(CrdbBody),
  force_update: Type.Optional(Type.Boolean()),
  remove_instances: Type.Optional(Type.Array(Type.Integer())),
  // The page lists it as `remove_instances.force_remove`, next to an array of integers: taken at the top level.
  force_remove: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/** requests/crdbs/upgrade.md request body. */
export const CrdbUpgradeRequest = Type.Object({
  force_discard: Type.Optional(Type.Boolean()),
  force_restart: Type.Optional(Type.Boolean()),
  keep_crdt_protocol_version: Type.Optional(Type.Boolean()),
  may_discard_data: Type.Optional(Type.Boolean()),
  modules: Type.Optional(Type.Array(Type.Object({
    current_module: Type.Optional(Type.String()),
    new_module: Type.Optional(Type.String()),
    new_module_args: Type.Optional(Type.String()),
  }, { additionalProperties: false }))),
  parallel_shards_upgrade: Type.Optional(Type.Integer({ minimum: 1 })),
  preserve_roles: Type.Optional(Type.Boolean()),
  redis_version: Type.Optional(Type.String()),
}, { additionalProperties: false });

/** requests/crdbs/purge.md request body. */
export const CrdbPurgeRequest = Type.Object({
  instances: Type.Array(Type.Integer({ minimum: 1 }), { description: 'Unique instance IDs' }),
}, { additionalProperties: false });

/** A query flag: `true`/`false` (any case) or `1`/`0`. */
export const QueryBool = Type.Optional(Type.String({ pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$' }));
/** A query integer (instance IDs). */
export const QueryInt = Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' }));

export const CrdbParams = Type.Object({ crdb_guid: Type.String() });
export const CrdbTaskParams = Type.Object({ task_id: Type.String() });
