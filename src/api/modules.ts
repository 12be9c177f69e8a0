/**
 * Cluster modules: requests/modules/_index.md (GET list and one), config.md (the deprecated
 * POST /v1/modules/config/bdb/{uid}), and the upload / delete routes of the 7.22 modules page
 * (POST /v1/modules, POST /v2/modules, DELETE /v1/modules/{uid}, DELETE /v2/modules/{uid}).
 * Permissions as on those pages. What each answers: docs/decisions/cluster-routes-extra.md.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { Module } from '../schemas/module.js';
import { ModulesConfigBodyOrNone } from './bdb-extras.js';
import type { ModuleUpload } from '../services/module-service.js';
import { acceptModuleUploads } from './module-upload-body.js';
import { parseUid, UidParams } from './params.js';

export const moduleRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  acceptModuleUploads(app);

  app.get('/v1/modules', { config: { permission: 'view_cluster_modules' }, schema: { response: { 200: Type.Array(Module) } } },
    () => s.modules.list());
  app.get('/v1/modules/:uid', { config: { permission: 'view_cluster_modules' }, schema: { params: UidParams, response: { 200: Module } } },
    (req) => s.modules.get(req.params.uid));

  // The package is multipart/form-data; any body reaches the service, which answers no_module or the refusal.
  for (const path of ['/v1/modules', '/v2/modules']) {
    app.post(path, { config: { permission: 'update_cluster' } }, (req) => s.modules.upload(req.body as ModuleUpload | undefined));
  }
  for (const path of ['/v1/modules/:uid', '/v2/modules/:uid']) {
    app.delete(path, { config: { permission: 'update_cluster' }, schema: { params: UidParams } }, (req) => s.modules.remove(req.params.uid));
  }

  // config.md: deprecated twin of POST /v1/bdbs/{uid}/modules/config, answered the same way.
  app.post('/v1/modules/config/bdb/:uid', {
    config: { permission: 'edit_bdb_module', bdbScope: { param: 'uid' } },
    schema: { params: UidParams, body: ModulesConfigBodyOrNone },
  }, (req) => s.bdbModules.configure(parseUid(req.params.uid, 'db_not_exist'), req.body?.modules));
};
