/** Roles (requests/roles/_index.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { RoleCreate, RoleUpdate } from '../schemas/role.js';
import { DryRunQuery, FieldsQuery, isDryRun, parseUid, UidParams } from './params.js';

export const roleRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/roles', { config: { permission: 'view_all_roles_info' }, schema: { querystring: FieldsQuery } }, () => s.roles.list());
  app.get('/v1/roles/:uid', { config: { permission: 'view_role_info' }, schema: { params: UidParams, querystring: FieldsQuery } },
    (req) => s.roles.get(parseUid(req.params.uid, 'role_not_exist')));
  app.post('/v1/roles', { config: { permission: 'create_role' }, schema: { querystring: DryRunQuery, body: RoleCreate } },
    (req) => s.roles.create(req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.put('/v1/roles/:uid', { config: { permission: 'update_role' }, schema: { params: UidParams, querystring: DryRunQuery, body: RoleUpdate } },
    (req) => s.roles.update(parseUid(req.params.uid, 'role_not_exist'), req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.delete('/v1/roles/:uid', { config: { permission: 'delete_role' }, schema: { params: UidParams, querystring: DryRunQuery } }, async (req) => {
    await s.roles.delete(parseUid(req.params.uid, 'role_not_exist'), { dryRun: isDryRun(req.query), actor: req.caller! });
    return {};
  });
};
