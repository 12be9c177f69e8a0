/**
 * Per-route declarations every route carries (read by the hooks in conventions.ts):
 * - `permission`: the RS permission name (permissions.md) the caller's role must hold.
 * - `access`: 'cluster' (default: needs a bootstrapped node and an authenticated caller),
 *   'bootstrap' (open before the node is bootstrapped, authenticated afterwards),
 *   'healthcheck' (like 'cluster', but open when the policy's master_healthcheck_api_auth is false).
 */
import type { ManagementRole } from '../auth/permissions.js';

export type RouteAccess = 'cluster' | 'bootstrap' | 'healthcheck';

/** The authenticated caller, as the auth hook leaves it on the request. */
export interface Caller {
  uid: number;
  name: string;
  email: string;
  role: ManagementRole;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: string;
    access?: RouteAccess;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}
