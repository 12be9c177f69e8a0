/**
 * POST /v1/bdbs/{uid}/upgrade (requests/bdbs/upgrade.md; rladmin upgrade db / restart db): the shards restart on
 * the installed redis-server, one at a time, keeping the data. The node runs a copy of redis-server that the test
 * replaces on disk, as a package upgrade does: shards still running the old binary are the ones restarted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCompleted, client, createBdb, pidOf, seed, shardsOf, waitAction } from '../helpers/bdb.js';
import { waitInSync } from '../helpers/replication.js';
import { expectRsError } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
let binDir: string;
let binary: string;

/** Put a new copy of redis-server in place of the node's (rename over it: running shards keep the old, now deleted, file). */
function replaceBinary(): void {
  const next = path.join(binDir, 'redis-server.new');
  fs.copyFileSync('/usr/bin/redis-server', next);
  fs.chmodSync(next, 0o755);
  fs.renameSync(next, binary);
}

const exeDeleted = (pid: number) => fs.readlinkSync(`/proc/${pid}/exe`).endsWith(' (deleted)');

beforeAll(async () => {
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-upgrade-bin-'));
  binary = path.join(binDir, 'redis-server');
  fs.copyFileSync('/usr/bin/redis-server', binary);
  fs.chmodSync(binary, 0o755);
  t = await startTestNode({ env: { OPENRS_REDIS_SERVER: binary } });
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(binDir, { recursive: true, force: true });
});

async function upgrade(uid: number, body?: Record<string, unknown>) {
  const r = await t.req('POST', `/v1/bdbs/${uid}/upgrade`, body === undefined ? {} : { body });
  if (r.status !== 200) throw new Error(`upgrade: ${r.status} ${r.text}`);
  expect(r.json.uid).toBe(uid);
  return actionCompleted(t, r.json.action_uid, 60_000);
}

/**
 * INCR `counter` through `app` until stopped; the first error ends the loop (a closed connection rejects at once, and
 * a loop of rejections would starve the event loop the node shares with the test).
 */
function incrLoop(app: ReturnType<typeof client>): { stop: () => Promise<{ acked: number; errors: string[] }> } {
  let acked = 0;
  const errors: string[] = [];
  let on = true;
  const done = (async () => {
    while (on && !errors.length) await app.incr('counter').then(() => acked++, (e: Error) => errors.push(e.message));
  })();
  return { stop: async () => ((on = false), await done, { acked, errors }) };
}

/** The number of keys a new client of the endpoint sees. */
async function dbsizeAt(port: number): Promise<number> {
  const c = client(port);
  try {
    await c.connect();
    return await c.dbsize();
  } finally {
    c.disconnect();
  }
}

const pidsOf = async (uid: number) => Object.fromEntries((await shardsOf(t, uid)).map((s) => [s.uid, pidOf(s.dir)]));

describe('replicated database', () => {
  it('restarts nothing while the shards run the installed binary; after a package upgrade, every shard, with the data and the roles kept (preserve_roles), a live client writing throughout', async () => {
    const bdb = await createBdb(t, { name: 'up-repl', replication: true });
    const port = bdb.endpoints[0].port;
    await seed(port, 300);
    const before = await waitInSync(t, bdb.uid);
    const pids = await pidsOf(bdb.uid);

    const noop = await upgrade(bdb.uid);
    expect(noop.status).toBe('completed');
    expect(await pidsOf(bdb.uid)).toEqual(pids);

    replaceBinary();
    expect(exeDeleted(pids[before.master.uid]!)).toBe(true);
    // A client writing through the endpoint for the whole upgrade: nothing is refused or lost.
    const app = client(port);
    await app.connect();
    const writer = incrLoop(app);
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { preserve_roles: true } });
    expect(r.status).toBe(200);
    // One change at a time: the database is busy until the restart ends.
    expectRsError(await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'allkeys-lru' } }), 409);
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: {} }), 409);
    const done = await actionCompleted(t, r.json.action_uid, 60_000);
    expect(done.name).toBe('SMUpgradeBDB');
    const { acked, errors } = await writer.stop();
    expect(errors).toEqual([]);
    expect(acked).toBeGreaterThan(10);
    expect(Number(await app.get('counter'))).toBe(acked);
    app.disconnect();

    const after = await waitInSync(t, bdb.uid);
    expect(after.master.uid).toBe(before.master.uid);
    const now = await pidsOf(bdb.uid);
    for (const [uid, pid] of Object.entries(now)) {
      expect(pid).not.toBe(pids[Number(uid)]);
      expect(exeDeleted(pid!)).toBe(false);
    }
    const c = client(port);
    await c.connect();
    expect(await c.get('k:299')).toBe('v299');
    c.disconnect();
  });

  it('force_restart without preserve_roles: the replica ends up master; force_discard restarts it empty, its files set aside', async () => {
    const bdb = await createBdb(t, { name: 'up-swap', replication: true, data_persistence: 'aof' });
    const port = bdb.endpoints[0].port;
    await seed(port, 100);
    const before = await waitInSync(t, bdb.uid);
    await upgrade(bdb.uid, { force_restart: true });
    const after = await waitInSync(t, bdb.uid);
    expect(after.master.uid).toBe(before.replica.uid);
    expect(await dbsizeAt(port)).toBe(100);

    // Every shard stops at once, without a handover: its clients are disconnected, and find it empty.
    await upgrade(bdb.uid, { force_discard: true });
    await waitInSync(t, bdb.uid);
    expect(await dbsizeAt(port)).toBe(0);
    for (const s of await shardsOf(t, bdb.uid)) {
      expect(fs.readdirSync(s.dir).some((f) => f.startsWith('discarded-'))).toBe(true);
    }
  });
});

describe('database without replica', () => {
  it('with AOF: restarted from its files, data kept; clients writing meanwhile wait in the proxy and see no error', async () => {
    const bdb = await createBdb(t, { name: 'up-aof', data_persistence: 'aof' });
    const port = bdb.endpoints[0].port;
    await seed(port, 20_000);
    const [before] = Object.values(await pidsOf(bdb.uid));
    const app = client(port);
    await app.connect();
    const writer = incrLoop(app);
    await upgrade(bdb.uid, { force_restart: true });
    const { acked, errors } = await writer.stop();
    expect(errors).toEqual([]);
    expect(Number(await app.get('counter'))).toBe(acked);
    const [after] = Object.values(await pidsOf(bdb.uid));
    expect(after).not.toBe(before);
    expect(await app.dbsize()).toBe(20_001);
    app.disconnect();
  });

  it('without persistence: refused unless may_discard_data, then restarted empty', async () => {
    const bdb = await createBdb(t, { name: 'up-mem' });
    await seed(bdb.endpoints[0].port, 20);
    const [before] = Object.values(await pidsOf(bdb.uid));
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { force_restart: true } }), 400, 'discard_data_required');
    expect(Object.values(await pidsOf(bdb.uid))[0]).toBe(before);
    await upgrade(bdb.uid, { force_restart: true, may_discard_data: true });
    expect(Object.values(await pidsOf(bdb.uid))[0]).not.toBe(before);
    expect(await dbsizeAt(bdb.endpoints[0].port)).toBe(0);
  });
});

describe('an unhealthy database', () => {
  it('a master that does not answer: nothing is restarted (the replica may hold the only copy), the action fails saying why', async () => {
    const bdb = await createBdb(t, { name: 'up-hung', replication: true });
    await seed(bdb.endpoints[0].port, 100);
    const { master } = await waitInSync(t, bdb.uid);
    const pids = await pidsOf(bdb.uid);
    process.kill(pids[master.uid]!, 'SIGSTOP');
    try {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { force_restart: true } });
      expect(r.status).toBe(200);
      const a = await waitAction(t, r.json.action_uid, 30_000);
      expect(a.status).toBe('failed');
      expect(a.error).toMatch(/check_slaves: the master shard \d+ does not answer/);
      expect(await pidsOf(bdb.uid)).toEqual(pids);
    } finally {
      process.kill(pids[master.uid]!, 'SIGCONT');
    }
    await waitInSync(t, bdb.uid);
    expect(await dbsizeAt(bdb.endpoints[0].port)).toBe(100);
  });
});

describe('bad requests', () => {
  it('answers 404 for an unknown database and 400 for what cannot be done, and changes nothing', async () => {
    expectRsError(await t.req('POST', '/v1/bdbs/999/upgrade', { body: {} }), 404, 'db_not_exist');
    const bdb = await createBdb(t, { name: 'up-bad', data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 1 }] });
    const pids = await pidsOf(bdb.uid);
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { redis_version: '6.2' } }), 400, 'invalid_version');
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { modules: [{ module_name: 'search' }] } }), 400, 'missing_module');
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { parallel_shards_upgrade: 0 } }), 400);
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { force_restart: 'yes' } }), 400);
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { reboot: true } }), 400);
    expectRsError(await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: { swap_roles: true, preserve_roles: true } }), 400, 'invalid_param');
    expect(await pidsOf(bdb.uid)).toEqual(pids);
    // The installed version by name: nothing to change, nothing restarted.
    const installed = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.redis_version;
    const a = await upgrade(bdb.uid, { redis_version: installed });
    expect(a.status).toBe('completed');
    expect(await pidsOf(bdb.uid)).toEqual(pids);
    // The page's own example body.
    expect((await upgrade(bdb.uid, { swap_roles: true, may_discard_data: false })).status).toBe('completed');
    const viewer = await t.req('POST', `/v1/bdbs/${bdb.uid}/upgrade`, { body: {}, auth: { user: 'nobody@x', pass: 'wrong' } });
    expect(viewer.status).toBe(401);
    const gone = await waitAction(t, a.action_uid);
    expect(gone.status).toBe('completed');
  });
});
