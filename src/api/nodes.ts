import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NodeUpdate } from '../schemas/node.js';
import type { Services } from '../compose.js';
import { parseUid, UidParams } from './params.js';

export const nodeRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/nodes', { config: { permission: 'view_all_nodes_info' } }, () => s.nodes.list());
  app.get('/v1/nodes/status', { config: { permission: 'view_node_info' } }, () => s.nodes.statusAll());
  app.get('/v1/nodes/:uid', { config: { permission: 'view_node_info' }, schema: { params: UidParams } },
    (req) => s.nodes.get(parseUid(req.params.uid, 'node_not_found')));
  app.get('/v1/nodes/:uid/status', { config: { permission: 'view_node_info' }, schema: { params: UidParams } },
    (req) => s.nodes.status(parseUid(req.params.uid, 'node_not_found')));
  // The page: "If the request is successful, the body will be empty."
  app.put('/v1/nodes/:uid', { config: { permission: 'update_node' }, schema: { params: UidParams, body: NodeUpdate } },
    async (req, reply) => {
      await s.nodes.update(parseUid(req.params.uid, 'node_not_found'), req.body);
      return reply.status(200).send();
    });
};
