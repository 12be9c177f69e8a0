/**
 * A shard restarted after a crash loads its dataset before it serves: meanwhile the shard object says
 * so (detailed_status `loading`, `loading: {status: in_progress, progress}`, objects/shard/loading.md),
 * and the manager waits for it however long the load takes, instead of killing it at its start deadline.
 * The node's redis-server is a wrapper that makes loading slow (Redis's key-load-delay, 1 ms a key) and
 * has Redis answer LOADING every kilobyte, so that a few thousand keys take seconds to load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb, pidOf, seed, shardAdmin, shardsOf } from '../helpers/bdb.js';
import { signal } from '../helpers/reap.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

const KEYS = 3000;
let t: TestNode;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-slow-load-'));
  const wrapper = path.join(dir, 'redis-server');
  fs.writeFileSync(wrapper, '#!/bin/sh\nexec /usr/bin/redis-server "$@" --key-load-delay 1000 --loading-process-events-interval-bytes 1024\n', { mode: 0o755 });
  t = await startTestNode({ env: { OPENRS_REDIS_SERVER: wrapper } });
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a shard loading its dataset after a crash', () => {
  it('shows loading with its progress, is waited for, and serves every key once loaded', async () => {
    const bdb = await createBdb(t, { name: 'db-loading', data_persistence: 'snapshot', snapshot_policy: [{ secs: 1, writes: 1 }] });
    const port = bdb.endpoints[0].port;
    await seed(port, KEYS);
    const [shard] = await shardsOf(t, bdb.uid);
    const admin = await shardAdmin(t, shard!.port);
    await waitFor(async () => /rdb_changes_since_last_save:0\r/.test(String(await admin.info('persistence'))), { what: 'snapshot written' });
    admin.disconnect();

    signal(pidOf(shard!.dir)!, 'SIGKILL');
    const seen: { detailed_status: string; status: string; loading: { status: string; progress?: number } }[] = [];
    await waitFor(async () => {
      const v = (await t.req('GET', `/v1/shards/${shard!.uid}`)).json;
      if (v.detailed_status === 'loading') seen.push(v);
      return v.detailed_status === 'ok' && seen.length > 0;
    }, { what: 'loading, then ok', timeoutMs: 20_000, intervalMs: 50 });
    expect(seen.every((v) => v.status === 'active' && v.loading.status === 'in_progress' && v.loading.progress! >= 0 && v.loading.progress! <= 100)).toBe(true);
    const progress = seen.map((v) => v.loading.progress!);
    expect(Math.max(...progress)).toBeGreaterThan(Math.min(...progress));
    // The list shows the same object; once loaded, loading is idle again.
    const listed = ((await t.req('GET', `/v1/bdbs/${bdb.uid}/shards`)).json as { uid: string; loading: unknown }[]).find((s) => s.uid === String(shard!.uid));
    expect(listed?.loading).toEqual({ status: 'idle' });

    const d = client(port);
    await d.connect();
    expect(await d.dbsize()).toBe(KEYS);
    expect(await d.get(`k:${KEYS - 1}`)).toBe(`v${KEYS - 1}`);
    d.disconnect();
  });
});
