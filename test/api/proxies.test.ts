/**
 * /v1/proxies: the node's proxy as it is, and the settings openrs honours (client_keepidle, ignore_bdb_cconn_limit)
 * applied to every endpoint, open connections included; others refused unless they repeat the current value.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb } from '../helpers/bdb.js';
import { expectRsError } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
let bdb: any;
let port: number;
beforeAll(async () => {
  t = await startTestNode();
  bdb = await createBdb(t, { name: 'prx', max_connections: 2 });
  port = bdb.endpoints[0].port;
});
afterAll(async () => {
  await t?.close();
});

const sysctl = (name: string) => Number(fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim());

/**
 * Seconds left on the keepalive timers of the proxy's sockets accepted on `port` (from /proc/net/tcp: timer 2 is
 * keepalive, its expiry in clock ticks of 1/100 s).
 */
function keepaliveTimers(p: number): number[] {
  const hex = p.toString(16).toUpperCase().padStart(4, '0');
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '01' && f[5]?.startsWith('02:'))
    .map((f) => parseInt(f[5]!.slice(3), 16) / 100);
}

/** A client that connected and answered PING, or the error that ended it. */
async function connects(): Promise<{ ok: boolean; close: () => void }> {
  const c = client(port);
  try {
    await c.connect();
    const ok = (await c.ping()) === 'PONG';
    return { ok, close: () => c.disconnect() };
  } catch {
    c.disconnect();
    return { ok: false, close: () => undefined };
  }
}

describe('GET', () => {
  it('reports the proxy as it is', async () => {
    const list = (await t.req('GET', '/v1/proxies')).json;
    expect(list).toHaveLength(1);
    const p = list[0];
    expect(p).toMatchObject({ uid: 1, threads: 1, max_threads: 1, dynamic_threads_scaling: false, client_keepidle: 300, ignore_bdb_cconn_limit: false, backlog: 511 });
    expect(p.client_keepcnt).toBe(sysctl('tcp_keepalive_probes'));
    expect(p.client_keepintvl).toBe(sysctl('tcp_keepalive_intvl'));
    expect(p.conns).toBeGreaterThan(0);
    expect(p.max_listeners).toBe(t.dbPorts.to - t.dbPorts.from + 1);
    expect((await t.req('GET', '/v1/proxies/1')).json).toEqual(p);
    expectRsError(await t.req('GET', '/v1/proxies/2'), 404, 'proxy_not_found');
    expectRsError(await t.req('GET', '/v1/proxies/x'), 404, 'proxy_not_found');
  });
});

describe('PUT', () => {
  it('ignore_bdb_cconn_limit lifts the databases\' max_connections at once, and back', async () => {
    const held = [await connects(), await connects()];
    expect(held.map((h) => h.ok)).toEqual([true, true]);
    const third = await connects();
    expect(third.ok).toBe(false);
    expect((await t.req('PUT', '/v1/proxies/1', { body: { allow_restart: false, proxy: { ignore_bdb_cconn_limit: true } } })).status).toBe(200);
    // Acknowledged: the proxy has it when the PUT answers.
    const now = await connects();
    expect(now.ok).toBe(true);
    now.close();
    expect((await t.req('GET', '/v1/proxies/1')).json.ignore_bdb_cconn_limit).toBe(true);
    expect((await t.req('PUT', '/v1/proxies', { body: { proxy: { ignore_bdb_cconn_limit: false } } })).status).toBe(200);
    expect((await connects()).ok).toBe(false);
    for (const h of held) h.close();
  });

  it('client_keepidle sets the keepalive of new and open client connections', async () => {
    const other = await createBdb(t, { name: 'prx-keep' });
    const port = other.endpoints[0].port;
    const open = client(port);
    await open.connect();
    await open.ping();
    await waitFor(() => (keepaliveTimers(port).some((s) => s > 200) ? true : undefined), { what: 'the default 300 s keepalive' });
    expect((await t.req('PUT', '/v1/proxies/1', { body: { proxy: { client_keepidle: 42 } } })).status).toBe(200);
    const fresh = client(port);
    await fresh.connect();
    await fresh.ping();
    // Both sockets' next probe is within 42 s now.
    await waitFor(() => {
      const timers = keepaliveTimers(port);
      return timers.length >= 2 && timers.every((s) => s <= 42) ? true : undefined;
    }, { what: 'keepalive timers of 42 s' });
    expect((await t.req('GET', '/v1/proxies/1')).json.client_keepidle).toBe(42);
    open.disconnect();
    fresh.disconnect();
  });

  it('concurrent PUTs: each answers once the proxy has the settings stored last', async () => {
    const answers = await Promise.all([60, 61, 62, 63, 64, 65].map((v) => t.req('PUT', '/v1/proxies/1', { body: { proxy: { client_keepidle: v } } })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const final = (await t.req('GET', '/v1/proxies/1')).json.client_keepidle;
    expect([60, 61, 62, 63, 64, 65]).toContain(final);
  });

  it('refuses what the proxy cannot do, takes a repeat of the current value, and validates', async () => {
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { threads: 4 } } }), 400, 'unsupported_option');
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { max_worker_txns: 10 } } }), 400, 'unsupported_option');
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { dynamic_threads_scaling: true } } }), 400, 'unsupported_option');
    expect((await t.req('PUT', '/v1/proxies/1', { body: { proxy: { threads: 1, log_level: (await t.req('GET', '/v1/proxies/1')).json.log_level } } })).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { client_keepidle: 'soon' } } }), 400);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { client_keepidle: 0 } } }), 400);
    // Linux's TCP_KEEPIDLE stops at 32767 s: a larger value would not be applied.
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { client_keepidle: 40_000 } } }), 400);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { threads: 999 } } }), 400);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { proxy: { uid: 2 } } }), 400);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { body: { restart: true } }), 400);
    expectRsError(await t.req('PUT', '/v1/proxies/3', { body: { proxy: { client_keepidle: 10 } } }), 404, 'proxy_not_found');
    // Nothing of the refused requests was kept.
    expect((await t.req('GET', '/v1/proxies/1')).json).toMatchObject({ threads: 1, dynamic_threads_scaling: false });
    const viewer = await t.req('POST', '/v1/users', { body: { email: 'prx-viewer@x.io', password: 'Viewer-pass-123', role: 'db_viewer', name: 'v' } });
    expect(viewer.status).toBe(200);
    const as = { auth: { user: 'prx-viewer@x.io', pass: 'Viewer-pass-123' } };
    expect((await t.req('GET', '/v1/proxies', as)).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/proxies/1', { ...as, body: { proxy: { client_keepidle: 10 } } }), 403);
  });
});
