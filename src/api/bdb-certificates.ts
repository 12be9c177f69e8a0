import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../compose.js';
import { BdbCertificatesQuery, BdbProxyCertificate, BdbProxyCertificateSetRequest } from '../schemas/bdb-certificate.js';
import { DryRunQuery, isDryRun, parseUid, UidParams } from './params.js';

const dbUid = (raw: string) => parseUid(raw, 'db_not_exist');

/** Per-database proxy certificates (openapi.json only). The response schemas leave the write-only private_key out. */
export const bdbCertificateRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/bdbs/certificates', {
    // The entries name their database in bdb_uid (the URL rule would look for uid and keep them all).
    config: { permission: 'view_all_bdbs_info', bdbScope: { field: 'bdb_uid' } },
    schema: { querystring: BdbCertificatesQuery, response: { 200: Type.Array(BdbProxyCertificate) } },
  }, (req) => s.bdbCertificates.list(req.query));
  app.get('/v1/bdbs/:uid/certificates', { config: { permission: 'view_bdb_info' }, schema: { params: UidParams, response: { 200: BdbProxyCertificate } } },
    (req) => s.bdbCertificates.get(dbUid(req.params.uid)));
  app.post('/v1/bdbs/:uid/certificates', {
    config: { permission: 'update_bdb' },
    schema: { params: UidParams, querystring: DryRunQuery, body: BdbProxyCertificateSetRequest, response: { 200: BdbProxyCertificate } },
  }, (req) => s.bdbCertificates.set(dbUid(req.params.uid), req.body, { dryRun: isDryRun(req.query) }));
  app.delete('/v1/bdbs/:uid/certificates', { config: { permission: 'update_bdb' }, schema: { params: UidParams } },
    async (req) => {
      await s.bdbCertificates.delete(dbUid(req.params.uid));
      return {};
    });
};
