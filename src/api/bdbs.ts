import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { roleAllows } from '../auth/permissions.js';
import { RsError } from '../errors.js';
import { BdbCreate, BdbCreateV2, BdbUpdate } from '../schemas/bdb.js';
import { StrEnum } from '../schemas/common.js';
import { UpgradeRequest } from '../schemas/bdb-actions.js';
import type { Services } from '../compose.js';
import { BDB_UPDATE_ACTIONS } from '../services/bdb-service.js';
import { DryRunQuery, ExtraInfoQuery, extraInfoKeys, FieldsParam, flagSet, isDryRun, parseUid, UidParams } from './params.js';

const PasswordBody = Type.Object({ password: Type.String() }, { additionalProperties: false });
const CommandBody = Type.Object({ command: Type.String({ minLength: 1 }), args: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))) }, { additionalProperties: false });
const dbUid = (raw: string) => parseUid(raw, 'db_not_exist');
/** Every field has a default: the body may be left out. */
const UpgradeBody = Type.Union([UpgradeRequest, Type.Null()]);
/** The `cluster-state-id` request header (a blueprint's), checked by the service when given. */
const stateIdOf = (req: FastifyRequest): string | undefined => {
  const h = req.headers['cluster-state-id'];
  return Array.isArray(h) ? h[0] : h;
};
const Digits = Type.String({ pattern: '^[0-9]{1,15}$' });
const Flag = Type.Optional(Type.String());
/** requests/bdbs/actions/optimize_shards_placement.md: settings to place the database with instead of its own. */
const PlacementQuery = Type.Object({
  avoid_nodes: Type.Optional(Type.String({ pattern: '^[0-9]+(,[0-9]+)*$' })),
  memory_size: Type.Optional(Digits),
  shards_count: Type.Optional(Digits),
  shards_placement: Type.Optional(StrEnum(['dense', 'sparse'])),
  bigstore_ram_size: Type.Optional(Digits),
  replication: Type.Optional(StrEnum(['enabled', 'disabled'])),
  fields: FieldsParam,
});
const RebalanceQuery = Type.Object({ dry_run: Flag, only_failovers: Flag, max_operations: Type.Optional(Digits), fields: FieldsParam });
const RevampQuery = Type.Object({ dry_run: Flag, pause_persistence: Flag, fields: FieldsParam });
/** requests/bdbs/actions/revamp.md: the topology fields. */
const RevampBody = Type.Pick(BdbUpdate, ['avoid_nodes', 'bigstore_ram_size', 'memory_size', 'replication', 'shards_count', 'shards_placement'], { additionalProperties: false });

/** Passwords only for roles with view_redis_pass. */
const viewFor = (req: FastifyRequest) => ({ hidePasswords: !req.caller || !roleAllows(req.caller.role, 'view_redis_pass') });

export const bdbRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/bdbs', { config: { permission: 'view_all_bdbs_info' } }, (req) => s.bdbs.list(viewFor(req)));
  app.get('/v1/bdbs/:uid', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams } }, (req) => s.bdbs.get(dbUid(req.params.uid), viewFor(req)));
  app.post('/v1/bdbs', { config: { permission: 'create_bdb' }, schema: { querystring: DryRunQuery, body: BdbCreate } },
    (req) => s.bdbs.create(req.body, { dryRun: isDryRun(req.query), stateId: stateIdOf(req) }));
  app.post('/v2/bdbs', { config: { permission: 'create_bdb' }, schema: { querystring: DryRunQuery, body: BdbCreateV2 } },
    (req) => {
      if (req.body.recovery_plan) throw new RsError('unsupported_option', 'recovery_plan is not supported by openrs yet');
      return s.bdbs.create(req.body.bdb, { dryRun: isDryRun(req.query) });
    });
  app.put('/v1/bdbs/:uid', { config: { permission: 'update_bdb' }, schema: { params: UidParams, querystring: DryRunQuery, body: BdbUpdate } },
    (req) => s.bdbs.update(dbUid(req.params.uid), req.body, { dryRun: isDryRun(req.query), stateId: stateIdOf(req) }));
  app.put('/v1/bdbs/:uid/:action', {
    config: { permission: 'update_bdb_with_action', verbs: BDB_UPDATE_ACTIONS },
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

  // Shard placement: blueprints (answered with the cluster-state-id a PUT of the blueprint names), rebalance, revamp.
  app.get('/v1/bdbs/:uid/actions/optimize_shards_placement', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams, querystring: PlacementQuery } },
    async (req, reply) => {
      const q = req.query;
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const patch = Object.fromEntries(Object.entries({
        avoid_nodes: q.avoid_nodes?.split(','), memory_size: num(q.memory_size), shards_count: num(q.shards_count),
        shards_placement: q.shards_placement, bigstore_ram_size: num(q.bigstore_ram_size),
        replication: q.replication === undefined ? undefined : q.replication === 'enabled',
      }).filter(([, v]) => v !== undefined));
      const { blueprint, stateId } = await s.bdbs.placement(dbUid(req.params.uid), patch);
      void reply.header('cluster-state-id', String(stateId));
      return blueprint;
    });
  app.put('/v1/bdbs/:uid/actions/rebalance', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams, querystring: RebalanceQuery } },
    async (req, reply) => {
      const uid = dbUid(req.params.uid);
      const r = await s.bdbs.rebalance(uid, {
        dryRun: isDryRun(req.query), onlyFailovers: flagSet(req.query.only_failovers),
        maxOperations: req.query.max_operations === undefined ? undefined : Number(req.query.max_operations),
      });
      if (!('blueprint' in r)) return r;
      void reply.header('cluster-state-id', String(r.stateId));
      return r.blueprint;
    });
  app.put('/v1/bdbs/:uid/actions/revamp', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams, querystring: RevampQuery, body: RevampBody } },
    async (req, reply) => {
      const uid = dbUid(req.params.uid);
      if (!isDryRun(req.query)) return { action_uid: (await s.bdbs.update(uid, req.body, { dryRun: false }) as { action_uid: string }).action_uid };
      const { blueprint, stateId } = await s.bdbs.placement(uid, req.body);
      void reply.header('cluster-state-id', String(stateId));
      return blueprint;
    });

  app.post('/v1/bdbs/:uid/upgrade', { config: { permission: 'update_bdb_with_action' }, schema: { params: UidParams, body: UpgradeBody } },
    (req) => s.bdbs.upgrade(dbUid(req.params.uid), req.body ?? {}));

  app.get('/v1/bdbs/:uid/shards', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams, querystring: ExtraInfoQuery } },
    async (req) => s.shardViews.list(dbUid(req.params.uid), extraInfoKeys(req.query)));
};
