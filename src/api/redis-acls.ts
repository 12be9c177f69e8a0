/** Redis ACLs (requests/redis_acls/_index.md; POST /v1/redis_acls/validate from openapi.json). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { RedisAclCreate, RedisAclUpdate } from '../schemas/redis-acl.js';
import { DryRunQuery, FieldsQuery, isDryRun, parseUid, UidParams } from './params.js';

export const redisAclRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/redis_acls', { config: { permission: 'view_all_redis_acls_info' }, schema: { querystring: FieldsQuery } }, () => s.redisAcls.list());
  app.get('/v1/redis_acls/:uid', { config: { permission: 'view_redis_acl_info' }, schema: { params: UidParams, querystring: FieldsQuery } },
    (req) => s.redisAcls.get(parseUid(req.params.uid, 'redis_acl_not_exist')));
  app.post('/v1/redis_acls', { config: { permission: 'create_redis_acl' }, schema: { querystring: DryRunQuery, body: RedisAclCreate } },
    (req) => s.redisAcls.create(req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.post('/v1/redis_acls/validate', { config: { permission: 'create_redis_acl' }, schema: { body: RedisAclCreate } }, async (req) => {
    await s.redisAcls.validate(req.body);
    return {};
  });
  app.put('/v1/redis_acls/:uid', { config: { permission: 'update_redis_acl' }, schema: { params: UidParams, querystring: DryRunQuery, body: RedisAclUpdate } },
    (req) => s.redisAcls.update(parseUid(req.params.uid, 'redis_acl_not_exist'), req.body, { dryRun: isDryRun(req.query), actor: req.caller! }));
  app.delete('/v1/redis_acls/:uid', { config: { permission: 'delete_redis_acl' }, schema: { params: UidParams, querystring: DryRunQuery } }, async (req) => {
    await s.redisAcls.delete(parseUid(req.params.uid, 'redis_acl_not_exist'), { dryRun: isDryRun(req.query), actor: req.caller! });
    return {};
  });
};
