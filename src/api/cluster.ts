import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClusterUpdate } from '../schemas/cluster.js';
import { ClusterSettingsUpdate, CmSettingsUpdate } from '../schemas/cluster-settings.js';
import type { Services } from '../compose.js';
import { DryRunQuery, isDryRun } from './params.js';

export const clusterRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster', { config: { permission: 'view_cluster_info' } }, () => s.cluster.get());
  app.put('/v1/cluster', { config: { permission: 'update_cluster' }, schema: { querystring: DryRunQuery, body: ClusterUpdate } },
    (req) => s.cluster.update(req.body, { dryRun: isDryRun(req.query) }));

  app.get('/v1/cluster/policy', { config: { permission: 'view_cluster_info' } }, () => s.cluster.getPolicy());
  app.put('/v1/cluster/policy', { config: { permission: 'update_cluster' }, schema: { body: ClusterSettingsUpdate } },
    (req) => s.cluster.updatePolicy(req.body));

  app.get('/v1/cm_settings', { config: { permission: 'view_cluster_info' } }, () => s.cluster.getCmSettings());
  app.put('/v1/cm_settings', { config: { permission: 'update_cluster' }, schema: { body: CmSettingsUpdate } },
    (req) => s.cluster.updateCmSettings(req.body));
};
