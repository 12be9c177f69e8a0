/**
 * Replication turned on or off on a persisted database moves its persistence between the master and
 * the replica (persistence-handover.ts). A crash of every shard (and the manager) right after the
 * change must not lose the data: QA saw 126,000 keys come back as 0 after either change.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { SYNCED_MARKER } from '../../src/controller/persistence-handover.js';
import { client, createBdb, pidOf, shardsOf, waitStatus } from '../helpers/bdb.js';
import { trackedNodes, type TestNode } from '../helpers/test-node.js';
import { kill9, proxyPid } from '../helpers/crash.js';
import { waitFor } from '../helpers/wait-for.js';
import path from 'node:path';

const node = trackedNodes();

const KEYS = 100_000;
const VALUE = 'x'.repeat(150);

/** Enough data that a sync and an AOF rewrite take a moment. */
async function fill(port: number): Promise<void> {
  const c = client(port);
  await c.connect();
  for (let i = 0; i < KEYS; i += 10_000) {
    const p = c.pipeline();
    for (let j = i; j < i + 10_000; j++) p.set(`k:${j}`, `${VALUE}${j}`);
    await p.exec();
  }
  c.disconnect();
}

/** Stop the manager, kill -9 every shard process of the database and the proxy; start a new manager on the same data. */
async function crashAll(t1: TestNode, bdbUid: number, extraDirs: string[] = []): Promise<TestNode> {
  const dirs = [...(await shardsOf(t1, bdbUid)).map((s) => s.dir), ...extraDirs];
  const proxy = await proxyPid(t1.dataDir);
  await t1.stop();
  const pids = [...dirs.map((d) => pidOf(d)).filter((p): p is number => p !== undefined), proxy];
  await kill9(pids);
  return node(t1.dataDir);
}

async function keysBack(port: number): Promise<number> {
  const { n } = await waitFor(async () => {
    const c = client(port);
    try {
      await c.connect();
      return { n: await c.dbsize() };
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  }, { timeoutMs: 30_000, what: 'the database answering again' });
  return n;
}

describe('persistence moved by a replication change survives a crash of everything', () => {
  it('replication turned on, everything killed as soon as the replica runs: the master\'s AOF brings the keys back', async () => {
    const t1 = await node();
    // appendfsync always: every acknowledged write is in the master's AOF (every-sec may hold back up to 2 s on a busy host).
    const bdb = await createBdb(t1, { name: 'handover-on', data_persistence: 'aof', aof_policy: 'appendfsync-always', memory_size: 512 * 1024 * 1024 });
    const port = bdb.endpoints[0].port;
    await fill(port);
    const r = await t1.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: true } });
    expect(r.status, r.text).toBe(200);
    // The moment the replica's process exists (before it has synced and rewritten its AOF).
    const replica = await waitFor(async () => {
      const s = (await shardsOf(t1, bdb.uid)).find((x) => x.role === 'slave');
      return s && pidOf(s.dir) !== undefined ? s : undefined;
    }, { intervalMs: 5, what: 'the replica started' });
    const t2 = await crashAll(t1, bdb.uid, [replica.dir]);
    await waitStatus(t2, bdb.uid, 'active', 30_000);
    expect(await keysBack(port)).toBe(KEYS);
  }, 120_000);

  it('replication turned off, everything killed as soon as the replica is gone: the master\'s own AOF brings the keys back', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'handover-off', data_persistence: 'aof', replication: true, memory_size: 512 * 1024 * 1024 });
    const port = bdb.endpoints[0].port;
    await fill(port);
    const replica = (await shardsOf(t1, bdb.uid)).find((x) => x.role === 'slave')!;
    // The replica holds the data on disk (it alone persists).
    await waitFor(async () => {
      const c = client(replica.port);
      try {
        await c.connect();
        const info = await c.info('persistence');
        return (await c.dbsize()) === KEYS && info.includes('aof_rewrite_in_progress:0') && info.includes('aof_rewrite_scheduled:0');
      } finally {
        c.disconnect();
      }
    }, { timeoutMs: 30_000, what: 'replica synced, its AOF written' });
    const r = await t1.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: false } });
    expect(r.status, r.text).toBe(200);
    await waitFor(() => pidOf(replica.dir) === undefined, { intervalMs: 5, timeoutMs: 30_000, what: 'the replica stopped' });
    const t2 = await crashAll(t1, bdb.uid);
    await waitStatus(t2, bdb.uid, 'active', 30_000);
    expect(await keysBack(port)).toBe(KEYS);
  }, 120_000);

  it('replicas from before the synced marker: with no file on the master, a crash of everything restarts from the replica', async () => {
    const t1 = await node();
    // appendfsync always: what the replica acknowledged (WAIT) is in its AOF, whatever the host's load.
    const bdb = await createBdb(t1, { name: 'handover-legacy', data_persistence: 'aof', aof_policy: 'appendfsync-always', replication: true });
    const port = bdb.endpoints[0].port;
    const c = client(port);
    await c.connect();
    const p = c.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`l:${i}`, `v${i}`);
    await p.exec();
    expect(await c.call('WAIT', '1', '10000')).toBe(1);
    c.disconnect();
    const shards = await shardsOf(t1, bdb.uid);
    const master = shards.find((x) => x.role === 'master')!;
    const replica = shards.find((x) => x.role === 'slave')!;
    await waitFor(() => fs.existsSync(path.join(replica.dir, SYNCED_MARKER)), { timeoutMs: 30_000, what: 'the replica marked as holding the data' });
    // As an older openrs left it: no marker, and a master that never persisted (its files removed here).
    const proxy = await proxyPid(t1.dataDir);
    await t1.stop();
    fs.rmSync(path.join(replica.dir, SYNCED_MARKER));
    for (const f of ['appendonlydir', 'dump.rdb']) fs.rmSync(path.join(master.dir, f), { recursive: true, force: true });
    await kill9([...[master.dir, replica.dir].map((d) => pidOf(d)).filter((x): x is number => x !== undefined), proxy]);
    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid, 'active', 30_000);
    expect(await keysBack(port)).toBe(1000);
  }, 120_000);
});
