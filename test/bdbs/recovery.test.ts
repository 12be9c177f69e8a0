/**
 * Restarts and recovery from persistence files: the manager restarting with shards still up
 * (adopted), everything killed (shards, proxy, manager) and started again from the files, and
 * databases whose shards cannot restart (status 'recovery') brought back by
 * POST /v1/bdbs/{uid}/actions/recover (requests/bdbs/actions/recover.md).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { processExists } from '../../src/redis/proc.js';
import { createBdb, pidOf, shardsOf, waitStatus } from '../helpers/bdb.js';
import { freePort } from '../helpers/ports.js';
import { trackedNodes, type TestNode } from '../helpers/test-node.js';
import { gone, kill9, proxyPid } from '../helpers/crash.js';
import { waitFor } from '../helpers/wait-for.js';
import { connected, waitAction } from './backup-helpers.js';

const node = trackedNodes();

async function writeKeys(port: number, n: number, prefix = 'key'): Promise<void> {
  const c = await connected(port);
  for (let i = 0; i < n; i++) await c.set(`${prefix}:${i}`, `value-${i}`);
  c.disconnect();
}

/** Keys readable through the endpoint (retried while the endpoint comes back). */
async function readBack(port: number, n: number, prefix = 'key'): Promise<void> {
  await waitFor(async () => {
    const c = await connected(port);
    try {
      return (await c.dbsize()) === n && (await c.get(`${prefix}:${n - 1}`)) === `value-${n - 1}`;
    } finally {
      c.disconnect();
    }
  }, { timeoutMs: 20_000, what: `${n} keys back on port ${port}` });
}

const AOF = { data_persistence: 'aof', aof_policy: 'appendfsync-always' };

/** POST recover with `body`: the action completes, the database is active again, and empty; a client connected to it. */
async function recoveredEmpty(t: TestNode, bdb: { uid: number; endpoints: { port: number }[] }, body: Record<string, unknown>) {
  const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/recover`, { body });
  expect(r.status, r.text).toBe(200);
  expect(await waitAction(t, r.json.action_uid, 30_000)).toMatchObject({ status: 'completed' });
  await waitStatus(t, bdb.uid);
  const c = await connected(bdb.endpoints[0].port);
  expect(await c.dbsize()).toBe(0);
  return c;
}

describe('restart', () => {
  it('the manager stops and starts again: shards keep running, are adopted, and serve the same keys', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-restart-1', ...AOF });
    const port = bdb.endpoints[0].port;
    await writeKeys(port, 100);
    const [shard] = await shardsOf(t1, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    await t1.stop();
    await readBack(port, 100); // the data plane outlives the manager

    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid);
    await readBack(port, 100);
    expect(pidOf(shard!.dir)).toBe(pid);
  });

  it('the manager stopped while an export writes its file: the export ends there, no second copy on the next start', async () => {
    // QA: SIGTERM of the manager mid-gzip: the run finished its file, then stopped at its last progress
    // report, so the next manager ran the export again: two full copies (45 MB each) in the location.
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-export-stop', memory_size: 200 * 1024 * 1024 });
    const c = await connected(bdb.endpoints[0].port);
    const blob = (i: number) => Buffer.concat(Array.from({ length: 32 }, (_, j) => Buffer.from(`${i}:${j}:${Math.random()}`.padEnd(32, 'x'))));
    for (let b = 0; b < 40; b++) {
      const p = c.pipeline();
      for (let i = 0; i < 1000; i++) p.set(`big:${b * 1000 + i}`, blob(b * 1000 + i));
      await p.exec();
    }
    c.disconnect();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-export-stop-'));
    try {
      const r = await t1.req('POST', `/v1/bdbs/${bdb.uid}/actions/export`, { body: { export_location: { type: 'mount_point', path: dir } } });
      expect(r.status, r.text).toBe(200);
      await waitFor(() => fs.readdirSync(dir).some((n) => n.endsWith('.tmp')), { intervalMs: 5, what: 'the export writing its file' });
      await t1.stop();
      const t2 = await node(t1.dataDir);
      await waitFor(async () => (await t2.req('GET', `/v1/bdbs/${bdb.uid}`)).json.export_status === 'succeeded', { timeoutMs: 30_000, what: 'export succeeded' });
      // Give a rerun (the defect) time to show.
      await new Promise((res) => setTimeout(res, 1500));
      expect(fs.readdirSync(dir).filter((n) => n.startsWith('export_'))).toHaveLength(1);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a shard failover cut short by the manager\'s end is failed when a manager starts again, and blocks nothing', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-fo-cut', replication: true });
    // As the API records it before the switch (ShardService): the manager then stops mid-way.
    const { action, op } = t1.node.composed.services.actions.create('SMFailover', `bdb:${bdb.uid}`);
    await t1.node.composed.services.actions.record(op);
    await t1.node.composed.services.actions.transition(action.action_uid, 'active', { state: 'running' });
    await t1.stop();

    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid);
    const a = (await t2.req('GET', `/v1/actions/${action.action_uid}`)).json;
    expect(a.status).toBe('failed');
    expect(JSON.stringify(a)).toMatch(/interrupted/);
    // Not left open: a new change of the database is not refused as busy.
    const r = await t2.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'allkeys-lru' } });
    expect(r.status, r.text).toBe(200);
  });

  it('replication turned off, the manager stopped before its pass: the next manager stops the replica the store no longer lists', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-repl-off-cut', replication: true, ...AOF });
    const port = bdb.endpoints[0].port;
    await writeKeys(port, 100);
    const replica = (await shardsOf(t1, bdb.uid)).find((s) => s.role === 'slave')!;
    const replicaPid = pidOf(replica.dir)!;
    // The PUT is committed but no pass runs it: as when the manager ends (SIGTERM, a crash) right after answering.
    await t1.node.composed.services.controllers.stop();
    const r = await t1.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: false } });
    expect(r.status, r.text).toBe(200);
    await t1.stop();
    expect(gone(replicaPid)).toBe(false);

    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid);
    expect((await shardsOf(t2, bdb.uid)).map((s) => s.role)).toEqual(['master']);
    await waitFor(() => gone(replicaPid), { timeoutMs: 10_000, what: 'the removed replica stopped' });
    expect(fs.existsSync(replica.dir)).toBe(false);
    await readBack(port, 100);
  });

  it('the proxy killed while the manager runs: a new proxy serves every endpoint again', async () => {
    const t1 = await node();
    const a = await createBdb(t1, { name: 'db-proxy-a', ...AOF });
    const b = await createBdb(t1, { name: 'db-proxy-b' });
    await writeKeys(a.endpoints[0].port, 10);
    await writeKeys(b.endpoints[0].port, 5);
    const old = await proxyPid(t1.dataDir);
    await kill9([old]);
    await readBack(a.endpoints[0].port, 10);
    await readBack(b.endpoints[0].port, 5);
    expect(await proxyPid(t1.dataDir)).not.toBe(old);
  });

  it('the proxy stopped (SIGSTOP): it is killed and a new proxy serves the endpoint again', async () => {
    const t1 = await node();
    const a = await createBdb(t1, { name: 'db-proxy-stop', ...AOF });
    await writeKeys(a.endpoints[0].port, 10);
    const old = await proxyPid(t1.dataDir);
    process.kill(old, 'SIGSTOP');
    try {
      await readBack(a.endpoints[0].port, 10);
      await waitFor(() => (processExists(old) ? undefined : true), { what: 'the stopped proxy killed' });
      expect(await proxyPid(t1.dataDir)).not.toBe(old);
    } finally {
      if (processExists(old)) process.kill(old, 'SIGKILL');
    }
  });

  it('shards, proxy and manager all killed: a new manager restarts them from the AOF and the keys are back', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-restart-2', ...AOF });
    const port = bdb.endpoints[0].port;
    await writeKeys(port, 100);
    const shards = await shardsOf(t1, bdb.uid);
    const pids = [...shards.map((s) => pidOf(s.dir)!), await proxyPid(t1.dataDir)];
    await t1.stop();
    await kill9(pids);

    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid);
    await readBack(port, 100);
    expect(pidOf(shards[0]!.dir)).not.toBe(pids[0]);
  });

  it('replicated, persisted on the replica only: after everything is killed the data comes back from the replica', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-restart-3', replication: true, ...AOF });
    const port = bdb.endpoints[0].port;
    await writeKeys(port, 100);
    const shards = await shardsOf(t1, bdb.uid);
    expect(shards.map((s) => s.role).sort()).toEqual(['master', 'slave']);
    const replica = shards.find((s) => s.role === 'slave')!;
    // The replica has the writes (and its AOF) before anything dies.
    // ...and no AOF rewrite is running on it: one in progress (the replica turns its AOF on after its
    // first sync) keeps new writes in a temporary file that a kill -9 leaves out of the manifest.
    await waitFor(async () => {
      const c = await connected(replica.port);
      try {
        const info = await c.info('persistence');
        return (await c.dbsize()) === 100 && info.includes('aof_rewrite_in_progress:0') && info.includes('aof_rewrite_scheduled:0');
      } finally {
        c.disconnect();
      }
    }, { what: 'replica synced, its AOF rewritten' });
    const pids = [...shards.map((s) => pidOf(s.dir)!), await proxyPid(t1.dataDir)];
    await t1.stop();
    await kill9(pids);

    const t2 = await node(t1.dataDir);
    await waitStatus(t2, bdb.uid);
    await readBack(port, 100);
    const after = await shardsOf(t2, bdb.uid);
    expect(after.find((s) => s.role === 'master')!.uid).toBe(replica.uid); // the replica's files won
  });
});

describe('imports cut short', () => {
  it("a manager that starts finds the scratch redis-server of an import its predecessor left, and stops it", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-test-'));
    const dir = path.join(dataDir, 'tmp', 'import-bdb-7-run', 'source-1');
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const orphan = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--pidfile', path.join(dir, 'redis.pid')], { cwd: dir, stdio: 'ignore', detached: true });
    try {
      await waitFor(() => fs.existsSync(path.join(dir, 'redis.pid')), { what: 'the scratch server up' });
      await node(dataDir);
      await waitFor(() => gone(orphan.pid!), { what: 'the scratch server stopped' });
      expect(fs.existsSync(path.dirname(dir))).toBe(false);
    } finally {
      if (!gone(orphan.pid!)) process.kill(orphan.pid!, 'SIGKILL');
    }
  });
});

describe('without persistence', () => {
  it('every shard killed: the database comes back empty, not from the RDB a replica kept of an earlier sync', async () => {
    const t1 = await node();
    const bdb = await createBdb(t1, { name: 'db-nopersist', replication: true });
    const port = bdb.endpoints[0].port;
    await writeKeys(port, 100);
    // A full sync (the replica restarted without its earlier sync file) leaves it a dump.rdb with those keys.
    const replica = (await shardsOf(t1, bdb.uid)).find((s) => s.role === 'slave')!;
    await kill9([pidOf(replica.dir)!]);
    fs.rmSync(path.join(replica.dir, 'dump.rdb'), { force: true });
    await waitFor(() => fs.existsSync(path.join(replica.dir, 'dump.rdb')), { what: "the replica's sync RDB" });
    const c = await connected(port);
    await c.flushall();
    await c.set('after-flush', '1');
    c.disconnect();
    await waitFor(async () => (await shardsOf(t1, bdb.uid)).every((s) => pidOf(s.dir) !== undefined), { what: 'both shards running' });
    await kill9((await shardsOf(t1, bdb.uid)).map((s) => pidOf(s.dir)!));
    // Back, and empty: what was flushed does not come back.
    await waitFor(async () => {
      const d = await connected(port).catch(() => undefined);
      if (!d) return false;
      try {
        return (await d.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        d.disconnect();
      }
    }, { timeoutMs: 20_000, what: 'the database back' });
    const d = await connected(port);
    expect(await d.dbsize()).toBe(0);
    d.disconnect();
  });
});

describe('recover', () => {
  it('shards that cannot restart put the database in recovery; POST recover restarts it from the files (or without data)', async () => {
    const t = await node();
    const a = await createBdb(t, { name: 'db-recover-a', ...AOF });
    const b = await createBdb(t, { name: 'db-recover-b', ...AOF });
    await writeKeys(a.endpoints[0].port, 40);
    await writeKeys(b.endpoints[0].port, 30);
    const [sa] = await shardsOf(t, a.uid);
    const [sb] = await shardsOf(t, b.uid);

    // A healthy database is not recoverable (409); the plan lists its AOF files.
    const healthy = await t.req('POST', `/v1/bdbs/${a.uid}/actions/recover`);
    expect([healthy.status, healthy.json?.error_code]).toEqual([409, 'not_recoverable']);
    const plan = (await t.req('GET', `/v1/bdbs/${a.uid}/actions/recover`)).json;
    expect(plan.status).toBe('ready');
    expect(plan.data_files.length).toBeGreaterThan(0);
    expect(plan.data_files[0]).toMatchObject({ node_uid: '1', shard_role: 'master', shard_uid: String(sa!.uid), shard_slots: '0-16383' });
    expect(plan.data_files.map((f: any) => f.filename)).toContain('appendonly.aof.manifest');
    expect((await t.req('GET', '/v1/bdbs/99999/actions/recover')).status).toBe(404);

    // Damage both AOFs (a good copy of a's is kept), then kill the shards: they cannot start again.
    const good = path.join(t.dataDir, 'good-aof');
    fs.cpSync(path.join(sa!.dir, 'appendonlydir'), good, { recursive: true });
    for (const s of [sa!, sb!]) {
      const dir = path.join(s.dir, 'appendonlydir');
      const incr = fs.readdirSync(dir).find((f) => f.endsWith('.incr.aof'))!;
      fs.writeFileSync(path.join(dir, incr), Buffer.concat([Buffer.from('garbage\r\n'), fs.readFileSync(path.join(dir, incr))]));
    }
    await kill9([pidOf(sa!.dir)!, pidOf(sb!.dir)!]);
    await waitStatus(t, a.uid, 'recovery', 30_000);
    await waitStatus(t, b.uid, 'recovery', 30_000);
    // In recovery nothing else runs on it until it is recovered.
    expect((await t.req('PUT', `/v1/bdbs/${b.uid}`, { body: { eviction_policy: 'allkeys-lru' } })).status).toBe(409);
    expect((await t.req('POST', `/v1/bdbs/${b.uid}/actions/export`, { body: { export_location: { type: 'mount_point', path: t.dataDir } } })).status).toBe(409);
    expect((await t.req('GET', `/v1/bdbs/${b.uid}/actions/recover`)).json.status).toBe('ready');

    // a: the files are repaired by hand, then recovered from them.
    fs.rmSync(path.join(sa!.dir, 'appendonlydir'), { recursive: true });
    fs.cpSync(good, path.join(sa!.dir, 'appendonlydir'), { recursive: true });
    const ra = await t.req('POST', `/v1/bdbs/${a.uid}/actions/recover`, { body: {} });
    expect(ra.status, ra.text).toBe(200);
    expect(await waitAction(t, ra.json.action_uid, 30_000)).toMatchObject({ name: 'SMRecoverBDB', status: 'completed' });
    await waitStatus(t, a.uid);
    await readBack(a.endpoints[0].port, 40);

    // b: recovered without data; the damaged files are kept aside.
    const unknownFile = await t.req('POST', `/v1/bdbs/${b.uid}/actions/recover`, { body: { data_files: [{ filename: 'nope.aof' }] } });
    expect([unknownFile.status, unknownFile.json?.error_code]).toEqual([400, 'invalid_param']);
    const c = await recoveredEmpty(t, b, { recover_without_data: true });
    await c.set('fresh', '1');
    c.disconnect();
    expect(fs.readdirSync(sb!.dir).some((f) => f.startsWith('discarded-'))).toBe(true);
  }, 90_000); // two databases through the 8 s down-detection and a recover each, on a loaded machine

  it('an AOF deleted while its shard was down: the database waits in recovery (missing-files), not served empty', async () => {
    const t = await node();
    const a = await createBdb(t, { name: 'db-lost-aof', ...AOF });
    await writeKeys(a.endpoints[0].port, 20);
    const [sa] = await shardsOf(t, a.uid);
    // Gone before the kill, so that no restart can come in between.
    fs.rmSync(path.join(sa!.dir, 'appendonlydir'), { recursive: true, force: true });
    await kill9([pidOf(sa!.dir)!]);
    await waitStatus(t, a.uid, 'recovery', 30_000);
    // Not started since: its pid file still names the killed process.
    expect(gone(pidOf(sa!.dir)!)).toBe(true);
    expect((await t.req('GET', `/v1/bdbs/${a.uid}/actions/recover`)).json).toMatchObject({ status: 'missing-files', data_files: [] });
    const refused = await t.req('POST', `/v1/bdbs/${a.uid}/actions/recover`, { body: {} });
    expect(refused.status).toBe(409);
    // The operator accepts the loss: it starts empty.
    (await recoveredEmpty(t, a, { ignore_errors: true })).disconnect();
  }, 60_000);

  it('with the cluster policy auto_recovery on, a database in recovery is recovered without a request', async () => {
    const t = await node();
    const a = await createBdb(t, { name: 'db-auto-recover', ...AOF });
    await writeKeys(a.endpoints[0].port, 25);
    const [sa] = await shardsOf(t, a.uid);
    const aofDir = path.join(sa!.dir, 'appendonlydir');
    const good = path.join(t.dataDir, 'good-aof-auto');
    fs.cpSync(aofDir, good, { recursive: true });
    const incr = fs.readdirSync(aofDir).find((f) => f.endsWith('.incr.aof'))!;
    fs.writeFileSync(path.join(aofDir, incr), Buffer.concat([Buffer.from('garbage\r\n'), fs.readFileSync(path.join(aofDir, incr))]));
    await kill9([pidOf(sa!.dir)!]);
    // Off (the default): the database waits in recovery.
    await waitStatus(t, a.uid, 'recovery', 30_000);
    fs.rmSync(aofDir, { recursive: true });
    fs.cpSync(good, aofDir, { recursive: true });
    await new Promise((r) => setTimeout(r, 1500)); // several scheduler passes
    expect((await t.req('GET', `/v1/bdbs/${a.uid}`)).json.status).toBe('recovery');
    // On: recovered from its files by the scheduler, as a recover action.
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { auto_recovery: true } })).status).toBe(200);
    await waitStatus(t, a.uid, 'active', 30_000);
    await readBack(a.endpoints[0].port, 25);
    // Recover is one of the dataset actions that only /v2/actions lists (requests/actions).
    const v2 = (await t.req('GET', '/v2/actions')).json;
    const actions = (Array.isArray(v2) ? v2 : v2.actions) as { action_uid: string; name: string }[];
    const recover = actions.find((x) => x.name === 'SMRecoverBDB');
    expect(recover, JSON.stringify(actions)).toBeDefined();
    expect(await waitAction(t, recover!.action_uid, 30_000)).toMatchObject({ status: 'completed' });
  });
});
