/**
 * Dataset actions of a database: requests/bdbs/actions/export.md, import.md,
 * export_reset_status.md, import_reset_status.md, backup_reset_status.md and recover.md.
 * Progress is reported on the bdb (`export_status`, `import_progress`, ...) and the action.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { ExportRequest, ImportRequest, RecoverRequest } from '../schemas/bdb-actions.js';
import type { StatusKind } from '../services/bdb-data-ops.js';
import { parseUid, UidParams } from './params.js';

const dbUid = (raw: string) => parseUid(raw, 'db_not_exist');
// import.md sends `Content-Length: 0`; recover.md: "The request body can either be empty or ...".
// Fastify validates a missing body as null.
const ImportBody = Type.Union([ImportRequest, Type.Null()]);
const RecoverBody = Type.Union([RecoverRequest, Type.Null()]);

export const bdbActionRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/v1/bdbs/:uid/actions/export', { config: { permission: 'start_bdb_export' }, schema: { params: UidParams, body: ExportRequest } },
    (req) => s.bdbData.export(dbUid(req.params.uid), req.body));
  app.post('/v1/bdbs/:uid/actions/import', { config: { permission: 'start_bdb_import' }, schema: { params: UidParams, body: ImportBody } },
    (req) => s.bdbData.import(dbUid(req.params.uid), req.body ?? undefined));

  const resets: [string, StatusKind, string][] = [
    ['export_reset_status', 'export', 'reset_bdb_current_export_status'],
    ['import_reset_status', 'import', 'reset_bdb_current_import_status'],
    ['backup_reset_status', 'backup', 'reset_bdb_current_backup_status'],
  ];
  for (const [path, kind, permission] of resets) {
    app.put(`/v1/bdbs/:uid/actions/${path}`, { config: { permission }, schema: { params: UidParams } },
      (req) => s.bdbData.resetStatus(dbUid(req.params.uid), kind));
  }

  app.get('/v1/bdbs/:uid/actions/recover', { config: { permission: 'view_bdb_recovery_plan' }, schema: { params: UidParams } },
    (req) => s.bdbData.recoveryPlan(dbUid(req.params.uid)));
  app.post('/v1/bdbs/:uid/actions/recover', { config: { permission: 'start_bdb_recovery' }, schema: { params: UidParams, body: RecoverBody } },
    (req) => s.bdbData.recover(dbUid(req.params.uid), req.body ?? undefined));
};
