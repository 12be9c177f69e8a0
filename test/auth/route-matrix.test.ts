/**
 * Every registered route × every management role, through real HTTPS on one real node.
 *
 * For each route (as conventions.ts recorded it, HEAD twins skipped) and each role, one request
 * with that role's Basic credentials: 403 `insufficient_permissions` exactly when the route's
 * declared permission is not in ROLE_PERMISSIONS for the role, never 403 when it is (any other
 * status is fine: 400 for an empty body, 404 for a missing object...). Routes with special access
 * (any management role, self-service, login, healthcheck, bootstrap) get their own expectations
 * below. Routes added later are covered without editing this file; a route that declares no
 * permission, or a name permissions.ts does not know, fails the declaration test.
 */
import { ok } from '../helpers/rs-error.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredRoutes, type DeclaredRoute } from '../../src/api/conventions.js';
import { ANY_MANAGEMENT_ROLE } from '../../src/api/route-types.js';
import { MANAGEMENT_ROLES, PERMISSIONS, roleAllows, type ManagementRole } from '../../src/auth/permissions.js';
import type { Resp } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

/** Markers a route may declare instead of a permissions.md name (src/api/route-types.ts). */
const SPECIAL_PERMISSIONS = new Set<string>([ANY_MANAGEMENT_ROLE]);
const ACCESS = new Set([undefined, 'cluster', 'bootstrap', 'healthcheck', 'login']);

let t: TestNode;
let routes: DeclaredRoute[];
const creds = {} as Record<ManagementRole, { user: string; pass: string; uid: number }>;
/** Throwaway objects for routes that change or delete what they name. */
const victim = { user: 0, role: 0, acl: 0 };

beforeAll(async () => {
  t = await startTestNode();
  for (const m of MANAGEMENT_ROLES) {
    const role = await ok(t.req('POST', '/v1/roles', { body: { name: `matrix-${m}`, management: m } }));
    const email = `matrix-${m}@test.local`;
    const pass = `Matrix-${m}-pass-1`;
    const user = await ok(t.req('POST', '/v1/users', { body: { email, name: `matrix-${m}`, password: pass, role_uids: [role.uid] } }));
    expect(user.role).toBe(m);
    creds[m] = { user: email, pass, uid: user.uid };
  }
  victim.user = (await ok(t.req('POST', '/v1/users', { body: { email: 'victim@test.local', password: 'Victim-pass-1', role: 'db_viewer' } }))).uid;
  victim.role = (await ok(t.req('POST', '/v1/roles', { body: { name: 'victim-role', management: 'none' } }))).uid;
  victim.acl = (await ok(t.req('POST', '/v1/redis_acls', { body: { name: 'victim-acl', acl: '+@read ~*' } }))).uid;
  routes = declaredRoutes(t.node.app).filter((r) => r.method !== 'HEAD');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** A concrete path: the throwaway object where the route would change it, else '1'. */
function pathOf(r: DeclaredRoute): string {
  return r.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    if (r.url.startsWith('/v1/users/')) return String(victim.user);
    if (r.url.startsWith('/v1/roles/')) return String(victim.role);
    if (r.url.startsWith('/v1/redis_acls/')) return String(victim.acl);
    if (name === 'name') return 'no_such_certificate';
    if (name === 'action') return 'create_cluster';
    return '1';
  });
}

const key = (r: DeclaredRoute) => `${r.method} ${r.url}`;
const send = (r: DeclaredRoute, role: ManagementRole, path = pathOf(r)) =>
  t.req(r.method, path, { auth: creds[role], body: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
const isDenied = (res: Resp) => res.status === 403 && res.json?.error_code === 'insufficient_permissions';

describe('route declarations', () => {
  it('finds every route, each with a known permission and access', () => {
    expect(routes.length).toBeGreaterThan(60);
    const known = new Set<string>(PERMISSIONS);
    const bad = routes
      .filter((r) => !r.config.permission || !(known.has(r.config.permission) || SPECIAL_PERMISSIONS.has(r.config.permission)) || !ACCESS.has(r.config.access))
      .map((r) => `${key(r)}: permission=${r.config.permission} access=${r.config.access}`);
    expect(bad).toEqual([]);
  });

  it('every route naming a database, a shard or an action has a database-scope rule', () => {
    const missing = routes.filter((r) => /\/(bdbs|shards|actions)(\/|$)/.test(r.url) && !r.config.bdbScope).map(key);
    expect(missing).toEqual([]);
  });
});

describe('route × role matrix', () => {
  it('403 exactly when the role lacks the permission (one request per route and role)', async () => {
    const plain = routes.filter((r) => r.config.permission !== ANY_MANAGEMENT_ROLE && !r.config.selfService);
    // Deletes last, so they cannot remove what other routes' requests name; within a route the
    // roles go from least to most privileged.
    const ordered = [...plain.filter((r) => r.method !== 'DELETE'), ...plain.filter((r) => r.method === 'DELETE')];
    const wrong: string[] = [];
    const serverErrors: string[] = [];
    for (const r of ordered) {
      for (const role of MANAGEMENT_ROLES) {
        const res = await send(r, role);
        const allowed = roleAllows(role, r.config.permission!);
        if (allowed ? res.status === 403 : !isDenied(res)) wrong.push(`${key(r)} as ${role}: ${res.status} ${res.text.slice(0, 160)} (allowed=${allowed})`);
        if (res.status >= 500) serverErrors.push(`${key(r)} as ${role}: ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
    if (serverErrors.length) console.warn(`5xx answers in the route matrix (not a permission failure):\n${serverErrors.join('\n')}`);
    expect(wrong).toEqual([]);
  }, 120_000);

  it(`${ANY_MANAGEMENT_ROLE} routes: 403 for role none only`, async () => {
    const anyRole = routes.filter((r) => r.config.permission === ANY_MANAGEMENT_ROLE);
    expect(anyRole.map(key).sort()).toEqual(expect.arrayContaining(['POST /v1/users/authorize', 'POST /v1/users/refresh_jwt', 'PUT /v1/users/password']));
    const wrong: string[] = [];
    for (const r of anyRole) {
      for (const role of MANAGEMENT_ROLES) {
        const res = await send(r, role);
        if (role === 'none' ? !isDenied(res) : res.status === 403) wrong.push(`${key(r)} as ${role}: ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('login access (POST /v1/users/authorize): credentials in the body work too, role none still gets 403', async () => {
    const authorize = routes.find((r) => key(r) === 'POST /v1/users/authorize')!;
    expect(authorize.config.access).toBe('login');
    for (const role of MANAGEMENT_ROLES) {
      const res = await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: creds[role].user, password: creds[role].pass } });
      if (role === 'none') expect(isDenied(res), res.text).toBe(true);
      else expect(res.status, `${role}: ${res.text}`).toBe(200);
    }
  });

  it('self-service routes: without the permission, a role may use them on its own account only (none: never)', async () => {
    const self = routes.filter((r) => r.config.selfService);
    expect(self.map(key).sort()).toEqual(['GET /v1/users/:uid', 'PUT /v1/users/:uid']);
    // A fresh target: the matrix above may have deleted the first throwaway user.
    const target = (await ok(t.req('POST', '/v1/users', { body: { email: 'target@test.local', password: 'Target-pass-1', role: 'db_viewer' } }))).uid;
    for (const r of self) {
      for (const role of MANAGEMENT_ROLES) {
        const other = await send(r, role, r.url.replace(':uid', String(target)));
        const own = await send(r, role, r.url.replace(':uid', String(creds[role].uid)));
        const what = `${key(r)} as ${role}: other ${other.status} ${other.text.slice(0, 120)}; own ${own.status} ${own.text.slice(0, 120)}`;
        if (role === 'none') expect(isDenied(other) && isDenied(own), what).toBe(true);
        else if (roleAllows(role, r.config.permission!)) expect(other.status !== 403 && own.status !== 403, what).toBe(true);
        else expect(isDenied(other) && own.status !== 403, what).toBe(true);
      }
    }
  });

  it('healthcheck access: the permission applies, and no credentials are needed once the policy says so', async () => {
    const hc = routes.find((r) => r.config.access === 'healthcheck')!;
    expect(key(hc)).toBe('GET /v1/local/node/master_healthcheck');
    for (const role of MANAGEMENT_ROLES) expect(isDenied(await send(hc, role))).toBe(!roleAllows(role, hc.config.permission!));
    expect((await t.req('GET', hc.url, { auth: null })).status).toBe(401);
    await ok(t.req('PUT', '/v1/cluster/policy', { body: { master_healthcheck_api_auth: false } }));
    try {
      expect((await t.req('GET', hc.url, { auth: null })).status).toBe(200);
    } finally {
      await ok(t.req('PUT', '/v1/cluster/policy', { body: { master_healthcheck_api_auth: true } }));
    }
  });

  it('bootstrap access: on a bootstrapped node the routes need their permission like any other', async () => {
    const boot = routes.filter((r) => r.config.access === 'bootstrap');
    expect(boot.map(key).sort()).toEqual(['GET /v1/bootstrap', 'POST /v1/bootstrap/:action', 'POST /v1/bootstrap/validate/:action']);
    for (const r of boot) {
      expect((await t.req(r.method, pathOf(r), { auth: null, body: r.method === 'POST' ? {} : undefined })).status).toBe(401);
      for (const role of MANAGEMENT_ROLES) expect(isDenied(await send(r, role)), `${key(r)} as ${role}`).toBe(!roleAllows(role, r.config.permission!));
    }
  });
});
