/**
 * Failover and recovery with real processes: kill -9 or SIGSTOP of a replicated master, manual
 * failover through the API, and a non-replicated shard restarted from its AOF. Clients keep using
 * the same endpoint; the data stays; the replica is rebuilt.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCompleted, client, createBdb, pidOf, seed, shardAdmin, shardsOf, waitAction } from '../helpers/bdb.js';
import { signal } from '../helpers/reap.js';
import { replicationInfo, shardClient, waitInSync } from '../helpers/replication.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

/** A fresh connection to the endpoint reads `key` (the client a reconnecting application would open). */
async function readThrough(port: number, key: string): Promise<string | null | undefined> {
  const c = client(port);
  try {
    await c.connect();
    return await c.get(key);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/** A replicated database holding `n` keys, its replica in sync; the master's pid. */
async function seededReplicated(name: string, n: number) {
  const bdb = await createBdb(t, { name, replication: true });
  const port = bdb.endpoints[0].port;
  await seed(port, n);
  const { master, replica } = await waitInSync(t, bdb.uid);
  return { bdb, port, master, replica, masterPid: pidOf(master.dir) };
}

describe('replicated master failure', () => {
  it('kill -9 of the master: the same endpoint keeps serving the data from the promoted replica; a new replica is built', async () => {
    const bdb = await createBdb(t, { name: 'db-kill', replication: true });
    const port = bdb.endpoints[0].port;
    await seed(port, 500);
    const { master, replica } = await waitInSync(t, bdb.uid);
    const app = client(port);
    await app.connect();
    expect(await app.get('k:7')).toBe('v7');

    signal(pidOf(master.dir)!, 'SIGKILL');
    await waitFor(async () => (await readThrough(port, 'k:499')) === 'v499', { what: 'endpoint serving after the kill', timeoutMs: 5000 });
    app.disconnect();

    // Roles swapped in the CCS; the old master's shard comes back as the replica of the promoted one.
    const after = await waitInSync(t, bdb.uid);
    expect(after.master.uid).toBe(replica.uid);
    expect(after.replica.uid).toBe(master.uid);
    const rc = shardClient(after.replica.port);
    await rc.connect();
    expect(await rc.dbsize()).toBe(500);
    rc.disconnect();
    const events = (await t.req('GET', '/v1/logs?order=desc&limit=50')).json;
    if (Array.isArray(events)) expect(events.some((e: any) => e.type === 'shard_failover')).toBe(true);
  });

  it('SIGSTOP of the master (hung) also fails over', async () => {
    const bdb = await createBdb(t, { name: 'db-stop', replication: true });
    const port = bdb.endpoints[0].port;
    await seed(port, 50);
    const { master, replica } = await waitInSync(t, bdb.uid);
    const pid = pidOf(master.dir)!;
    signal(pid, 'SIGSTOP');
    try {
      await waitFor(async () => (await shardsOf(t, bdb.uid)).find((s) => s.role === 'master')?.uid === replica.uid, { what: 'failover', timeoutMs: 10_000 });
      await waitFor(async () => (await readThrough(port, 'k:49')) === 'v49', { what: 'endpoint serving after the failover' });
    } finally {
      signal(pid, 'SIGCONT');
    }
    const after = await waitInSync(t, bdb.uid, 20_000);
    expect(after.master.uid).toBe(replica.uid);
    // The hung process was replaced, not resumed as a second master.
    expect(pidOf(after.replica.dir)).not.toBe(pid);
  });

  it('manual failover (POST /v1/shards/{uid}/actions/failover) swaps the roles without losing a write', async () => {
    const { bdb, port, master, replica, masterPid } = await seededReplicated('db-manual', 200);
    const r = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`);
    expect(r.status, r.text).toBe(200);
    expect(typeof r.json.action_uid).toBe('string');
    await actionCompleted(t, r.json.action_uid);
    const after = await waitInSync(t, bdb.uid);
    expect(after.master.uid).toBe(replica.uid);
    expect(after.replica.uid).toBe(master.uid);
    // A graceful handover: the old master's process kept running, now as the replica.
    expect(pidOf(after.replica.dir)).toBe(masterPid);
    expect(await readThrough(port, 'k:199')).toBe('v199');
    const c = client(port);
    await c.connect();
    expect(await c.dbsize()).toBe(200);
    expect(await c.set('after', 'failover')).toBe('OK');
    c.disconnect();
    // Replica (not master) refused.
    const refused = await t.req('POST', `/v1/shards/${after.replica.uid}/actions/failover`);
    expect([refused.status, refused.json.error_code]).toEqual([400, 'shard_is_slave']);
  });
});

describe('a replicated master busy in a long script', () => {
  it('is failed over neither by the watchdog nor by a planned failover: the script runs to its end, nothing is killed', async () => {
    const bdb = await createBdb(t, { name: 'db-busy-master', replication: true });
    const { master, replica } = await waitInSync(t, bdb.uid);
    const masterPid = pidOf(master.dir);
    const run = await shardAdmin(t, master.port);
    const kill = await shardAdmin(t, master.port); // connected before the script: SCRIPT KILL ends it
    try {
      // Redis answers nothing while a script runs, then BUSY once it has run for busy-reply-threshold.
      await run.config('SET', 'busy-reply-threshold', '300');
      const script = run.eval('while true do end', 0).catch((e: Error) => e.message);
      await waitFor(async () => (await t.req('GET', `/v1/shards/${master.uid}`)).json.detailed_status === 'busy', { what: 'master busy' });
      const r = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`);
      expect(r.status, r.text).toBe(200);
      // Asynchronous (failover.md): the answer comes first; the busy master's 1 s PING is still under way.
      expect(['queued', 'running']).toContain((await t.req('GET', `/v2/actions/${r.json.action_uid}`)).json.status);
      const action = await waitAction(t, r.json.action_uid);
      expect(action.status).toBe('failed');
      expect(JSON.stringify(action)).toMatch(/does not answer/);
      // The v2 object describes a failure with the action page's error_code and error_message.
      const v2 = (await t.req('GET', `/v2/actions/${r.json.action_uid}`)).json;
      expect([v2.status, v2.error_code]).toEqual(['failed', 'internal_error']);
      expect(v2.error_message).toMatch(/does not answer/);
      // The watchdog sees BUSY answers, not silence: for as long as several of its rounds, nothing moves.
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        expect((await shardsOf(t, bdb.uid)).find((s) => s.role === 'master')?.uid).toBe(master.uid);
        await new Promise((res) => setTimeout(res, 100));
      }
      await kill.call('SCRIPT', 'KILL');
      expect(await script).toMatch(/killed/i);
    } finally {
      await kill.call('SCRIPT', 'KILL').catch(() => undefined);
      run.disconnect();
      kill.disconnect();
    }
    const after = await waitInSync(t, bdb.uid);
    expect([after.master.uid, after.replica.uid]).toEqual([master.uid, replica.uid]);
    expect(pidOf(after.master.dir)).toBe(masterPid);
  });
});

describe('planned failover under load', () => {
  it('clients writing through the endpoint see no error and keep their connections; every acknowledged write is on the new master', async () => {
    const bdb = await createBdb(t, { name: 'db-planned', replication: true });
    const port = bdb.endpoints[0].port;
    const { master, replica } = await waitInSync(t, bdb.uid);
    const writers = [0, 1, 2].map((i) => {
      const c = client(port);
      const w = { c, key: `w:${i}`, ok: 0, errors: [] as string[], closes: 0, stop: false, done: Promise.resolve() };
      c.on('close', () => w.closes++);
      w.done = (async () => {
        await c.connect();
        while (!w.stop) {
          try {
            await c.incr(w.key);
            w.ok++;
          } catch (e) {
            w.errors.push((e as Error).message);
            if (w.errors.length > 20) return;
          }
        }
      })();
      return w;
    });
    await waitFor(() => writers.every((w) => w.ok > 20), { what: 'writers running' });
    const r = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`);
    expect(r.status, r.text).toBe(200);
    await actionCompleted(t, r.json.action_uid);
    const after = writers.map((w) => w.ok);
    await waitFor(() => writers.every((w, i) => w.ok > after[i]! + 20), { what: 'writers going on after the failover' });
    for (const w of writers) w.stop = true;
    await Promise.all(writers.map((w) => w.done));
    expect(writers.map((w) => w.errors)).toEqual([[], [], []]);
    expect(writers.map((w) => w.closes)).toEqual([0, 0, 0]);
    expect((await waitInSync(t, bdb.uid)).master.uid).toBe(replica.uid);
    // Exactly the acknowledged increments, read through a fresh connection (served by the new master).
    const check = client(port);
    await check.connect();
    for (const w of writers) expect(Number(await check.get(w.key))).toBe(w.ok);
    check.disconnect();
    for (const w of writers) w.c.disconnect();
  });
});

describe('failover requests (requests/shards/actions/failover.md)', () => {
  const failoverActions = async () => ((await t.req('GET', '/v2/actions')).json as { name: string }[]).filter((a) => a.name === 'SMFailover').length;

  it('dry_run validates like the real call and changes nothing: roles, processes and actions stay', async () => {
    const bdb = await createBdb(t, { name: 'db-dry-run', replication: true });
    const { master, replica } = await waitInSync(t, bdb.uid);
    const masterPid = pidOf(master.dir);
    const actionsBefore = await failoverActions();

    const one = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { dry_run: true } });
    expect(one.status, one.text).toBe(200);
    expect(one.json.action_uid).toBeUndefined();
    const many = await t.req('POST', '/v1/shards/actions/failover', { body: { shard_uids: [String(master.uid)], dry_run: true } });
    expect(many.status, many.text).toBe(200);
    expect(many.json.action_uid).toBeUndefined();
    // Errors are the real call's.
    expectRsError(await t.req('POST', `/v1/shards/${replica.uid}/actions/failover`, { body: { dry_run: true } }), 400, 'shard_is_slave');
    expectRsError(await t.req('POST', '/v1/shards/actions/failover', { body: { shard_uids: ['99999'], dry_run: true } }), 404, 'shard_not_exist');

    // Give a (wrong) failover time to happen, then check nothing moved.
    await new Promise((r) => setTimeout(r, 300));
    const after = await waitInSync(t, bdb.uid);
    expect([after.master.uid, after.replica.uid]).toEqual([master.uid, replica.uid]);
    expect(pidOf(after.master.dir)).toBe(masterPid);
    expect(await failoverActions()).toBe(actionsBefore);
  });

  it('a missing or empty shard_uids is 404 shard_uids_required', async () => {
    expectRsError(await t.req('POST', '/v1/shards/actions/failover', { body: {} }), 404, 'shard_uids_required');
    expectRsError(await t.req('POST', '/v1/shards/actions/failover', { body: { dry_run: true } }), 404, 'shard_uids_required');
    expectRsError(await t.req('POST', '/v1/shards/actions/failover', { body: { shard_uids: [] } }), 404, 'shard_uids_required');
    expectRsError(await t.req('POST', '/v1/shards/actions/failover', { body: { shard_uids: '1' } }), 400, 'invalid_schema');
    // No body at all is a request without the list too (as the migrate calls answer), not a schema error.
    expectRsError(await t.req('POST', '/v1/shards/actions/failover'), 404, 'shard_uids_required');
  });

  it('the single-shard call has the documented body: unknown fields are refused, no body is fine', async () => {
    const bdb = await createBdb(t, { name: 'db-fo-body', replication: true });
    const { master } = await waitInSync(t, bdb.uid);
    expectRsError(await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { bogus: 'x' } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { dry_run: 'yes' } }), 400, 'invalid_schema');
    const documented = { dead_uid: String(master.uid), dead_nodes: [], force_rebind: false, redis_version_upgrade: bdb.redis_version, dry_run: true };
    const r = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: documented });
    expect(r.status, r.text).toBe(200);
  });

  it('checks dead_uid(s), dead_nodes and redis_version_upgrade against what this cluster can do', async () => {
    const bdb = await createBdb(t, { name: 'db-fo-options', replication: true });
    const { master, replica } = await waitInSync(t, bdb.uid);
    const one = (body: Record<string, unknown>) => t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { dry_run: true, ...body } });
    const many = (body: Record<string, unknown>) => t.req('POST', '/v1/shards/actions/failover', { body: { shard_uids: [String(master.uid)], dry_run: true, ...body } });
    // dead_uid(s) name masters this request fails over.
    expectRsError(await one({ dead_uid: '99999' }), 404, 'shard_not_exist');
    expectRsError(await one({ dead_uid: String(replica.uid) }), 400, 'invalid_dead_uid');
    expectRsError(await many({ dead_uids: [String(replica.uid)] }), 400, 'invalid_dead_uid');
    expect((await many({ dead_uids: [String(master.uid)] })).status).toBe(200);
    // Numbers name shards as shard_uids do; a uid that is no number names no shard.
    expect((await many({ dead_uids: [master.uid] })).status).toBe(200);
    expect((await one({ dead_uid: master.uid })).status).toBe(200);
    expectRsError(await t.req('POST', '/v1/shards/abc/actions/failover', { body: { dry_run: true } }), 404, 'shard_not_exist');
    expectRsError(await t.req('GET', '/v1/shards/abc'), 404, 'shard_not_exist');
    // The replica's node is the only one: declaring it dead leaves nothing to promote; other node ids change nothing.
    const node = String((await t.req('GET', `/v1/shards/${replica.uid}`)).json.node_uid);
    expectRsError(await one({ dead_nodes: [node] }), 400, 'no_replica');
    expectRsError(await many({ dead_nodes: [node] }), 400, 'no_replica');
    expect((await one({ dead_nodes: ['77'] })).status).toBe(200);
    // Only the installed Redis can run the promoted shard.
    expectRsError(await one({ redis_version_upgrade: '6.2' }), 400, 'invalid_version');
    expectRsError(await many({ redis_version_upgrade: 'latest' }), 400, 'invalid_version');
    expect((await one({ redis_version_upgrade: bdb.redis_version, force_rebind: true })).status).toBe(200);
    // None of these moved anything.
    const after = await waitInSync(t, bdb.uid);
    expect([after.master.uid, after.replica.uid]).toEqual([master.uid, replica.uid]);
  });

  it('a replica that does not answer (SIGSTOP) is refused at once with 400 no_replica, dry run or not; clients are not held', async () => {
    const bdb = await createBdb(t, { name: 'db-fo-hung-replica', replication: true });
    const port = bdb.endpoints[0].port;
    const { master, replica } = await waitInSync(t, bdb.uid);
    const pid = pidOf(replica.dir)!;
    signal(pid, 'SIGSTOP');
    try {
      expectRsError(await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { dry_run: true } }), 400, 'no_replica');
      expectRsError(await t.req('POST', `/v1/shards/${master.uid}/actions/failover`), 400, 'no_replica');
      expect(await readThrough(port, 'nothing')).toBeNull();
    } finally {
      signal(pid, 'SIGCONT');
    }
    const after = await waitInSync(t, bdb.uid);
    expect([after.master.uid, after.replica.uid]).toEqual([master.uid, replica.uid]);
  });

  it('dead_uid: the replica is promoted without asking the master, which is not stopped and becomes the replica', async () => {
    const { bdb, port, master, replica, masterPid } = await seededReplicated('db-fo-dead', 100);
    const r = await t.req('POST', `/v1/shards/${master.uid}/actions/failover`, { body: { dead_uid: String(master.uid) } });
    expect(r.status, r.text).toBe(200);
    await actionCompleted(t, r.json.action_uid);
    const after = await waitInSync(t, bdb.uid);
    expect([after.master.uid, after.replica.uid]).toEqual([replica.uid, master.uid]);
    // Not stopped: the same process, now replicating the promoted shard.
    expect(pidOf(after.replica.dir)).toBe(masterPid);
    expect(await readThrough(port, 'k:99')).toBe('v99');
    const events = (await t.req('GET', '/v1/logs?order=desc&limit=20')).json as { type: string; reason?: string }[];
    expect(events.some((e) => e.type === 'shard_failover' && /dead master/.test(String(e.reason)))).toBe(true);
  });
});

describe('every shard of a replicated database killed', () => {
  it('restarts from the replica that persisted (AOF): the data is back, and replicated again', async () => {
    const bdb = await createBdb(t, { name: 'db-kill-all', replication: true, data_persistence: 'aof' });
    const port = bdb.endpoints[0].port;
    await seed(port, 200);
    const { master, replica } = await waitInSync(t, bdb.uid);
    await waitFor(async () => {
      const rc = shardClient(replica.port);
      try {
        await rc.connect();
        return (await rc.info('persistence')).includes('aof_rewrite_in_progress:0');
      } finally {
        rc.disconnect();
      }
    }, { what: 'replica AOF written' });
    signal(pidOf(replica.dir)!, 'SIGKILL');
    signal(pidOf(master.dir)!, 'SIGKILL');
    await waitFor(async () => (await readThrough(port, 'k:199')) === 'v199', { what: 'data served again', timeoutMs: 15_000 });
    // Served by the new master, not by the old one's address while it restarts as a replica (READONLY).
    const w = client(port);
    await w.connect();
    expect(await w.set('after-crash', '1')).toBe('OK');
    w.disconnect();
    const after = await waitInSync(t, bdb.uid, 20_000);
    const c = client(port);
    await c.connect();
    expect(await c.dbsize()).toBe(201);
    c.disconnect();
    const rc = shardClient(after.replica.port);
    await rc.connect();
    await waitFor(async () => (await rc.dbsize()) === 201, { what: 'replica has the write made after the crash' });
    rc.disconnect();
  });
});

describe('master dead while its replica hangs', () => {
  it('a master with its own AOF (master_persistence) is restarted from it; the replica resyncs when it is back', async () => {
    const bdb = await createBdb(t, { name: 'db-hung-replica', replication: true, data_persistence: 'aof', master_persistence: true });
    const port = bdb.endpoints[0].port;
    await seed(port, 200);
    const { master, replica } = await waitInSync(t, bdb.uid);
    const masterPid = pidOf(master.dir)!;
    const replicaPid = pidOf(replica.dir)!;
    signal(replicaPid, 'SIGSTOP');
    try {
      signal(masterPid, 'SIGKILL');
      // Served again by the master restarted from its AOF, while the replica is still stopped.
      await waitFor(async () => (await readThrough(port, 'k:199')) === 'v199', { what: 'master back from its AOF', timeoutMs: 15_000 });
      const now = await shardsOf(t, bdb.uid);
      expect(now.find((s) => s.role === 'master')!.uid).toBe(master.uid);
      expect(pidOf(master.dir)).not.toBe(masterPid);
    } finally {
      signal(replicaPid, 'SIGCONT');
    }
    const after = await waitInSync(t, bdb.uid, 20_000);
    expect(after.master.uid).toBe(master.uid);
    const rc = shardClient(after.replica.port);
    await rc.connect();
    expect(await rc.dbsize()).toBe(200);
    rc.disconnect();
  });
});

describe('master dead while its replica has not synced since it restarted', () => {
  it('a master with its own AOF is restarted from it, not failed over to the replica that lacks the latest writes', async () => {
    // QA: master_persistence + appendfsync-always, a writer through the endpoint, the replica killed and
    // restarted, the master killed 0.4 s later: the watchdog promoted the replica (its AOF ended at its
    // own crash) and 570 acknowledged keys were gone; the old master then resynced from it.
    const bdb = await createBdb(t, {
      name: 'db-unsynced-replica', replication: true, data_persistence: 'aof', aof_policy: 'appendfsync-always', master_persistence: true,
    });
    const port = bdb.endpoints[0].port;
    await seed(port, 200);
    const { master, replica } = await waitInSync(t, bdb.uid);
    // The master delays every full sync, so the restarted replica stays unsynced while the master lives.
    const ma = await shardAdmin(t, master.port);
    await ma.config('SET', 'repl-diskless-sync-delay', '60');
    ma.disconnect();
    const replicaPid = pidOf(replica.dir)!;
    signal(replicaPid, 'SIGKILL');
    // Acknowledged by the master (and its AOF) while the replica is down.
    const c = client(port);
    await c.connect();
    for (let i = 0; i < 100; i++) await c.set(`late:${i}`, `v${i}`);
    c.disconnect();
    // The replica is back (restarted by the manager), answering, and not in sync.
    await waitFor(async () => {
      const pid = pidOf(replica.dir);
      if (pid === undefined || pid === replicaPid) return false;
      const r = await replicationInfo(replica.port).catch(() => undefined);
      return r?.role === 'slave' && r.master_link_status !== 'up';
    }, { what: 'the replica restarted, not in sync', timeoutMs: 15_000 });
    const masterPid = pidOf(master.dir)!;
    signal(masterPid, 'SIGKILL');
    await waitFor(async () => (await readThrough(port, 'late:99')) === 'v99', { what: 'the late writes served again', timeoutMs: 20_000 });
    expect((await shardsOf(t, bdb.uid)).find((s) => s.role === 'master')!.uid).toBe(master.uid);
    const after = await waitInSync(t, bdb.uid, 20_000);
    const rc = shardClient(after.replica.port);
    await rc.connect();
    expect(await rc.dbsize()).toBe(300);
    rc.disconnect();
  });
});

describe('non-replicated shard failure', () => {
  it('a killed shard with AOF persistence is restarted from its file with the data intact', async () => {
    // appendfsync always: every acknowledged write is in the file. With every-sec (the default) Redis may hold
    // back up to two seconds of writes while a slow background fsync runs (a busy host), which a kill -9 loses.
    const bdb = await createBdb(t, { name: 'db-aof', data_persistence: 'aof', aof_policy: 'appendfsync-always' });
    const port = bdb.endpoints[0].port;
    await seed(port, 300);
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    signal(pid, 'SIGKILL');
    await waitFor(() => {
      const now = pidOf(shard!.dir);
      return now !== undefined && now !== pid;
    }, { what: 'shard restarted', timeoutMs: 10_000 });
    await waitFor(async () => (await readThrough(port, 'k:299')) === 'v299', { what: 'data served after the restart' });
    const c = client(port);
    await c.connect();
    expect(await c.dbsize()).toBe(300);
    c.disconnect();
    // As visible in the event log as a hung shard's restart (QA: a crash left no trace).
    // Waited for: the test may read the log between the restart and the pass's event write (seen once in a full run).
    const restarted = async () => ((await t.req('GET', '/v1/logs')).json as any[]).filter((e) => e.type === 'shard_restarted' && e.shard_uid === String(shard!.uid));
    await waitFor(async () => ((await restarted()).length ? true : undefined), { what: 'shard_restarted event', timeoutMs: 5_000 });
    expect(await restarted()).toEqual([
      expect.objectContaining({ severity: 'WARNING', bdb_uid: String(bdb.uid), reason: 'the shard process had exited (crash or kill)' }),
    ]);
  });

  it('a shard whose port was taken while it was down moves to another port, and later changes reach it', async () => {
    const bdb = await createBdb(t, { name: 'db-moved', data_persistence: 'aof' });
    const [shard] = await shardsOf(t, bdb.uid);
    // Another program takes the port while the shard is down: kill it and bind the port as soon as it
    // is free; if the watchdog restarted the shard first (a loaded host), kill it again.
    const squatter = net.createServer();
    const bind = () => new Promise<boolean>((res) => {
      squatter.once('error', () => res(false));
      squatter.listen(shard!.port, '127.0.0.1', () => res(true));
    });
    await waitFor(async () => {
      const pid = pidOf(shard!.dir);
      if (pid !== undefined) signal(pid, 'SIGKILL');
      for (let i = 0; i < 2000; i++) {
        if (await bind()) return true;
        if (pid !== undefined && pidOf(shard!.dir) !== undefined && pidOf(shard!.dir) !== pid) return false; // restarted first
        await new Promise((r) => setImmediate(r));
      }
      return false;
    }, { what: 'port taken', timeoutMs: 20_000 });
    try {
      const moved = await waitFor(async () => {
        const [s] = await shardsOf(t, bdb.uid);
        return s!.port !== shard!.port && pidOf(s!.dir) !== undefined ? s : undefined;
      }, { what: 'shard moved and running', timeoutMs: 15_000 });
      const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'allkeys-lru' } });
      expect(r.status, r.text).toBe(200);
      await waitFor(async () => (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.status === 'active', { what: 'change applied' });
      const a = await shardAdmin(t, moved!.port);
      expect(await a.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      a.disconnect();
    } finally {
      squatter.close();
    }
  });
});
