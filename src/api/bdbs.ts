import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { roleAllows } from '../auth/permissions.js';
import { RsError } from '../errors.js';
import { BdbCreate, BdbCreateV2, BdbUpdate } from '../schemas/bdb.js';
import { UpgradeRequest } from '../schemas/bdb-actions.js';
import type { Services } from '../compose.js';
import { DryRunQuery, ExtraInfoQuery, extraInfoKeys, isDryRun, parseUid, UidParams } from './params.js';

const PasswordBody = Type.Object({ password: Type.String() }, { additionalProperties: false });
const CommandBody = Type.Object({ command: Type.String({ minLength: 1 }), args: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))) }, { additionalProperties: false });
const dbUid = (raw: string) => parseUid(raw, 'db_not_exist');
/** Every field has a default: the body may be left out. */
const UpgradeBody = Type.Union([UpgradeRequest, Type.Null()]);
/** Passwords only for roles with view_redis_pass. */
const viewFor = (req: FastifyRequest) => ({ hidePasswords: !req.caller || !roleAllows(req.caller.role, 'view_redis_pass') });

export const bdbRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/bdbs', { config: { permission: 'view_all_bdbs_info' } }, (req) => s.bdbs.list(viewFor(req)));
  app.get('/v1/bdbs/:uid', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams } }, (req) => s.bdbs.get(dbUid(req.params.uid), viewFor(req)));
  app.post('/v1/bdbs', { config: { permission: 'create_bdb' }, schema: { querystring: DryRunQuery, body: BdbCreate } },
    (req) => s.bdbs.create(req.body, { dryRun: isDryRun(req.query) }));
  app.post('/v2/bdbs', { config: { permission: 'create_bdb' }, schema: { querystring: DryRunQuery, body: BdbCreateV2 } },
    (req) => {
      if (req.body.recovery_plan) throw new RsError('unsupported_option', 'recovery_plan is not supported by openrs yet');
      return s.bdbs.create(req.body.bdb, { dryRun: isDryRun(req.query) });
    });
  app.put('/v1/bdbs/:uid', { config: { permission: 'update_bdb' }, schema: { params: UidParams, querystring: DryRunQuery, body: BdbUpdate } },
    (req) => s.bdbs.update(dbUid(req.params.uid), req.body, { dryRun: isDryRun(req.query) }));
  app.put('/v1/bdbs/:uid/:action', {
    config: { permission: 'update_bdb_with_action' },
    schema: { params: Type.Object({ uid: Type.String(), action: Type.String() }), querystring: DryRunQuery, body: Type.Optional(BdbUpdate) },
  }, (req) => s.bdbs.updateWithAction(dbUid(req.params.uid), req.body ?? {}, req.params.action, { dryRun: isDryRun(req.query) }));
  app.delete('/v1/bdbs/:uid', { config: { permission: 'delete_bdb' }, schema: { params: UidParams } }, (req) => s.bdbs.delete(dbUid(req.params.uid)));

  for (const [method, op] of [['PUT', 'set'], ['POST', 'add'], ['DELETE', 'delete']] as const) {
    app.route({
      method, url: '/v1/bdbs/:uid/passwords', config: { permission: 'update_bdb' }, schema: { params: UidParams, body: PasswordBody },
      handler: async (req) => {
        await s.bdbs.passwords(dbUid((req.params as { uid: string }).uid), op, (req.body as { password: string }).password);
        return {};
      },
    });
  }

  app.post('/v1/bdbs/:uid/actions/stop_traffic', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams } },
    (req) => s.bdbs.setTraffic(dbUid(req.params.uid), 'off'));
  app.post('/v1/bdbs/:uid/actions/resume_traffic', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams } },
    (req) => s.bdbs.setTraffic(dbUid(req.params.uid), 'on'));

  // Undocumented, used by testcontainers-redis-enterprise: run one command on the master shard.
  app.post('/v1/bdbs/:uid/command', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams, body: CommandBody } },
    async (req) => ({ response: await s.bdbs.command(dbUid(req.params.uid), req.body.command, req.body.args ?? []) }));

  app.post('/v1/bdbs/:uid/upgrade', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams, body: UpgradeBody } },
    (req) => s.bdbs.upgrade(dbUid(req.params.uid), req.body ?? {}));

  app.get('/v1/bdbs/:uid/shards', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams, querystring: ExtraInfoQuery } },
    async (req) => s.shardViews.list(dbUid(req.params.uid), extraInfoKeys(req.query)));
};
