/** GET/PUT/DELETE /v1/cluster/ldap (requests/cluster/ldap.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LdapUpdate } from '../schemas/ldap.js';
import type { Services } from '../compose.js';

export const ldapRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster/ldap', { config: { permission: 'view_ldap_config' } }, () => s.ldapConfig.get());
  app.put('/v1/cluster/ldap', { config: { permission: 'config_ldap' }, schema: { body: LdapUpdate } },
    (req) => s.ldapConfig.update(req.body));
  app.delete('/v1/cluster/ldap', { config: { permission: 'config_ldap' } }, async () => {
    await s.ldapConfig.delete();
    return {};
  });
};
