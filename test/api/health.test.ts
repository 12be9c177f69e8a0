/**
 * GET /v1/local/node/master_healthcheck through real HTTPS on a real node
 * (requests/node_master_healthcheck/_index.md; objects/cluster_settings.md master_healthcheck_api_auth).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';

const HEALTHCHECK = '/v1/local/node/master_healthcheck';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const setAuth = async (on: boolean) => {
  const r = await t.req('PUT', '/v1/cluster/policy', { body: { master_healthcheck_api_auth: on } });
  expect(r.status).toBe(200);
  expect(r.json.master_healthcheck_api_auth).toBe(on);
};

describe('master healthcheck', () => {
  it('answers {"status":"active"} to an authenticated caller', async () => {
    const r = await t.req('GET', HEALTHCHECK);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json).toEqual({ status: 'active' });
  });

  it('needs authentication by default: 401 without or with wrong credentials', async () => {
    for (const auth of [null, { user: ADMIN.user, pass: 'wrong' }]) {
      const r = await t.req('GET', HEALTHCHECK, { auth });
      expect(r.status).toBe(401);
      expect(r.json.error_code).toBe('unauthorized');
      expect(r.headers['www-authenticate']).toMatch(/^Basic /);
    }
  });

  it('a role with view_cluster_info may call it; a role without it gets 403', async () => {
    const base: UserRecord = {
      uid: 60, name: 'viewer', email: 'hc-viewer@test.local', role: 'cluster_viewer', role_uids: [], auth_method: 'regular',
      status: 'active', email_alerts: false, bdbs_email_alerts: [], alert_audit_db_conns: false, alert_bdb_backup: false,
      alert_bdb_crdt_src_syncer: false, password_issue_date: '2026-01-01T00:00:00Z', password_hashes: [await hashPassword('hc-pass-123')],
    };
    await t.node.composed.kv.put('/users/60', base);
    await t.node.composed.kv.put('/users/61', { ...base, uid: 61, name: 'nobody', email: 'hc-none@test.local', role: 'none' });
    const viewer = await t.req('GET', HEALTHCHECK, { auth: { user: 'hc-viewer@test.local', pass: 'hc-pass-123' } });
    expect(viewer.status).toBe(200);
    expect(viewer.json).toEqual({ status: 'active' });
    const none = await t.req('GET', HEALTHCHECK, { auth: { user: 'hc-none@test.local', pass: 'hc-pass-123' } });
    expect(none.status).toBe(403);
    expect(none.json.error_code).toBe('insufficient_permissions');
  });

  it('with master_healthcheck_api_auth false it answers without credentials; true again restores 401', async () => {
    await setAuth(false);
    try {
      const r = await t.req('GET', HEALTHCHECK, { auth: null });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'active' });
      expect((await t.req('GET', HEALTHCHECK)).json).toEqual({ status: 'active' });
      // Only the healthcheck opens up.
      expect((await t.req('GET', '/v1/cluster', { auth: null })).status).toBe(401);
      expect((await t.req('GET', '/v1/cluster/policy', { auth: null })).status).toBe(401);
    } finally {
      await setAuth(true);
    }
    expect((await t.req('GET', HEALTHCHECK, { auth: null })).status).toBe(401);
  });

  it('the setting survives a restart', async () => {
    await setAuth(false);
    await t.stop();
    t = await startTestNode({ dataDir: t.dataDir });
    expect((await t.req('GET', HEALTHCHECK, { auth: null })).json).toEqual({ status: 'active' });
    await setAuth(true);
    expect((await t.req('GET', HEALTHCHECK, { auth: null })).status).toBe(401);
  });

  it('reports "inactive" while the CCS does not answer, and "active" again once it does', async () => {
    // Fault injection at the store edge: the revision read the check relies on fails.
    const spy = vi.spyOn(t.node.composed.kv, 'revision').mockRejectedValue(new Error('CCS unreachable'));
    try {
      const r = await t.req('GET', HEALTHCHECK);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'inactive' });
    } finally {
      spy.mockRestore();
    }
    expect((await t.req('GET', HEALTHCHECK)).json).toEqual({ status: 'active' });
  });

  it('is answered only with GET (405 + Allow for other methods)', async () => {
    const r = await t.req('POST', HEALTHCHECK, { body: {} });
    expect(r.status).toBe(405);
    expect(String(r.headers.allow).split(', ')).toContain('GET');
  });

  it('before bootstrap it answers 503, even to an unauthenticated caller', async () => {
    const fresh = await startTestNode({ bootstrap: false });
    try {
      const r = await fresh.req('GET', HEALTHCHECK, { auth: null });
      expect(r.status).toBe(503);
      expect(r.json.error_code).toBe('node_not_bootstrapped');
    } finally {
      await fresh.close();
    }
  });
});
