/**
 * /v1/ldap_mappings CRUD (requests/ldap_mappings/_index.md). Writes take the caller: only an admin
 * may create, change or delete a mapping to a role with admin management.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LdapMappingCreate, LdapMappingUpdate } from '../schemas/ldap.js';
import type { Services } from '../compose.js';
import { FieldsQuery, parseUid, UidParams } from './params.js';

export const ldapMappingRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/ldap_mappings', { config: { permission: 'view_all_ldap_mappings_info' }, schema: { querystring: FieldsQuery } },
    () => s.ldapMappings.list());
  app.post('/v1/ldap_mappings', { config: { permission: 'create_ldap_mapping' }, schema: { body: LdapMappingCreate } },
    (req) => s.ldapMappings.create(req.body, req.caller!));
  app.get('/v1/ldap_mappings/:uid', { config: { permission: 'view_ldap_mapping_info' }, schema: { params: UidParams, querystring: FieldsQuery } },
    (req) => s.ldapMappings.get(parseUid(req.params.uid)));
  app.put('/v1/ldap_mappings/:uid', { config: { permission: 'update_ldap_mapping' }, schema: { params: UidParams, body: LdapMappingUpdate } },
    (req) => s.ldapMappings.update(parseUid(req.params.uid), req.body, req.caller!));
  app.delete('/v1/ldap_mappings/:uid', { config: { permission: 'delete_ldap_mapping' }, schema: { params: UidParams } },
    async (req) => {
      await s.ldapMappings.delete(parseUid(req.params.uid), req.caller!);
      return {};
    });
};
