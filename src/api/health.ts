import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';

export const healthRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  // Authentication can be turned off for this route with the policy's master_healthcheck_api_auth.
  app.get('/v1/local/node/master_healthcheck', { config: { permission: 'view_cluster_info', access: 'healthcheck' } },
    async () => ({ status: (await s.health.ccsReachable()) ? 'active' : 'inactive' }));
};
