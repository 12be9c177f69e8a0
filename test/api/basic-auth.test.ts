/**
 * control_plane_basic_authentication (objects/cluster, security/access-control/
 * disable-basic-authentication.md) through real HTTPS on a real node: with it false, Basic
 * credentials get 401 everywhere except POST /v1/users/authorize, JWTs keep working, and a JWT
 * admin can turn Basic back on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resp } from '../helpers/https-client.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

let t: TestNode;
const viewer = { user: 'viewer@test.local', pass: 'Viewer-pass-1' };
const jwt = (token: string) => ({ auth: null, headers: { authorization: `JWT ${token}` } });
const bearer = (token: string) => ({ auth: null, headers: { authorization: `Bearer ${token}` } });

async function token(auth: { user: string; pass: string } = ADMIN): Promise<string> {
  const r = await t.req('POST', '/v1/users/authorize', { auth });
  expect(r.status, r.text).toBe(200);
  return r.json.access_token;
}
const setBasic = (value: boolean, opts: object = {}) => t.req('PUT', '/v1/cluster', { ...opts, body: { control_plane_basic_authentication: value } });

beforeAll(async () => {
  t = await startTestNode();
  expect((await t.req('POST', '/v1/users', { body: { email: viewer.user, password: viewer.pass, role: 'cluster_viewer' } })).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

describe('control_plane_basic_authentication', () => {
  it('is true by default and settable (no longer refused as unsupported)', async () => {
    expect((await t.req('GET', '/v1/cluster')).json.control_plane_basic_authentication).toBe(true);
    expect((await setBasic(true)).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster?dry_run=1', { body: { control_plane_basic_authentication: false } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster')).json.control_plane_basic_authentication).toBe(true);
  });

  it('false: Basic → 401 on every route but authorize; JWT and Bearer work; a JWT admin turns it back on', async () => {
    const adminToken = await token();
    const viewerToken = await token(viewer);
    expect((await setBasic(false)).status).toBe(200);
    try {
      for (const [method, path] of [['GET', '/v1/cluster'], ['PUT', '/v1/cluster'], ['GET', '/v1/bdbs'], ['GET', '/v1/users/1'], ['GET', '/v1/local/node/master_healthcheck'], ['GET', '/v1/bootstrap'], ['PUT', '/v1/users/password']] as const) {
        const r = await t.req(method, path, { body: method === 'PUT' ? {} : undefined });
        expectRsError(r, 401, 'unauthorized');
        expect(r.json.description, `${method} ${path}`).toMatch(/Basic authentication is disabled/);
      }
      // refresh_jwt never took Basic; it still does not.
      expectRsError(await t.req('POST', '/v1/users/refresh_jwt'), 401, 'unauthorized');

      // Tokens work, in both header forms, and authorize still trades a password for one.
      expect((await t.req('GET', '/v1/cluster', jwt(adminToken))).json.control_plane_basic_authentication).toBe(false);
      expect((await t.req('GET', '/v1/cluster', bearer(viewerToken))).status).toBe(200);
      const viaHeader = await token();
      expect((await t.req('GET', '/v1/nodes', jwt(viaHeader))).status).toBe(200);
      const viaBody = await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: viewer.user, password: viewer.pass } });
      expect(viaBody.status, viaBody.text).toBe(200);
      expect((await t.req('POST', '/v1/users/refresh_jwt', jwt(viaBody.json.access_token))).status).toBe(200);
      expectRsError(await t.req('POST', '/v1/users/authorize', { auth: { user: viewer.user, pass: 'wrong' } }), 401, 'unauthorized');

      // Refused before any password check: wrong passwords over Basic do not count towards lockout.
      for (let i = 0; i < 6; i++) expectRsError(await t.req('GET', '/v1/cluster', { auth: { user: viewer.user, pass: 'wrong' } }), 401, 'unauthorized');

      // Only an admin may turn it back on; with a JWT, since Basic is off.
      expectRsError(await setBasic(true, jwt(viewerToken)), 403, 'insufficient_permissions');
      expect((await setBasic(true, jwt(adminToken))).status).toBe(200);
    } finally {
      if ((await t.req('GET', '/v1/cluster', jwt(adminToken))).json.control_plane_basic_authentication === false) await setBasic(true, jwt(adminToken));
    }
    expect((await t.req('GET', '/v1/cluster')).status).toBe(200);
    // The viewer was not locked out by the refused attempts.
    expect((await t.req('GET', '/v1/cluster', { auth: viewer })).status).toBe(200);
  });
});
