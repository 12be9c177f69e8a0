/**
 * The module object (objects/module.md), as GET /v1/modules answers it. Field types follow the
 * real capture (fixtures/redis-enterprise-rs/modules_list.json: `crdb` and `dependencies` are
 * objects, `version` an integer). openrs installs no modules, so no instance is ever returned;
 * the schema still types the list and documents what a module would carry.
 */
import { Type, type Static } from '@sinclair/typebox';

export const Module = Type.Object({
  uid: Type.String({ description: 'Cluster unique ID of module' }),
  author: Type.Optional(Type.String({ description: 'Module creator' })),
  bigstore_version_2_support: Type.Optional(Type.Boolean({ description: 'Whether the module supports bigstore_version_2 capability' })),
  capabilities: Type.Optional(Type.Array(Type.String(), { description: 'List of capabilities supported by this module' })),
  capability_name: Type.Optional(Type.String({ description: 'Short description of module functionality' })),
  command_line_args: Type.Optional(Type.String({ description: 'Command line arguments passed to the module' })),
  compatible_redis_version: Type.Optional(Type.String({ description: 'Redis version required by this module' })),
  config_command: Type.Optional(Type.String({ description: 'Name of command to configure module arguments at runtime' })),
  crdb: Type.Optional(Type.Object({
    supported_featureset_versions: Type.Optional(Type.Array(Type.Integer())),
  }, { description: 'CRDB-related information about the module' })),
  dependencies: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Module dependencies' })),
  description: Type.Optional(Type.String({ description: 'Short description of the module' })),
  display_name: Type.Optional(Type.String({ description: 'Name of module for display purposes' })),
  email: Type.Optional(Type.String({ description: "Author's email address" })),
  homepage: Type.Optional(Type.String({ description: "Module's homepage" })),
  is_bundled: Type.Optional(Type.Boolean({ description: 'Whether module came bundled with a version of Redis Software' })),
  license: Type.Optional(Type.String({ description: 'Module is distributed under this license' })),
  min_redis_version: Type.Optional(Type.String({ description: 'Minimum Redis database version required by this module' })),
  module_file: Type.Optional(Type.String({ description: 'Module filename' })),
  module_name: Type.Optional(Type.String({ description: "Module's name: search, ReJSON, timeseries, bf" })),
  semantic_version: Type.Optional(Type.String({ description: "Module's semantic version" })),
  sha256: Type.Optional(Type.String({ description: 'SHA256 of module binary (deprecated)' })),
  version: Type.Optional(Type.Integer({ description: "Module's version" })),
}, { description: 'A Redis module stored in the CCS' });

export type Module = Static<typeof Module>;
