import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LicenseUpdate } from '../schemas/license.js';
import type { Services } from '../compose.js';

export const licenseRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/license', { config: { permission: 'view_license' } }, () => s.license.get());
  app.put('/v1/license', { config: { permission: 'install_new_license' }, schema: { body: LicenseUpdate } },
    (req) => s.license.put(req.body.license));
};
