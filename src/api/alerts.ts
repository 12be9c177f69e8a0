/**
 * Alert routes: requests/cluster/alerts.md, requests/nodes/alerts.md, requests/bdbs/alerts.md, and
 * the CRDB / Replica Of source alerts (crdt_sources-alerts.md, replica_sources-alerts.md), which
 * answer their empty state: openrs has neither Active-Active nor Replica Of sources.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RsError } from '../errors.js';
import type { AlertService } from '../events/alerts.js';
import { DryRunQuery, FieldsParam, isDryRun, parseUid, UidParams } from './params.js';

const AlertQuery = Type.Object({ ignore_settings: Type.Optional(Type.String()), fields: FieldsParam });
const AlertParams = Type.Object({ uid: Type.String(), alert: Type.String() });
const SourceParams = Type.Object({ uid: Type.String(), src: Type.String(), alert: Type.Optional(Type.String()) });
/**
 * alert name → {enabled, threshold}. Only "an object" here: the settings themselves are checked by the service,
 * which answers 406 "Invalid configuration parameters provided" (requests/bdbs/alerts.md lists no 400).
 */
const BdbAlertsBody = Type.Record(Type.String(), Type.Unknown());

const bdbUid = (raw: string) => parseUid(raw, 'db_not_exist');

export const alertRoutes = (alerts: AlertService): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/cluster/alerts', { config: { permission: 'view_cluster_alerts' }, schema: { querystring: AlertQuery } }, () => alerts.clusterAlerts());
  app.get('/v1/cluster/alerts/:alert', { config: { permission: 'view_cluster_alerts' }, schema: { querystring: AlertQuery, params: Type.Object({ alert: Type.String() }) } },
    (req) => alerts.clusterAlerts(req.params.alert));

  app.get('/v1/nodes/alerts', { config: { permission: 'view_all_nodes_alerts' }, schema: { querystring: AlertQuery } }, () => alerts.nodeAlerts());
  app.get('/v1/nodes/alerts/:uid', { config: { permission: 'view_node_alerts' }, schema: { querystring: AlertQuery, params: UidParams } },
    (req) => alerts.nodeAlerts(parseUid(req.params.uid, 'node_not_found')));
  app.get('/v1/nodes/alerts/:uid/:alert', { config: { permission: 'view_node_alerts' }, schema: { querystring: AlertQuery, params: AlertParams } },
    (req) => alerts.nodeAlerts(parseUid(req.params.uid, 'node_not_found'), req.params.alert));

  app.get('/v1/bdbs/alerts', { config: { permission: 'view_all_bdbs_alerts' } }, () => alerts.bdbAlerts());
  app.get('/v1/bdbs/alerts/:uid', { config: { permission: 'view_bdb_alerts' }, schema: { params: UidParams } }, (req) => alerts.bdbAlerts(bdbUid(req.params.uid)));
  app.get('/v1/bdbs/alerts/:uid/:alert', { config: { permission: 'view_bdb_alerts' }, schema: { params: AlertParams } },
    (req) => alerts.bdbAlerts(bdbUid(req.params.uid), req.params.alert));
  app.post('/v1/bdbs/alerts/:uid', { config: { permission: 'update_bdb_alerts' }, schema: { params: UidParams, querystring: DryRunQuery, body: BdbAlertsBody } },
    (req) => alerts.updateBdbAlerts(bdbUid(req.params.uid), req.body, isDryRun(req.query)));

  for (const kind of ['crdt_sources', 'replica_sources'] as const) {
    const name = kind === 'crdt_sources' ? 'CRDT source' : 'Replica Of source';
    app.get(`/v1/bdbs/${kind}/alerts`, { config: { permission: 'view_all_bdbs_alerts' } }, () => ({}));
    app.get(`/v1/bdbs/${kind}/alerts/:uid`, { config: { permission: 'view_bdb_alerts' }, schema: { params: UidParams } }, async (req) => {
      await alerts.requireBdb(bdbUid(req.params.uid));
      return {};
    });
    const noSource = async (req: { params: { uid: string; src: string } }) => {
      await alerts.requireBdb(bdbUid(req.params.uid));
      throw new RsError('not_found', `Database ${req.params.uid} has no ${name} '${req.params.src}'`);
    };
    app.get(`/v1/bdbs/${kind}/alerts/:uid/:src`, { config: { permission: 'view_bdb_alerts' }, schema: { params: SourceParams } }, noSource);
    app.get(`/v1/bdbs/${kind}/alerts/:uid/:src/:alert`, { config: { permission: 'view_bdb_alerts' }, schema: { params: SourceParams } }, noSource);
  }
};
