import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RsError } from '../errors.js';
import { Bootstrap } from '../schemas/bootstrap.js';
import type { Services } from '../compose.js';

const ActionParams = Type.Object({ action: Type.String() });

export const bootstrapRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  const cfg = { access: 'bootstrap' as const, permission: 'view_cluster_info' };

  app.get('/v1/bootstrap', { config: cfg }, async () => ({
    bootstrap_status: await s.bootstrap.status(),
    local_node_info: await s.nodes.localNodeInfo(s.bootstrap.paths()),
  }));

  app.post('/v1/bootstrap/:action', { config: { ...cfg, permission: 'update_cluster' }, schema: { params: ActionParams, body: Type.Optional(Bootstrap) } },
    async (req) => {
      await s.bootstrap.start(req.params.action, req.body ?? {});
      return {};
    });

  app.post('/v1/bootstrap/validate/:action', { config: { ...cfg, permission: 'update_cluster' }, schema: { params: ActionParams, body: Type.Optional(Bootstrap) } },
    async (req, reply) => {
      try {
        await s.bootstrap.check(req.params.action, req.body ?? {});
        return {};
      } catch (e) {
        if (!(e instanceof RsError)) throw e;
        // The page: "406 Validation failed, bootstrap status is returned as body".
        return reply.status(406).send({ ...e.toJSON(), state: 'error', error_details: { message: e.message } });
      }
    });
};
