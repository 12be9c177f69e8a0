/**
 * Debug info downloads (requests/debuginfo/, requests/bdbs/debuginfo.md, requests/nodes/debuginfo.md,
 * requests/cluster/debuginfo.md): `debuginfo.tar.gz` (debuginfo-service.ts). One node: "all nodes" and "this
 * node" are the same archive.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Services } from '../compose.js';
import { parseUid, UidParams } from './params.js';

const permission = 'view_debugging_info';
/**
 * Database-scoped roles (auth/bdb-scope.ts): a database's archive only for a database in scope; the whole-cluster
 * archives hold every database's settings, logs and slow log, so they are refused to scoped callers (QA).
 */
const whole = { permission, bdbScope: { deny: true as const } };
const oneBdb = { permission, bdbScope: { param: 'uid' } };

async function send(reply: FastifyReply, archive: Promise<Buffer>): Promise<FastifyReply> {
  const body = await archive;
  return reply.type('application/x-gzip').header('content-disposition', 'attachment; filename=debuginfo.tar.gz').send(body);
}

export const debugInfoRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  for (const url of ['/v1/debuginfo/all', '/v1/debuginfo/node', '/v1/bdbs/debuginfo', '/v1/nodes/debuginfo', '/v1/cluster/debuginfo']) {
    app.get(url, { config: whole }, (_req, reply) => send(reply, s.debugInfo.archive()));
  }
  for (const url of ['/v1/debuginfo/all/bdb/:uid', '/v1/debuginfo/node/bdb/:uid', '/v1/bdbs/:uid/debuginfo']) {
    app.get(url, { config: oneBdb, schema: { params: UidParams } }, (req, reply) => send(reply, s.debugInfo.archive(parseUid(req.params.uid, 'db_not_exist'))));
  }
  app.get('/v1/nodes/:uid/debuginfo', { config: whole, schema: { params: UidParams } }, async (req, reply) => {
    await s.nodes.get(parseUid(req.params.uid, 'node_not_found'));
    return send(reply, s.debugInfo.archive());
  });
};
