/**
 * DNS suffixes: requests/suffixes/_index.md and requests/suffix/_index.md. The pages name no
 * permission; openrs asks for view_cluster_info, like GET /v1/cluster whose name the suffix is
 * (docs/decisions/cluster-routes-extra.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { Suffix } from '../schemas/suffix.js';

export const suffixRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/suffixes', { config: { permission: 'view_cluster_info' }, schema: { response: { 200: Type.Array(Suffix) } } },
    () => s.suffixes.list());
  app.get('/v1/suffix/:name', {
    config: { permission: 'view_cluster_info' },
    schema: { params: Type.Object({ name: Type.String() }), response: { 200: Suffix } },
  }, (req) => s.suffixes.get(req.params.name));
};
