import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CertificateRotateRequest, CertificatesUpdateRequest, CertificateUpdate } from '../schemas/certificates.js';
import { roleAllows } from '../auth/permissions.js';
import type { Services } from '../compose.js';

export const certificateRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  // Private keys only for roles with view_cluster_keys (permissions.md: admin, cluster_member, user_manager);
  // viewers see the certificates (decisions.md).
  app.get('/v1/cluster/certificates', { config: { permission: 'view_cluster_info' } }, (req) =>
    s.certificates.list({ withKeys: !!req.caller && roleAllows(req.caller.role, 'view_cluster_keys') }));
  app.put('/v1/cluster/certificates', { config: { permission: 'update_cluster' }, schema: { body: CertificatesUpdateRequest } },
    async (req) => {
      await s.certificates.update(req.body.certificates);
      return {};
    });
  // Deprecated single-certificate form, still used by older scripts.
  app.put('/v1/cluster/update_cert', { config: { permission: 'update_cluster' }, schema: { body: CertificateUpdate } },
    async (req) => {
      await s.certificates.update([req.body]);
      return {};
    });
  app.delete('/v1/cluster/certificates/:name', { config: { permission: 'update_cluster' }, schema: { params: Type.Object({ name: Type.String() }) } },
    async (req) => {
      await s.certificates.delete(req.params.name);
      return {};
    });
  app.post('/v1/cluster/certificates/rotate', {
    config: { permission: 'update_cluster' },
    schema: { body: CertificateRotateRequest },
    // The body is optional (rotate.md): no body means `{}`, i.e. rotate the internal certificates.
    // Fastify would otherwise validate `undefined` against the object schema and answer 400.
    preValidation: async (req) => {
      if (req.body === undefined) (req as { body: unknown }).body = {};
    },
  },
    async (req) => {
      await s.certificates.rotate(req.body?.name);
      return {};
    });
};
