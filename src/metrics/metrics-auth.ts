/**
 * The cluster's `metrics_auth` (objects/cluster: "If true, requires authentication for requests
 * to the metrics exporter"). While it is true, a scrape must carry the credentials of a cluster
 * user, checked by the REST API's Authenticator (local users and LDAP, lockout and password
 * expiry, login events, the control_plane_basic_authentication switch, JWTs as `Bearer`), whose
 * role may view cluster stats (view_cluster_stats) for every database: the scrape covers them
 * all, so a role limited to some databases is refused. The exporter is HTTPS only, so Basic
 * credentials never cross the network in clear.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Caller } from '../api/route-types.js';
import { roleAllows } from '../auth/permissions.js';
import { RsError } from '../errors.js';

export const METRICS_PERMISSION = 'view_cluster_stats';

export interface MetricsAuthOptions {
  log: Logger;
  /** The cluster's metrics_auth, read at each scrape (a change applies to the next one). */
  enabled(): Promise<boolean>;
  /** The REST API's check of the Authorization header: the caller, or a 401 RsError. */
  authenticate(req: FastifyRequest): Promise<Caller>;
  /** Whether the caller's roles limit it to some databases (role.md `resources`). */
  scoped(caller: Caller): Promise<boolean>;
}

/** Resolves when the scrape may be served; rejects with an RsError (401 / 403) otherwise. */
export type MetricsAuthorizer = (authorization: string | undefined) => Promise<void>;

export function metricsAuthorizer(o: MetricsAuthOptions): MetricsAuthorizer {
  return async (authorization) => {
    if (!(await o.enabled())) return;
    // The Authenticator and its verifiers read only these members of a request: the header, a
    // logger, and the route's config (an exporter scrape is no login route and allows nothing extra).
    const req = { headers: authorization === undefined ? {} : { authorization }, log: o.log, routeOptions: { config: {} } } as unknown as FastifyRequest;
    const caller = await o.authenticate(req);
    if (!roleAllows(caller.role, METRICS_PERMISSION)) {
      throw new RsError('insufficient_permissions', `Role '${caller.role}' lacks permission '${METRICS_PERMISSION}' needed to read the metrics`);
    }
    if (await o.scoped(caller)) {
      throw new RsError('insufficient_permissions', 'The metrics cover every database; this user is limited to some of them');
    }
  };
}
