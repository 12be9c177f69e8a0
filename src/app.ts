/** buildApp: Fastify with the REST conventions and every route plugin. Never listens by itself. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { registerConventions } from './api/conventions.js';
import { RsError } from './errors.js';
import { bootstrapRoutes } from './api/bootstrap.js';
import { bdbRoutes } from './api/bdbs.js';
import { bdbCertificateRoutes } from './api/bdb-certificates.js';
import { bdbAvailabilityRoutes } from './api/bdb-availability.js';
import { bdbActionRoutes } from './api/bdb-actions.js';
import { debugInfoRoutes } from './api/debuginfo.js';
import { proxyRoutes } from './api/proxies.js';
import { bdbExtraRoutes } from './api/bdb-extras.js';
import { shardRoutes } from './api/shards.js';
import { actionRoutes } from './api/actions.js';
import { certificateRoutes } from './api/certificates.js';
import { clusterRoutes } from './api/cluster.js';
import { healthRoutes } from './api/health.js';
import { jsonschemaRoutes } from './api/jsonschema.js';
import { jwtRoutes } from './api/jwt.js';
import { ldapRoutes } from './api/ldap.js';
import { ldapMappingRoutes } from './api/ldap-mappings.js';
import { licenseRoutes } from './api/license.js';
import { nodeRoutes } from './api/nodes.js';
import { redisAclRoutes } from './api/redis-acls.js';
import { roleRoutes } from './api/roles.js';
import { userRoutes } from './api/users.js';
import { ssoRoutes } from './api/sso.js';
import { statsRoutes } from './api/stats.js';
import { logRoutes } from './api/logs.js';
import { alertRoutes } from './api/alerts.js';
import { moduleRoutes } from './api/modules.js';
import { suffixRoutes } from './api/suffixes.js';
import { usageReportRoutes } from './api/usage-report.js';
import { checkRoutes } from './api/checks.js';
import { crdbRoutes } from './api/crdbs.js';
import { ocspRoutes } from './api/ocsp.js';
import { moduleCapabilityRoutes } from './api/module-capabilities.js';
import type { Composed } from './compose.js';
import './api/route-types.js';

export async function buildApp(c: Composed, opts: { logger: Logger; https?: SecureContextOptions }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    ...(opts.https ? { https: opts.https } : {}),
    // No coercion (a string is not a number in a body), no silent removal of unknown fields, and no
    // defaults filled into partial updates: the services apply documented defaults themselves.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    bodyLimit: 16 * 1024 * 1024,
    // `/v1/cluster/` is `/v1/cluster`: the 405 check (conventions.ts) already read paths that way.
    routerOptions: { ignoreTrailingSlash: true },
    // A URL that does not decode (`/v1/users/%FF`) gets an RS error body like any other 400.
    frameworkErrors: (err, _req, res) => {
      const reply = res as unknown as FastifyReply;
      const rs = new RsError('bad_request', `Malformed request: ${err.message}`, { status: 400 });
      void reply.status(rs.statusCode).type('application/json').send(rs.toJSON());
    },
    // Requests are logged once, at debug level, by the onResponse hook in conventions.ts.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;

  registerConventions(app, {
    isBootstrapped: () => c.services.bootstrap.isBootstrapped(),
    authenticate: (req) => c.authenticator.authenticate(req),
    verifyCredentials: (login, password, req) => c.authenticator.verifyCredentials(login, password, req),
    bdbScope: (caller) => c.bdbScope(caller),
    // If the store cannot be read, nobody can be authenticated either; let the healthcheck answer
    // "inactive" (its handler checks the store) instead of failing with 500.
    healthcheckNeedsAuth: async () => {
      try {
        return (await c.policy.get())?.value.master_healthcheck_api_auth !== false;
      } catch {
        return false;
      }
    },
  });

  await app.register(bootstrapRoutes(c.services));
  await app.register(clusterRoutes(c.services));
  await app.register(certificateRoutes(c.services));
  await app.register(nodeRoutes(c.services));
  await app.register(licenseRoutes(c.services));
  await app.register(jsonschemaRoutes());
  await app.register(healthRoutes(c.services));
  await app.register(bdbRoutes(c.services));
  await app.register(bdbAvailabilityRoutes(c.services));
  await app.register(bdbActionRoutes(c.services));
  await app.register(bdbExtraRoutes(c.services));
  await app.register(bdbCertificateRoutes(c.services));
  await app.register(debugInfoRoutes(c.services));
  await app.register(proxyRoutes(c.services));
  await app.register(shardRoutes(c.services));
  await app.register(actionRoutes(c.services));
  await app.register(jwtRoutes(c.services));
  await app.register(ldapRoutes(c.services));
  await app.register(ldapMappingRoutes(c.services));
  await app.register(userRoutes(c.services));
  await app.register(roleRoutes(c.services));
  await app.register(redisAclRoutes(c.services));
  await app.register(ssoRoutes(c.services));
  await app.register(statsRoutes(c.stats.stats));
  await app.register(logRoutes(c.events));
  await app.register(alertRoutes(c.alerts));
  await app.register(moduleRoutes(c.services));
  await app.register(suffixRoutes(c.services));
  await app.register(usageReportRoutes(c.services));
  await app.register(checkRoutes(c.services));
  await app.register(crdbRoutes(c.services));
  await app.register(ocspRoutes(c.services));
  await app.register(moduleCapabilityRoutes());
  return app;
}
