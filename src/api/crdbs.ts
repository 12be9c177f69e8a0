/**
 * Active-Active routes: requests/crdbs/ (_index, updates, upgrade, flush, purge, health_report) and
 * requests/crdb_tasks/. The pages name no permissions; these are permissions.md's names for each
 * operation (cancelling a task: update_crdb, docs/decisions/cluster-routes-health.md). Routes that
 * would change databases are refused to roles limited to some databases, like POST /v1/bdbs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { CrdbBody, CrdbModifyRequest, CrdbParams, CrdbPurgeRequest, CrdbTaskParams, CrdbUpgradeRequest, QueryBool, QueryInt } from '../schemas/crdb.js';

const DENY_SCOPED = { deny: true } as const;
const InstanceQuery = Type.Object({ instance_id: QueryInt });

export const crdbRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  const c = s.crdbs;
  app.get('/v1/crdbs', { config: { permission: 'view_crdb_list' } }, () => c.list());
  app.post('/v1/crdbs', {
    config: { permission: 'create_crdb', bdbScope: DENY_SCOPED },
    schema: { querystring: Type.Object({ dry_run: QueryBool }), body: CrdbBody },
  }, async () => c.create());
  app.get('/v1/crdbs/:crdb_guid', { config: { permission: 'view_crdb' }, schema: { params: CrdbParams, querystring: InstanceQuery } },
    async (req) => c.get(req.params.crdb_guid));
  app.patch('/v1/crdbs/:crdb_guid', { config: { permission: 'update_crdb', bdbScope: DENY_SCOPED }, schema: { params: CrdbParams, body: CrdbBody } },
    async (req) => c.get(req.params.crdb_guid));
  app.delete('/v1/crdbs/:crdb_guid', { config: { permission: 'delete_crdb', bdbScope: DENY_SCOPED }, schema: { params: CrdbParams } },
    async (req) => c.delete(req.params.crdb_guid));
  app.post('/v1/crdbs/:crdb_guid/updates', {
    config: { permission: 'update_crdb', bdbScope: DENY_SCOPED },
    schema: { params: CrdbParams, querystring: Type.Object({ dry_run: QueryBool }), body: CrdbModifyRequest },
  }, async (req) => c.get(req.params.crdb_guid));
  app.post('/v1/crdbs/:crdb_guid/upgrade', { config: { permission: 'upgrade_crdb', bdbScope: DENY_SCOPED }, schema: { params: CrdbParams, body: CrdbUpgradeRequest } },
    async (req) => c.get(req.params.crdb_guid));
  app.put('/v1/crdbs/:crdb_guid/flush', {
    config: { permission: 'flush_crdb', bdbScope: DENY_SCOPED },
    schema: { params: CrdbParams, querystring: Type.Object({ async_flush: QueryBool }) },
  }, async (req) => c.get(req.params.crdb_guid));
  app.put('/v1/crdbs/:crdb_guid/purge', { config: { permission: 'purge_instance', bdbScope: DENY_SCOPED }, schema: { params: CrdbParams, body: CrdbPurgeRequest } },
    async (req) => c.get(req.params.crdb_guid));
  app.get('/v1/crdbs/:crdb_guid/health_report', { config: { permission: 'view_crdb' }, schema: { params: CrdbParams, querystring: InstanceQuery } },
    async (req) => c.get(req.params.crdb_guid));

  app.get('/v1/crdb_tasks', { config: { permission: 'view_crdb_task_list' } }, () => c.tasks());
  app.get('/v1/crdb_tasks/:task_id', { config: { permission: 'view_crdb_task' }, schema: { params: CrdbTaskParams, querystring: Type.Object({ verbose: QueryBool }) } },
    async (req) => c.task(req.params.task_id));
  app.post('/v1/crdb_tasks/:task_id/actions/cancel', {
    config: { permission: 'update_crdb', bdbScope: DENY_SCOPED },
    schema: { params: CrdbTaskParams, querystring: Type.Object({ force: QueryBool }) },
  }, async (req) => c.task(req.params.task_id));
};
