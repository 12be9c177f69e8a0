/**
 * Stats routes: requests/{cluster,nodes,bdbs,shards}/stats (with /last and per-uid forms) and
 * requests/endpoints-stats. Permissions as on each page.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { StatsService } from '../stats/stats-service.js';
import { parseUid, UidParams, FieldsParam } from './params.js';

const StatsQuery = Type.Object({
  interval: Type.Optional(Type.String({ description: '1sec/10sec/5min/15min/1hour/12hour/1week' })),
  stime: Type.Optional(Type.String({ description: 'ISO 8601 start time' })),
  etime: Type.Optional(Type.String({ description: 'ISO 8601 end time' })),
  metrics: Type.Optional(Type.String({ description: 'Comma-separated metric names' })),
  parent_uid: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Only shards of this database' })),
  fields: FieldsParam,
});

export const statsRoutes = (stats: StatsService): FastifyPluginAsyncTypebox => async (app) => {
  const q = { querystring: StatsQuery };
  const one = { querystring: StatsQuery, params: UidParams };

  app.get('/v1/cluster/stats', { config: { permission: 'view_cluster_stats' }, schema: q }, (req) => stats.cluster(req.query));
  app.get('/v1/cluster/stats/last', { config: { permission: 'view_cluster_stats' }, schema: q }, (req) => stats.clusterLast(req.query));

  app.get('/v1/nodes/stats', { config: { permission: 'view_all_nodes_stats' }, schema: q }, (req) => stats.nodes(req.query));
  app.get('/v1/nodes/stats/last', { config: { permission: 'view_all_nodes_stats' }, schema: q }, (req) => stats.nodesLast(req.query));
  app.get('/v1/nodes/stats/:uid', { config: { permission: 'view_node_stats' }, schema: one },
    (req) => stats.nodes(req.query, parseUid(req.params.uid, 'node_not_found')));
  app.get('/v1/nodes/stats/last/:uid', { config: { permission: 'view_node_stats' }, schema: one },
    (req) => stats.nodesLast(req.query, parseUid(req.params.uid, 'node_not_found')));

  app.get('/v1/bdbs/stats', { config: { permission: 'view_all_bdb_stats' }, schema: q }, (req) => stats.bdbs(req.query));
  app.get('/v1/bdbs/stats/last', { config: { permission: 'view_all_bdb_stats' }, schema: q }, (req) => stats.bdbsLast(req.query));
  app.get('/v1/bdbs/stats/:uid', { config: { permission: 'view_bdb_stats' }, schema: one },
    (req) => stats.bdbs(req.query, parseUid(req.params.uid, 'db_not_exist')));
  app.get('/v1/bdbs/stats/last/:uid', { config: { permission: 'view_bdb_stats' }, schema: one },
    (req) => stats.bdbsLast(req.query, parseUid(req.params.uid, 'db_not_exist')));

  const parent = (raw?: string) => (raw === undefined ? undefined : Number(raw));
  app.get('/v1/shards/stats', { config: { permission: 'view_all_shard_stats' }, schema: q },
    (req) => stats.shards({ ...req.query, parent_uid: parent(req.query.parent_uid) }));
  app.get('/v1/shards/stats/last', { config: { permission: 'view_all_shard_stats' }, schema: q }, (req) => stats.shardsLast(req.query));
  app.get('/v1/shards/stats/:uid', { config: { permission: 'view_shard_stats' }, schema: one },
    (req) => stats.shards({ ...req.query, parent_uid: undefined }, parseUid(req.params.uid, 'shard_not_exist')));
  app.get('/v1/shards/stats/last/:uid', { config: { permission: 'view_shard_stats' }, schema: one },
    (req) => stats.shardsLast(req.query, parseUid(req.params.uid, 'shard_not_exist')));

  app.get('/v1/endpoints/stats', { config: { permission: 'view_endpoint_stats' }, schema: q }, (req) => stats.endpoints(req.query));
};
