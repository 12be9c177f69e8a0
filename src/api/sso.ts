/** Single sign-on configuration (requests/cluster/sso.md); SAML itself is not implemented (sso-service.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { IdpMetadata, SsoUpdate } from '../schemas/sso.js';

export const ssoRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster/sso', { config: { permission: 'view_sso' } }, () => s.sso.get());
  app.put('/v1/cluster/sso', { config: { permission: 'config_sso' }, schema: { body: SsoUpdate } }, async (req) => {
    await s.sso.update(req.body);
    return {};
  });
  app.delete('/v1/cluster/sso', { config: { permission: 'config_sso' } }, async () => {
    await s.sso.delete();
    return {};
  });
  app.get('/v1/cluster/sso/saml/metadata/sp', { config: { permission: 'view_sso' } }, () => s.sso.spMetadata());
  app.post('/v1/cluster/sso/saml/metadata/idp', { config: { permission: 'config_sso' }, schema: { body: IdpMetadata } },
    (req) => s.sso.uploadIdpMetadata(req.body.idp_metadata));
};
