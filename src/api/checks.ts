/**
 * Node and cluster health checks: GET /v1/nodes/check/{uid} (requests/nodes/check.md) and
 * GET /v1/cluster/check (requests/cluster/check.md). Permissions as on each page.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { parseUid } from './params.js';

export const checkRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster/check', { config: { permission: 'view_all_nodes_checks' } }, () => s.nodeChecks.cluster());
  app.get('/v1/nodes/check/:uid', { config: { permission: 'view_node_check' }, schema: { params: Type.Object({ uid: Type.String() }) } },
    (req) => s.nodeChecks.node(parseUid(req.params.uid, 'node_not_found')));
};
