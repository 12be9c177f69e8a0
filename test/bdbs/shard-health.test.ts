/**
 * A shard's detailed_status and hung shards of databases without replica, with real processes:
 * SIGSTOP shows `timeout`, then the shard is restarted from its AOF; a shard busy in a long script
 * shows `busy` and keeps running, while one that does not answer at all is restarted.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb, pidOf, seed, shardAdmin, shardsOf } from '../helpers/bdb.js';
import { signal } from '../helpers/reap.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

/** Shorter than the defaults, so that the tests are quick, yet long enough to watch each state. */
const HANG_TIMEOUT_MS = 3000;
const STOPPED_CHECKS = 30;

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ watchdog: { hangTimeoutMs: HANG_TIMEOUT_MS, stoppedChecks: STOPPED_CHECKS } });
});
afterAll(async () => {
  await t?.close();
});

async function shardView(uid: number): Promise<{ status: string; detailed_status: string }> {
  const r = await t.req('GET', `/v1/shards/${uid}`);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

const detailedStatus = async (uid: number) => (await shardView(uid)).detailed_status;

/**
 * `fn` on a fresh connection to the endpoint (the client a reconnecting application would open);
 * undefined when the connection fails or is closed (the endpoint is being set again after a restart).
 */
async function through<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const c = client(port);
  try {
    await c.connect();
    return await fn(c);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

describe('shard without replica, hung', () => {
  it('SIGSTOP: detailed_status timeout, then the shard is restarted from its AOF and serves the data again', async () => {
    // appendfsync-always: every acknowledged write is in the AOF (everysec may hold it back up to 2 s).
    const bdb = await createBdb(t, { name: 'db-sigstop', data_persistence: 'aof', aof_policy: 'appendfsync-always' });
    const port = bdb.endpoints[0].port;
    await seed(port, 300);
    const [shard] = await shardsOf(t, bdb.uid);
    await waitFor(async () => (await detailedStatus(shard!.uid)) === 'ok', { what: 'shard ok' });
    const pid = pidOf(shard!.dir)!;

    signal(pid, 'SIGSTOP');
    try {
      // The process is there (status active) but cannot answer; the database's shard list says the same.
      await waitFor(async () => {
        const one = await shardView(shard!.uid);
        const list = (await t.req('GET', `/v1/bdbs/${bdb.uid}/shards`)).json as { uid: string; detailed_status: string }[];
        return one.status === 'active' && one.detailed_status === 'timeout' && list.find((s) => s.uid === String(shard!.uid))?.detailed_status === 'timeout';
      }, { what: 'detailed_status timeout' });
      await waitFor(() => {
        const now = pidOf(shard!.dir);
        return now !== undefined && now !== pid;
      }, { what: 'shard restarted', timeoutMs: 20_000 });
    } finally {
      signal(pid, 'SIGCONT');
    }
    await waitFor(async () => (await through(port, (c) => c.get('k:299'))) === 'v299', { what: 'data served after the restart' });
    expect(await waitFor(() => through(port, (c) => c.dbsize()), { what: 'dbsize through the endpoint' })).toBe(300);
    await waitFor(async () => (await detailedStatus(shard!.uid)) === 'ok', { what: 'detailed_status ok again' });
    const events = (await t.req('GET', '/v1/logs?order=desc&limit=100')).json as { type: string; shard_uid?: string }[];
    expect(events.some((e) => e.type === 'shard_restarted' && e.shard_uid === String(shard!.uid))).toBe(true);
  });

  it('a long script answering BUSY shows busy and is not restarted; a shard not answering at all is', async () => {
    const busyBdb = await createBdb(t, { name: 'db-busy' });
    const silentBdb = await createBdb(t, { name: 'db-silent' });
    const [busy] = await shardsOf(t, busyBdb.uid);
    const [silent] = await shardsOf(t, silentBdb.uid);
    const busyPid = pidOf(busy!.dir)!;
    const silentPid = pidOf(silent!.dir)!;
    const conns: Redis[] = [];
    let busyKill: Redis | undefined;
    const admin = async (port: number) => {
      const c = await shardAdmin(t, port);
      conns.push(c);
      return c;
    };
    try {
      // Redis answers BUSY once a script has run for busy-reply-threshold; until then it does not answer at all.
      const busyRun = await admin(busy!.port);
      busyKill = await admin(busy!.port); // connected before the script: SCRIPT KILL ends it later
      await busyRun.config('SET', 'busy-reply-threshold', '100');
      const silentRun = await admin(silent!.port);
      await silentRun.config('SET', 'busy-reply-threshold', '3600000');

      const busyScript = busyRun.eval('while true do end', 0).catch((e: Error) => e.message);
      await waitFor(async () => (await detailedStatus(busy!.uid)) === 'busy', { what: 'detailed_status busy' });
      void silentRun.eval('while true do end', 0).catch(() => undefined);
      await waitFor(async () => (await detailedStatus(silent!.uid)) === 'timeout', { what: 'detailed_status timeout' });
      await waitFor(() => {
        const now = pidOf(silent!.dir);
        return now !== undefined && now !== silentPid;
      }, { what: 'silent shard restarted', timeoutMs: 30_000 });

      // The busy shard has been busy longer than the silent one was silent: it was not taken for hung.
      expect(pidOf(busy!.dir)).toBe(busyPid);
      expect(await shardView(busy!.uid)).toMatchObject({ status: 'active', detailed_status: 'busy' });
      expect(await busyKill.script('KILL')).toBe('OK');
      expect(await busyScript).toMatch(/killed by user/i);
      await waitFor(async () => (await detailedStatus(busy!.uid)) === 'ok', { what: 'busy shard ok after SCRIPT KILL' });
      await waitFor(async () => (await detailedStatus(silent!.uid)) === 'ok', { what: 'restarted shard ok' });
      expect(await waitFor(() => through(silentBdb.endpoints[0].port, (c) => c.ping()), { what: 'restarted shard served' })).toBe('PONG');
    } finally {
      await busyKill?.script('KILL').catch(() => undefined); // when an assertion failed midway
      for (const c of conns) c.disconnect();
    }
  }, 60_000);
});

describe('a runaway script, through the endpoint', () => {
  it('a client that connects meanwhile is answered BUSY; SCRIPT KILL from another client reaches Redis and ends it; the endpoint serves again', async () => {
    const bdb = await createBdb(t, { name: 'db-runaway' });
    const port = bdb.endpoints[0].port;
    const [shard] = await shardsOf(t, bdb.uid);
    const direct = await shardAdmin(t, shard!.port); // connected before the script: kills it if the test fails midway
    await direct.config('SET', 'busy-reply-threshold', '100');
    const runner = client(port);
    const killer = client(port);
    const early = client(port);
    try {
      await runner.connect();
      await killer.connect();
      await early.connect();
      expect(await killer.ping()).toBe('PONG'); // bound to the same shared shard connection as the runner
      expect(await early.ping()).toBe('PONG'); // so is this one
      const script = runner.eval('while true do end', 0).catch((e: Error) => e.message);
      await waitFor(async () => (await detailedStatus(shard!.uid)) === 'busy', { what: 'detailed_status busy' });
      // Once the script's connection has owed its reply for a while (the proxy's STALLED_MS), a client that
      // connects is not given that connection: Redis answers it -BUSY, as it answers a direct client,
      // instead of it waiting for the script's end. Each try is a new client.
      const answer = await waitFor(async () => {
        const late = client(port);
        try {
          return await Promise.race([late.connect().then(() => late.ping()).catch((e: Error) => e.message), new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
        } finally {
          late.disconnect();
        }
      }, { what: 'an answer to a client that connects during the script' });
      expect(answer).toMatch(/^BUSY/);
      // A client bound to the script's connection before it ran, idle since, is moved off it too.
      const earlyAnswer = await Promise.race([early.ping().catch((e: Error) => e.message), new Promise((r) => setTimeout(() => r('no answer in 3 s'), 3000))]);
      expect(earlyAnswer).toMatch(/^BUSY/);
      // Sent on the shared connection, it would queue behind the script it is meant to stop.
      const killed = await Promise.race([killer.script('KILL'), new Promise((r) => setTimeout(() => r('no answer in 5 s'), 5000))]);
      expect(killed).toBe('OK');
      expect(await script).toMatch(/killed by user/i);
      expect(await killer.ping()).toBe('PONG');
      expect(await runner.ping()).toBe('PONG');
    } finally {
      await direct.script('KILL').catch(() => undefined);
      direct.disconnect();
      runner.disconnect();
      killer.disconnect();
      early.disconnect();
    }
  });
});
