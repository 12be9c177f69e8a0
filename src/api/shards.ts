import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { parseUid, UidParams } from './params.js';

const FailoverBody = Type.Object({
  shard_uids: Type.Array(Type.Union([Type.String(), Type.Integer()])),
  dead_uids: Type.Optional(Type.Array(Type.String())),
  dead_nodes: Type.Optional(Type.Array(Type.String())),
  dry_run: Type.Optional(Type.Boolean()),
  force_rebind: Type.Optional(Type.Boolean()),
  redis_version_upgrade: Type.Optional(Type.String()),
}, { additionalProperties: false });

export const shardRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/shards', { config: { permission: 'view_all_bdbs_info' } }, () => s.shardViews.list());
  app.get('/v1/shards/:uid', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams } },
    (req) => s.shardViews.get(parseUid(req.params.uid)));
  app.post('/v1/shards/actions/failover', { config: { permission: 'failover_shard' }, schema: { body: FailoverBody } },
    (req) => s.shardViews.failover(req.body.shard_uids.map(String)));
  app.post('/v1/shards/:uid/actions/failover', { config: { permission: 'failover_shard' }, schema: { params: UidParams } },
    (req) => s.shardViews.failover([String(parseUid(req.params.uid))]));
};
