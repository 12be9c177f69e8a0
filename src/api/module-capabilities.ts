/** GET /v1/cluster/module-capabilities (requests/cluster/module-capabilities.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MODULE_CAPABILITIES } from '../services/module-capabilities.js';

export const moduleCapabilityRoutes = (): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster/module-capabilities', { config: { permission: 'view_cluster_modules' } }, () => ({ all_capabilities: MODULE_CAPABILITIES }));
};
