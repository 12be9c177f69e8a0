/** Database availability (requests/bdbs/availability.md): for monitoring and load balancers. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { parseUid, UidParams } from './params.js';

const AvailabilityQuery = Type.Object({
  extend_check: Type.Optional(Type.String({ description: "Comma-separated extra checks; 'lag' = replicas within the lag tolerance" })),
  availability_lag_tolerance_ms: Type.Optional(Type.String({ description: "Overrides the cluster's availability_lag_tolerance_ms" })),
});

export const bdbAvailabilityRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  const opts = { config: { permission: 'view_bdb_info' as const }, schema: { params: UidParams, querystring: AvailabilityQuery } };
  app.get('/v1/bdbs/:uid/availability', opts, (req) => s.availability.database(parseUid(req.params.uid, 'db_not_found'), req.query));
  app.get('/v1/local/bdbs/:uid/endpoint/availability', opts, (req) => s.availability.endpoint(parseUid(req.params.uid, 'db_not_found'), req.query));
};
