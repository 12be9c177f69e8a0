/** Bootstrap (requests/bootstrap) through real HTTPS, on nodes started without automatic bootstrap. */
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeLicense } from '../../src/services/license-rules.js';
import { request } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

const nodes: TestNode[] = [];
const fresh = async () => {
  const t = await startTestNode({ bootstrap: false });
  nodes.push(t);
  return t;
};
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

const CREDS = { username: 'ops@example.com', password: 'a-good-password-1' };
const createBody = (over: Record<string, unknown> = {}) => ({
  action: 'create_cluster',
  cluster: { name: 'prod.example.com' },
  credentials: CREDS,
  ...over,
});
const noAuth = { auth: null } as const;

async function bootstrapStatus(t: TestNode) {
  return (await request(t.port, 'GET', '/v1/bootstrap')).json.bootstrap_status;
}

describe('GET /v1/bootstrap before bootstrap', () => {
  it('is idle and reports real host facts in local_node_info', async () => {
    const t = await fresh();
    const r = await t.req('GET', '/v1/bootstrap', noAuth);
    expect(r.status).toBe(200);
    expect(r.json.bootstrap_status).toEqual({ state: 'idle' });
    const info = r.json.local_node_info;
    expect(info.cores).toBe(os.cpus().length);
    expect(info.total_memory).toBe(os.totalmem());
    expect(info.uptime).toBeGreaterThan(0);
    expect(info.persistent_storage_size).toBeGreaterThan(0);
    expect(info.persistent_storage_path).toBe(`${fs.realpathSync(t.dataDir)}/persist`.replace(fs.realpathSync(t.dataDir), t.dataDir));
    expect(Array.isArray(info.available_addresses)).toBe(true);
    expect(info.software_version).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$/);
    expect(info.uid).toBeUndefined();
  });
});

describe('POST /v1/bootstrap/validate/{action}', () => {
  it('200 for a good configuration, 406 with a bootstrap status body for a bad one; nothing is created', async () => {
    const t = await fresh();
    expect((await t.req('POST', '/v1/bootstrap/validate/create_cluster', { ...noAuth, body: createBody() })).status).toBe(200);
    const bad = await t.req('POST', '/v1/bootstrap/validate/create_cluster', { ...noAuth, body: createBody({ cluster: { name: 'bad_name!' } }) });
    expect(bad.status).toBe(406);
    expect(bad.json).toMatchObject({ state: 'error', error_code: 'config_error' });
    expect(typeof bad.json.error_details.message).toBe('string');
    expect(await bootstrapStatus(t)).toEqual({ state: 'idle' });
    expect((await request(t.port, 'GET', '/v1/cluster')).status).toBe(503);
  });
});

describe('POST /v1/bootstrap/create_cluster', () => {
  it('creates a cluster asynchronously; the admin can then log in; auth is required afterwards', async () => {
    const t = await fresh();
    const r = await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body: createBody({ node: { identity: { external_addr: ['203.0.113.7'] } } }) });
    expect(r.status).toBe(200);
    const admin = { user: CREDS.username, pass: CREDS.password };
    await waitFor(async () => (await t.req('GET', '/v1/bootstrap', { auth: admin })).json?.bootstrap_status?.state === 'completed', { what: 'bootstrap completed' });
    const st = (await t.req('GET', '/v1/bootstrap', { auth: admin })).json;
    expect(st.bootstrap_status.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(st.bootstrap_status.end_time).toMatch(/Z$/);
    expect(st.local_node_info.uid).toBe('1');

    // After bootstrap, GET /v1/bootstrap needs authentication like every other route.
    expect((await t.req('GET', '/v1/bootstrap', noAuth)).status).toBe(401);
    const cluster = await t.req('GET', '/v1/cluster', { auth: admin });
    expect(cluster.status).toBe(200);
    expect(cluster.json.name).toBe('prod.example.com');
    const node = await t.req('GET', '/v1/nodes/1', { auth: admin });
    expect(node.json.external_addr).toEqual(['203.0.113.7']);
    const lic = await t.req('GET', '/v1/license', { auth: admin });
    expect(lic.json.features).toContain('trial');

    // A second create is refused, and changes nothing.
    const again = await t.req('POST', '/v1/bootstrap/create_cluster', { auth: admin, body: createBody({ cluster: { name: 'other.example.com' } }) });
    expect(again.status).toBe(409);
    expect(again.json.error_code).toBe('already_bootstrapped');
    expect((await t.req('GET', '/v1/cluster', { auth: admin })).json.name).toBe('prod.example.com');
    expect((await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body: createBody() })).status).toBe(401);
  });

  it('rejects bad configurations with documented codes and records the error state', async () => {
    const t = await fresh();
    const cases: [Record<string, unknown>, number, string][] = [
      [createBody({ cluster: { name: '-bad-.example' } }), 400, 'config_error'],
      [createBody({ cluster: { name: 'a'.repeat(65) } }), 400, 'config_error'],
      [createBody({ cluster: {} }), 400, 'config_error'],
      [createBody({ credentials: { username: 'x@y' } }), 400, 'config_error'],
      [createBody({ credentials: { username: 'x<y', password: 'p' } }), 400, 'invalid_schema'],
      [createBody({ license: 'garbage' }), 400, 'invalid_license'],
      [createBody({ node: { bigstore_enabled: true } }), 400, 'config_error'],
      [createBody({ node: { identity: { addr: '198.51.100.99' } } }), 400, 'config_error'],
      [createBody({ node: { paths: { persistent_path: '/proc/no-such/dir' } } }), 400, 'path_error'],
      [createBody({ policy: { rack_aware: true } }), 400, 'config_error'],
      [createBody({ dns_suffixes: [{ name: 'x' }] }), 400, 'config_error'],
      [createBody({ action: 'join_cluster' }), 400, 'config_error'],
      [createBody({ unknown_field: 1 }), 400, 'invalid_schema'],
    ];
    for (const [body, status, code] of cases) {
      const r = await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body });
      expect({ body, status: r.status, code: r.json?.error_code }).toEqual({ body, status, code });
    }
    const st = await bootstrapStatus(t);
    expect(st.state).toBe('error');
    expect(st.error_code).toBe('config_error');
    expect(typeof st.error_details.message).toBe('string');
    // From the error state a good configuration still bootstraps.
    expect((await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body: createBody() })).status).toBe(200);
    await t.node.composed.services.bootstrap.settled();
    expect(t.node.composed.services.bootstrap.isBootstrapped()).toBe(true);
  });

  it('join_cluster and recover_cluster answer a clear error until multi-node support exists', async () => {
    const t = await fresh();
    for (const action of ['join_cluster', 'recover_cluster']) {
      const r = await t.req('POST', `/v1/bootstrap/${action}`, { ...noAuth, body: { action, cluster: { nodes: ['10.0.0.1'] }, credentials: CREDS } });
      expect(r.status).toBe(400);
      expect(r.json.error_code).toBe('config_error');
      expect(r.json.description).toMatch(/not supported/);
    }
  });

  it('installs a license given at bootstrap', async () => {
    const t = await fresh();
    const license = encodeLicense({
      owner: 'Example Inc', cluster_name: 'prod.example.com', activation_date: '2026-01-01T00:00:00Z',
      expiration_date: '2099-01-01T00:00:00Z', shards_limit: 100, ram_shards_limit: 100, flash_shards_limit: null, features: [], key: 'k-1',
    });
    expect((await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body: createBody({ license }) })).status).toBe(200);
    await t.node.composed.services.bootstrap.settled();
    const lic = await t.req('GET', '/v1/license', { auth: { user: CREDS.username, pass: CREDS.password } });
    expect(lic.json).toMatchObject({ owner: 'Example Inc', shards_limit: 100, license });
  });

  it('uses the node paths given in the request', async () => {
    const t = await fresh();
    const persist = `${t.dataDir}/custom-persist`;
    expect((await t.req('POST', '/v1/bootstrap/create_cluster', { ...noAuth, body: createBody({ node: { paths: { persistent_path: persist } } }) })).status).toBe(200);
    await t.node.composed.services.bootstrap.settled();
    expect(fs.statSync(persist).isDirectory()).toBe(true);
    const node = await t.req('GET', '/v1/nodes/1', { auth: { user: CREDS.username, pass: CREDS.password } });
    expect(node.json.persistent_storage_path).toBe(persist);
  });
});

describe('automatic bootstrap on an empty data dir', () => {
  let t: TestNode | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('with no admin password configured, generates one, writes it 0600, and it works', async () => {
    t = await startTestNode({ env: { OPENRS_ADMIN_PASSWORD: '' } });
    const file = `${t.dataDir}/admin-credentials`;
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    const pass = /password=(.+)/.exec(text)![1]!;
    expect(pass).toBe(t.node.generatedPassword);
    expect(pass.length).toBeGreaterThanOrEqual(20);
    expect((await t.req('GET', '/v1/cluster', { auth: { user: 'admin@test.local', pass } })).status).toBe(200);
  });

  it('keeps everything across a restart on the same data dir, and does not bootstrap again', async () => {
    t = await startTestNode();
    const before = (await t.req('GET', '/v1/cluster')).json;
    expect((await t.req('PUT', '/v1/cluster', { body: { email_from: 'ops@example.com' } })).status).toBe(200);
    const cert = (await t.req('GET', '/v1/cluster')).peerCert!.fingerprint256;
    await t.stop();
    t = await startTestNode({ dataDir: t.dataDir, env: { OPENRS_ADMIN_PASSWORD: 'ignored-now-1' } });
    const after = await t.req('GET', '/v1/cluster');
    expect(after.status).toBe(200);
    expect(after.json.created_time).toBe(before.created_time);
    expect(after.json.email_from).toBe('ops@example.com');
    expect(after.peerCert!.fingerprint256).toBe(cert);
    // The configured password of the second start did not replace the admin's.
    expect((await t.req('GET', '/v1/cluster', { auth: { user: 'admin@test.local', pass: 'ignored-now-1' } })).status).toBe(401);
  });
});
