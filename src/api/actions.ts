import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RsError } from '../errors.js';
import type { ActionRecord } from '../services/action-service.js';
import { isOtherAction } from '../services/bdb-data-ops.js';
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
/** v2 statuses (requests/actions "v2 action object") for the state machine's. */
const V2_STATUS: Record<ActionRecord['status'], string> = { pending: 'queued', active: 'running', completed: 'completed', failed: 'failed' };

/**
 * The v2 action object: action_uid, action_type, creation_time, name, progress, status (queued,
 * running, completed, failed) and additional_info (object_type, object_uid, error). object_name
 * stays too: database-scoped roles are filtered by it, and clients of the v1 shape read it.
 */
const v2View = (a: ActionRecord) => {
  const [objectType, objectUid] = a.object_name.split(':');
  return {
    action_uid: a.action_uid,
    action_type: isOtherAction(a.name) ? 'other' : 'state-machine',
    creation_time: a.creation_time,
    name: a.name,
    progress: a.progress,
    status: V2_STATUS[a.status],
    object_name: a.object_name,
    additional_info: { object_type: objectType, object_uid: objectUid, ...(a.error ? { error: a.error } : {}) },
    ...(a.error ? { error: a.error } : {}),
    // objects/action.md: "When a task fails, the error_code and error_message fields describe the error."
    ...(a.error_code ? { error_code: a.error_code } : {}),
    ...(a.error ? { error_message: a.error } : {}),
  };
};

const ActionParams = Type.Object({ uid: Type.String() });

export const actionRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  const perm = { permission: 'view_status_of_cluster_action' };
  const one = async (uid: string) => {
    const a = await s.actions.get(uid);
    if (!a) throw new RsError('action_not_exist', `Action ${uid} does not exist`);
    return a;
  };
  // v1 lists state machines only: export, import and backup are v2's "other" actions.
  const v1List = async () => (await s.actions.list()).filter((a) => !isOtherAction(a.name));
  const v1One = async (uid: string) => {
    const a = await one(uid);
    if (isOtherAction(a.name)) throw new RsError('action_not_exist', `Action ${uid} is a ${a.name} action, which only GET /v2/actions/${uid} reports`);
    return a;
  };
  app.get('/v1/actions', { config: perm }, async () => ({ actions: [], 'state-machines': (await v1List()).map(smView) }));
  app.get('/v2/actions', { config: perm }, async () => (await s.actions.list()).map(v2View));
  app.get('/v1/actions/:uid', { config: perm, schema: { params: ActionParams } }, async (req) => smView(await v1One(req.params.uid)));
  app.get('/v2/actions/:uid', { config: perm, schema: { params: ActionParams } }, async (req) => v2View(await one(req.params.uid)));
  // requests/actions/bdb.md: "state-machine-related actions" of the database.
  app.get('/v1/actions/bdb/:uid', { config: perm, schema: { params: UidParams } }, async (req) => {
    const uid = parseUid(req.params.uid);
    await s.bdbs.get(uid);
    return (await v1List()).filter((a) => a.object_name === `bdb:${uid}`).map(smView);
  });
};
