/** OCSP: requests/ocsp/_index.md, status.md, test.md. Permissions as on each page. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { OcspUpdate } from '../schemas/ocsp.js';

export const ocspRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/ocsp', { config: { permission: 'view_ocsp_config' } }, () => s.ocsp.get());
  app.put('/v1/ocsp', { config: { permission: 'config_ocsp' }, schema: { body: OcspUpdate } }, (req) => s.ocsp.update(req.body));
  app.get('/v1/ocsp/status', { config: { permission: 'view_ocsp_status' } }, () => s.ocsp.status());
  app.post('/v1/ocsp/test', { config: { permission: 'test_ocsp_status' } }, async () => s.ocsp.test());
};
