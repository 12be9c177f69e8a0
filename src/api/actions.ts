import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RsError } from '../errors.js';
import type { ActionRecord } from '../services/action-service.js';
import type { Services } from '../compose.js';
import { parseUid, UidParams } from './params.js';
import { Type } from '@sinclair/typebox';

/** State machines as /v1/actions lists them (objects/state-machine.md, capture actions_list.json). */
const smView = (a: ActionRecord) => ({
  action_uid: a.action_uid,
  name: a.name,
  object_name: a.object_name,
  status: a.status,
  progress: a.progress,
  heartbeat: a.heartbeat,
  node_uid: a.node_uid,
  ...(a.state ? { state: a.state } : {}),
  ...(a.error ? { error: a.error } : {}),
});
/** The v2 action object: one flat list, every entry with name, action_uid, status, progress. */
const v2View = (a: ActionRecord) => ({ ...smView(a), creation_time: a.creation_time, ...(a.error_code ? { error_code: a.error_code } : {}) });

const ActionParams = Type.Object({ uid: Type.String() });

export const actionRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  const perm = { permission: 'view_status_of_cluster_action' };
  const one = async (uid: string) => {
    const a = await s.actions.get(uid);
    if (!a) throw new RsError('action_not_exist', `Action ${uid} does not exist`);
    return a;
  };
  app.get('/v1/actions', { config: perm }, async () => ({ actions: [], 'state-machines': (await s.actions.list()).map(smView) }));
  app.get('/v2/actions', { config: perm }, async () => (await s.actions.list()).map(v2View));
  app.get('/v1/actions/:uid', { config: perm, schema: { params: ActionParams } }, async (req) => smView(await one(req.params.uid)));
  app.get('/v2/actions/:uid', { config: perm, schema: { params: ActionParams } }, async (req) => v2View(await one(req.params.uid)));
  app.get('/v1/actions/bdb/:uid', { config: perm, schema: { params: UidParams } }, async (req) => {
    const uid = parseUid(req.params.uid);
    await s.bdbs.get(uid);
    return (await s.actions.list()).filter((a) => a.object_name === `bdb:${uid}`).map(smView);
  });
};
