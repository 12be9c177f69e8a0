/**
 * GET /v1/usage_report (requests/usage_report/_index.md): NDJSON, gzip-encoded when the request's
 * Accept-Encoding names gzip. The page names no permission; openrs asks for view_all_bdb_stats
 * (per-database usage figures), and a role limited to some databases gets only their lines
 * (docs/decisions/cluster-routes-extra.md).
 */
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';

const UsageReportQuery = Type.Object({
  stime: Type.Optional(Type.String({ description: 'ISO 8601: only lines dated at or after this time (openrs)' })),
  etime: Type.Optional(Type.String({ description: 'ISO 8601: only lines dated at or before this time (openrs)' })),
});

/** True when Accept-Encoding lists gzip (or x-gzip) with a non-zero q. */
export function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((item) => {
    const [coding, ...params] = item.trim().toLowerCase().split(';').map((p) => p.trim());
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export const usageReportRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/usage_report', {
    // `field` makes conventions.ts resolve the caller's database scope; the lines are filtered here
    // (a text body does not go through the JSON filter).
    config: { permission: 'view_all_bdb_stats', bdbScope: { field: 'bdb_uid' } },
    schema: { querystring: UsageReportQuery },
  }, async (req, reply) => {
    const text = await s.usageReport.ndjson(req.query, req.bdbScope?.bdbs);
    void reply.header('content-type', 'application/x-ndjson; charset=utf-8').header('vary', 'Accept-Encoding');
    if (!acceptsGzip(req.headers['accept-encoding'])) return text;
    return reply.header('content-encoding', 'gzip').send(gzipSync(text));
  });
};
