/** GET /v1/logs (requests/logs): the cluster event log, filtered by time and paged. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FieldsParam } from './params.js';
import { Type } from '@sinclair/typebox';
import { RsError } from '../errors.js';
import type { EventStore } from '../store/event-store.js';
import { rsTime } from '../util/clock.js';
import { timeParam } from '../util/iso-time.js';
import { bdbUidOf } from '../auth/bdb-scope.js';

const LogsQuery = Type.Object({
  stime: Type.Optional(Type.String({ description: 'ISO 8601: no events before it' })),
  etime: Type.Optional(Type.String({ description: 'ISO 8601: no events after it' })),
  order: Type.Optional(Type.String({ description: 'asc (default) or desc' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Maximum number of events' })),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Events to skip first' })),
  fields: FieldsParam,
});

/** Events are stored with RS timestamps (second precision, UTC), so bounds are normalized to that form. */
function bound(raw: string | undefined, name: string): string | undefined {
  const t = timeParam(raw, name);
  return t === undefined ? undefined : rsTime(new Date(t));
}

/**
 * `limit` / `offset` are integers of any size: the page documents no error status, so a value
 * past what can be stored (2^53) is read as that much, which asks for every event / skips them all.
 * (Passed as is, such values reach SQLite as floats and fail with a datatype mismatch.)
 */
const count = (raw: string | undefined): number | undefined =>
  raw === undefined ? undefined : Math.min(Number(raw), Number.MAX_SAFE_INTEGER);

export const logRoutes = (events: EventStore): FastifyPluginAsyncTypebox => async (app) => {
  // A database-scoped role sees only the events of its databases, and those naming none (create-cluster-roles.md:
  // "sees only their authorized databases ... in database lists, metrics, alerts, and event logs"). Every event
  // about a database carries `bdb_uid`; the scope is applied before limit/offset, so pages stay full.
  app.get('/v1/logs', { config: { permission: 'view_logged_events', bdbScope: { field: 'bdb_uid' } }, schema: { querystring: LogsQuery } }, (req) => {
    const q = req.query;
    const order = (q.order ?? 'asc').toLowerCase();
    if (order !== 'asc' && order !== 'desc') throw new RsError('invalid_param', `order: expected asc or desc, got '${q.order}'`);
    const range = { stime: bound(q.stime, 'stime'), etime: bound(q.etime, 'etime'), order } as const;
    const scope = req.bdbScope?.bdbs;
    if (!scope) return events.query({ ...range, limit: count(q.limit), offset: count(q.offset) });
    const offset = count(q.offset) ?? 0;
    const limit = count(q.limit);
    const mine = events.query(range).filter((e) => {
      const uid = bdbUidOf(e.bdb_uid);
      return uid === undefined || scope.has(uid);
    });
    return mine.slice(offset, limit === undefined ? undefined : offset + limit);
  });
};
