/**
 * Users (requests/users/_index.md), their passwords (requests/users/password.md) and the cluster's
 * password hashing algorithm (requests/cluster/change_password_hashing_algorithm.md).
 * GET/PUT /v1/users/{uid} are `selfService`: "Any user can change their own name, password, or
 * alert preferences", and openapi.json lets any authenticated user call them; the service allows
 * callers without the permission their own account only. The password routes name no permission
 * (password.md; openapi: any authenticated user): any management role, others' passwords admin only.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { HashingAlgorithmChange, PasswordDelete, PasswordSet, UserCreate, UserUpdate } from '../schemas/user.js';
import { DryRunQuery, FieldsQuery, isDryRun, parseUid, UidParams } from './params.js';
import { ANY_MANAGEMENT_ROLE } from './route-types.js';

export const userRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/users', { config: { permission: 'view_all_users_info' }, schema: { querystring: FieldsQuery } }, () => s.users.list());
  app.get('/v1/users/:uid', { config: { permission: 'view_user_info', selfService: true }, schema: { params: UidParams, querystring: FieldsQuery } },
    (req) => s.users.get(parseUid(req.params.uid, 'user_not_exist'), req.caller!));
  app.post('/v1/users', { config: { permission: 'create_new_user' }, schema: { querystring: DryRunQuery, body: UserCreate } },
    (req) => s.users.create(req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.put('/v1/users/:uid', { config: { permission: 'update_user', selfService: true }, schema: { params: UidParams, querystring: DryRunQuery, body: UserUpdate } },
    (req) => s.users.update(parseUid(req.params.uid, 'user_not_exist'), req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.delete('/v1/users/:uid', { config: { permission: 'delete_user' }, schema: { params: UidParams } }, async (req) => {
    await s.users.delete(parseUid(req.params.uid, 'user_not_exist'), req.caller!);
    return {};
  });

  // A user whose password expired may still replace it (login-lockout.md / password-expiration.md).
  app.put('/v1/users/password', { config: { permission: ANY_MANAGEMENT_ROLE, allowExpiredPassword: true }, schema: { body: PasswordSet } }, async (req) => {
    await s.users.setPassword('replace', req.body, req.caller!);
    return {};
  });
  app.post('/v1/users/password', { config: { permission: ANY_MANAGEMENT_ROLE }, schema: { body: PasswordSet } }, async (req) => {
    await s.users.setPassword('add', req.body, req.caller!);
    return {};
  });
  app.delete('/v1/users/password', { config: { permission: ANY_MANAGEMENT_ROLE }, schema: { body: PasswordDelete } }, async (req) => {
    await s.users.deletePassword(req.body, req.caller!);
    return {};
  });

  app.patch('/v1/cluster/change_password_hashing_algorithm', { config: { permission: 'update_cluster' }, schema: { body: HashingAlgorithmChange } }, async (req) => {
    await s.users.changeHashingAlgorithm(req.body.algorithm, req.caller!);
    return {};
  });
};
