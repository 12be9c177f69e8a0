/**
 * A database's syncer views and modules: requests/bdbs/peer_stats.md, sync_source_stats.md,
 * syncer_state/ (_index, crdt, replica) and modules/ (config, upgrade). Permissions as on each page.
 * What openrs answers, and why, is in docs/decisions/bdb-routes-extra.md.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { FieldsParam, parseUid, UidParams } from './params.js';

const dbUid = (raw: string) => parseUid(raw, 'db_not_exist');

/** The query both stats pages list. */
const SyncStatsQuery = Type.Object({
  interval: Type.Optional(Type.String({ description: '1sec/10sec/5min/15min/1hour/12hour/1week' })),
  stime: Type.Optional(Type.String({ description: 'ISO 8601 start time' })),
  etime: Type.Optional(Type.String({ description: 'ISO 8601 end time' })),
  fields: FieldsParam,
});
const PeerParams = Type.Object({ uid: Type.String(), peer_uid: Type.String() });
const SourceParams = Type.Object({ uid: Type.String(), src_uid: Type.String() });

// Module fields are optional in the schemas: a missing one is the page's 400 missing_field (the
// service), a wrong type the generic invalid_schema.
/** modules/config.md request body. */
const ModulesConfigBody = Type.Object({
  modules: Type.Optional(Type.Array(Type.Object({
    module_name: Type.Optional(Type.String({ description: "Module's name: search, ReJSON, graph, timeseries, bf" })),
    module_args: Type.Optional(Type.String({ description: 'Module command line arguments (no &, <, >, ")' })),
  }, { additionalProperties: false }))),
}, { additionalProperties: false });

/** modules/upgrade.md request body: the table's fields and the example's (module_name, current_semantic_version). */
const ModulesUpgradeBody = Type.Object({
  modules: Type.Optional(Type.Array(Type.Object({
    module_name: Type.Optional(Type.String({ description: 'Name of the module to upgrade' })),
    current_module: Type.Optional(Type.String({ description: 'UID of the module to upgrade' })),
    current_semantic_version: Type.Optional(Type.String({ description: 'Version of the module to upgrade' })),
    new_module: Type.Optional(Type.String({ description: 'UID of the module to upgrade to' })),
    new_module_args: Type.Optional(Type.String({ description: 'Arguments for the new module' })),
  }, { additionalProperties: false }))),
  preserve_roles: Type.Optional(Type.Boolean({ description: "Preserve shards' master/replica roles" })),
  may_discard_data: Type.Optional(Type.Boolean({ description: 'Discard data in a non-replicated non-persistent bdb' })),
}, { additionalProperties: false });

// No body at all is a request without `modules` (Fastify validates a missing body as null).
/** Also the body of the deprecated POST /v1/modules/config/bdb/{uid} (api/modules.ts). */
export const ModulesConfigBodyOrNone = Type.Union([ModulesConfigBody, Type.Null()]);
const ModulesUpgradeBodyOrNone = Type.Union([ModulesUpgradeBody, Type.Null()]);

export const bdbExtraRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/bdbs/:uid/peer_stats', { config: { permission: 'view_bdb_stats' }, schema: { params: UidParams, querystring: SyncStatsQuery } },
    (req) => s.bdbSync.peerStats(dbUid(req.params.uid), req.query));
  app.get('/v1/bdbs/:uid/peer_stats/:peer_uid', { config: { permission: 'view_bdb_stats' }, schema: { params: PeerParams, querystring: SyncStatsQuery } },
    (req) => s.bdbSync.peerStats(dbUid(req.params.uid), req.query, req.params.peer_uid));
  app.get('/v1/bdbs/:uid/sync_source_stats', { config: { permission: 'view_bdb_stats' }, schema: { params: UidParams, querystring: SyncStatsQuery } },
    (req) => s.bdbSync.syncSourceStats(dbUid(req.params.uid), req.query));
  app.get('/v1/bdbs/:uid/sync_source_stats/:src_uid', { config: { permission: 'view_bdb_stats' }, schema: { params: SourceParams, querystring: SyncStatsQuery } },
    (req) => s.bdbSync.syncSourceStatsOf(dbUid(req.params.uid), req.query, req.params.src_uid));

  // syncer_state/_index.md: deprecated in favour of syncer_state/crdt, which it answers as.
  for (const [path, kind] of [['syncer_state', 'crdt'], ['syncer_state/crdt', 'crdt'], ['syncer_state/replica', 'replica']] as const) {
    app.get(`/v1/bdbs/:uid/${path}`, { config: { permission: 'view_bdb_info' }, schema: { params: UidParams } },
      (req) => s.bdbSync.syncerState(dbUid(req.params.uid), kind));
  }

  app.post('/v1/bdbs/:uid/modules/config', { config: { permission: 'edit_bdb_module' }, schema: { params: UidParams, body: ModulesConfigBodyOrNone } },
    (req) => s.bdbModules.configure(dbUid(req.params.uid), req.body?.modules));
  app.post('/v1/bdbs/:uid/modules/upgrade', { config: { permission: 'edit_bdb_module' }, schema: { params: UidParams, body: ModulesUpgradeBodyOrNone } },
    (req) => s.bdbModules.upgrade(dbUid(req.params.uid), req.body?.modules));
};
