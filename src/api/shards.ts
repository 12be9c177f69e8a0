import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import type { FailoverOptions } from '../services/shard-service.js';
import { ExtraInfoQuery, extraInfoKeys, parseUid, UidParams } from './params.js';

/** A shard uid: a string in the page's examples; a number names the same shard. */
const ShardUid = Type.Union([Type.String(), Type.Integer()]);

/** requests/shards/actions/failover.md: the fields both failover calls take. */
const failoverOptions = {
  dead_nodes: Type.Optional(Type.Array(Type.String(), { description: 'Nodes whose replicas are not promoted' })),
  dry_run: Type.Optional(Type.Boolean({ description: 'Validate only: answer as the failover would, change nothing' })),
  force_rebind: Type.Optional(Type.Boolean({ description: 'The endpoint always moves to the promoted shard' })),
  redis_version_upgrade: Type.Optional(Type.String({ description: 'Must name the installed Redis version' })),
};

/** What the service takes from either body. */
const options = (b: Static<typeof FailoverBody> | Static<typeof ShardFailoverBody> | null, deadUids: string[] | undefined): FailoverOptions => ({
  dryRun: b?.dry_run === true,
  deadUids,
  deadNodes: b?.dead_nodes,
  redisVersionUpgrade: b?.redis_version_upgrade,
});

/** The multi-shard call's body. */
const FailoverBody = Type.Object({
  // Optional in the schema: a missing list is the page's 404 shard_uids_required, not a schema error.
  shard_uids: Type.Optional(Type.Array(ShardUid)),
  dead_uids: Type.Optional(Type.Array(ShardUid)),
  ...failoverOptions,
}, { additionalProperties: false });
// No body is a request without fields: its missing list is the page's 404 shard_uids_required.
const FailoverBodyOrNone = Type.Union([FailoverBody, Type.Null()]);

/** The single-shard call's body: `dead_uid` in the singular, no shard list. */
const ShardFailoverBody = Type.Object({
  dead_uid: Type.Optional(ShardUid),
  ...failoverOptions,
}, { additionalProperties: false });

// Every field is optional, so no body at all is fine too (Fastify validates a missing body as null).
const ShardFailoverBodyOrNone = Type.Union([ShardFailoverBody, Type.Null()]);

/** requests/shards/actions/migrate.md: the fields both migrate calls take. */
const migrateOptions = {
  // Optional in the schema: a missing node is the page's 404 ("node UID is required and not given").
  target_node_uid: Type.Optional(Type.Integer({ description: 'UID of the node to migrate to' })),
  override_rack_policy: Type.Optional(Type.Boolean({ description: 'Ignore rack-aware policy violations' })),
  dry_run: Type.Optional(Type.Boolean({ description: 'Validate only: answer as the migration would, change nothing' })),
  preserve_roles: Type.Optional(Type.Boolean({ description: "Keep the migrated shards' roles" })),
};
const MigrateBody = Type.Union([Type.Object({
  shard_uids: Type.Optional(Type.Array(ShardUid)),
  max_concurrent_bdb_migrations: Type.Optional(Type.Integer({ minimum: 1, description: 'Databases migrating shards at once' })),
  ...migrateOptions,
}, { additionalProperties: false }), Type.Null()]);
const ShardMigrateBody = Type.Union([Type.Object(migrateOptions, { additionalProperties: false }), Type.Null()]);

export const shardRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/shards', { config: { permission: 'view_all_bdbs_info' }, schema: { querystring: ExtraInfoQuery } },
    (req) => s.shardViews.list(undefined, extraInfoKeys(req.query)));
  app.get('/v1/shards/:uid', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams, querystring: ExtraInfoQuery } },
    (req) => s.shardViews.get(parseUid(req.params.uid, 'shard_not_exist'), extraInfoKeys(req.query)));
  app.post('/v1/shards/actions/failover', { config: { permission: 'failover_shard' }, schema: { body: FailoverBodyOrNone } },
    (req) => s.shardViews.failover(req.body?.shard_uids?.map(String), options(req.body, req.body?.dead_uids?.map(String))));
  app.post('/v1/shards/:uid/actions/failover', { config: { permission: 'failover_shard' }, schema: { params: UidParams, body: ShardFailoverBodyOrNone } },
    (req) => s.shardViews.failover([String(parseUid(req.params.uid, 'shard_not_exist'))], options(req.body, req.body?.dead_uid === undefined ? undefined : [String(req.body.dead_uid)])));
  app.post('/v1/shards/actions/migrate', { config: { permission: 'migrate_shard' }, schema: { body: MigrateBody } },
    (req) => s.shardMigrate.migrate(req.body?.shard_uids?.map(String), { targetNodeUid: req.body?.target_node_uid, dryRun: req.body?.dry_run === true }));
  app.post('/v1/shards/:uid/actions/migrate', { config: { permission: 'migrate_shard' }, schema: { params: UidParams, body: ShardMigrateBody } },
    (req) => s.shardMigrate.migrate([String(parseUid(req.params.uid, 'shard_not_exist'))], { targetNodeUid: req.body?.target_node_uid, dryRun: req.body?.dry_run === true }));
};
