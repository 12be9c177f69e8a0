/**
 * Per-route declarations every route carries (read by the hooks in conventions.ts):
 * - `permission`: the RS permission name (permissions.md) the caller's role must hold.
 * - `access`: 'cluster' (default: needs a bootstrapped node and an authenticated caller),
 *   'bootstrap' (open before the node is bootstrapped, authenticated afterwards),
 *   'healthcheck' (like 'cluster', but open when the policy's master_healthcheck_api_auth is false),
 *   'login' (like 'cluster', but the credentials may instead come as `username`/`password` in the
 *   JSON body, objects/jwt_authorize.md; conventions.ts verifies them before the permission check).
 */
import type { ManagementRole } from '../auth/permissions.js';
import type { BdbScope, BdbScopeRule } from '../auth/bdb-scope.js';

export type RouteAccess = 'cluster' | 'bootstrap' | 'healthcheck' | 'login';

/**
 * Pseudo-permission for routes that no permissions.md entry covers and that every management role
 * may call (POST /v1/users/authorize, /v1/users/refresh_jwt): any caller except role 'none', which
 * has "No REST API permissions" (permissions.md) and no REST API access (create-db-roles.md).
 */
export const ANY_MANAGEMENT_ROLE = 'any_management_role';

/** The authenticated caller, as the auth hook leaves it on the request. */
export interface Caller {
  uid: number;
  name: string;
  email: string;
  role: ManagementRole;
  /**
   * The roles the caller holds (user.md role_uids; for LDAP callers, the roles of the matched
   * mappings). Read by the bdb scope check (auth/bdb-scope.ts) for roles limited by `resources`.
   */
  role_uids?: readonly number[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: string;
    access?: RouteAccess;
    /**
     * Callers without `permission` may still call the route for their own account (any role but
     * 'none'); the service checks the target (GET/PUT /v1/users/{uid}: "Any user can change their
     * own name, password, or alert preferences").
     */
    selfService?: boolean;
    /** A caller whose password has expired may call this route (PUT /v1/users/password, to set a new one). */
    allowExpiredPassword?: boolean;
    /**
     * How the route touches databases, for callers whose role is limited to some databases
     * (role.md `resources`). Inferred from the URL by auth/bdb-scope.ts when not given.
     */
    bdbScope?: BdbScopeRule;
    /**
     * A route whose last path segment is a parameter naming an action (PUT /v1/bdbs/{uid}/{action}): the actions it
     * knows. Any value still reaches the route (which answers the page's error for an unknown one), but only these
     * make the path a known resource, for the 405 + Allow answer to another method; others are 404 (QA).
     */
    verbs?: readonly string[];
  }
  interface FastifyRequest {
    caller?: Caller;
    /** The databases a scoped caller may see (set by conventions.ts); absent = all. */
    bdbScope?: BdbScope;
  }
}
