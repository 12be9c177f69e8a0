/**
 * The cluster's metrics_auth (objects/cluster/_index.md: "If true, requires authentication for
 * requests to the metrics exporter") on a real node: the exporter's HTTPS port checks credentials
 * as the REST API does (lockout included) and wants a role that may view cluster stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import { request, type ReqOpts } from '../helpers/https-client.js';
import { expectRsError } from '../helpers/rs-error.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
let port: number;
const PASS = 'metrics-pass-123';
const viewer = { user: 'm-viewer@test.local', pass: PASS };
const nobody = { user: 'm-none@test.local', pass: PASS };
const scoped = { user: 'm-scoped@test.local', pass: PASS };

const scrape = (path: string, opts: ReqOpts = {}) => request(port, 'GET', path, { auth: null, ...opts });

beforeAll(async () => {
  t = await startTestNode();
  port = t.node.composed.metrics.port!;
  const hash = await hashPassword(PASS);
  const user = (uid: number, email: string, role: UserRecord['role'], role_uids: number[] = []): UserRecord => ({
    uid, name: email.split('@')[0]!, email, role, role_uids, auth_method: 'regular', status: 'active', email_alerts: false,
    password_issue_date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), password_hashes: [hash],
  });
  await t.node.composed.kv.put('/users/60', user(60, viewer.user, 'cluster_viewer'));
  await t.node.composed.kv.put('/users/61', user(61, nobody.user, 'none'));
  // A db_viewer limited to database 7: the scrape covers every database, so it may not read it.
  await t.node.composed.kv.put('/roles/70', { uid: 70, name: 'db7-view', management: 'db_viewer', resources: [{ type: 'db', uids: ['7'] }] });
  await t.node.composed.kv.put('/users/62', user(62, scoped.user, 'db_viewer', [70]));
});
afterAll(async () => {
  await t?.close();
});

describe('metrics_auth', () => {
  it('is false by default: scrapes need no credentials', async () => {
    expect((await t.req('GET', '/v1/cluster')).json.metrics_auth).toBe(false);
    expect((await scrape('/metrics')).status).toBe(200);
    expect((await scrape('/v2')).status).toBe(200);
  });

  it('when true: no or wrong credentials → 401 with a Basic challenge on every path; a cluster user → 200', async () => {
    const put = await t.req('PUT', '/v1/cluster', { body: { metrics_auth: true } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.metrics_auth).toBe(true);
    for (const path of ['/', '/metrics', '/v2', '/v2/node', '/nope']) {
      const r = await scrape(path);
      expectRsError(r, 401, 'unauthorized');
      expect(r.headers['www-authenticate'], path).toBe('Basic realm="openrs"');
      expect(r.text).not.toContain('node_up');
    }
    expectRsError(await scrape('/metrics', { auth: { user: ADMIN.user, pass: 'wrong' } }), 401, 'unauthorized');
    expectRsError(await scrape('/metrics', { auth: { user: 'ghost@test.local', pass: PASS } }), 401, 'unauthorized');
    expectRsError(await scrape('/metrics', { headers: { authorization: 'Basic !!!' } }), 401, 'unauthorized');
    expectRsError(await request(port, 'POST', '/metrics', { auth: null }), 401, 'unauthorized');

    for (const auth of [ADMIN, viewer]) {
      const r = await scrape('/metrics', { auth });
      expect(r.status, r.text).toBe(200);
      expect(String(r.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(r.text).toContain('node_up{');
    }
    expect((await scrape('/v2/node', { auth: viewer })).status).toBe(200);
    expect((await scrape('/nope', { auth: viewer })).status).toBe(404);
    expect((await request(port, 'POST', '/metrics', { auth: viewer })).status).toBe(405);
    // A JWT from POST /v1/users/authorize works as for the REST API (Prometheus' bearer authorization).
    const token = (await t.req('POST', '/v1/users/authorize', { auth: viewer })).json.access_token as string;
    expect((await scrape('/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it("needs a role that may view cluster stats for every database: role 'none' and a scoped role → 403", async () => {
    expectRsError(await scrape('/metrics', { auth: nobody }), 403, 'insufficient_permissions');
    expectRsError(await scrape('/metrics', { auth: scoped }), 403, 'insufficient_permissions');
  });

  it('honours the login lockout: failures at the exporter lock the account for the REST API too', async () => {
    const policy = (p: Record<string, number>) => t.req('PUT', '/v1/cluster/policy', { body: p });
    expect((await policy({ login_lockout_threshold: 2, login_lockout_duration: 1800 })).status).toBe(200);
    try {
      const victim = { user: 'm-lock@test.local', pass: PASS };
      expect((await t.req('POST', '/v1/users', { body: { email: victim.user, password: victim.pass, role: 'cluster_viewer' } })).status).toBe(200);
      expect((await scrape('/metrics', { auth: victim })).status).toBe(200);
      for (let i = 0; i < 2; i++) expectRsError(await scrape('/metrics', { auth: { ...victim, pass: 'wrong' } }), 401);
      const locked = await scrape('/metrics', { auth: victim });
      expectRsError(locked, 401, 'unauthorized');
      expect(locked.json.description).toMatch(/locked/);
      expectRsError(await t.req('GET', '/v1/cluster', { auth: victim }), 401, 'unauthorized');
    } finally {
      await policy({ login_lockout_threshold: 5, login_lockout_duration: 1800 });
    }
  });

  it('back to false: open again', async () => {
    expect((await t.req('PUT', '/v1/cluster', { body: { metrics_auth: false } })).status).toBe(200);
    expect((await scrape('/metrics')).status).toBe(200);
  });
});
