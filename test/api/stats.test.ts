/** Stats routes on a real node: figures cross-checked against the shard's own INFO after a known workload. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { client, createBdb, shardsOf } from '../helpers/bdb.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const seconds = (e: { stime: string; etime: string }) => (Date.parse(e.etime) - Date.parse(e.stime)) / 1000;

describe('before any database exists', () => {
  it('answers 404 for the all-databases and all-shards forms, and samples the node and cluster', async () => {
    expect((await t.req('GET', '/v1/bdbs/stats')).status).toBe(404);
    expect((await t.req('GET', '/v1/bdbs/stats/last')).json.error_code).toBe('db_not_exist');
    expect((await t.req('GET', '/v1/shards/stats')).status).toBe(404);
    expect((await t.req('GET', '/v1/endpoints/stats')).json).toEqual([]);
    const last = await waitFor(async () => {
      const r = await t.req('GET', '/v1/cluster/stats/last');
      return typeof r.json?.cpu_idle === 'number' ? r.json : undefined;
    }, { timeoutMs: 10_000, what: 'first cluster sample' });
    expect(last).toMatchObject({ interval: '1sec', conns: 0, total_req: 0 });
    for (const m of ['cpu_user', 'cpu_system', 'cpu_idle']) expect(last[m]).toBeGreaterThanOrEqual(0);
    expect(last.free_memory).toBeGreaterThan(0);
    expect(last.persistent_storage_avail).toBeGreaterThan(0);
    const nodes = (await t.req('GET', '/v1/nodes/stats')).json;
    expect(nodes).toHaveLength(1);
    expect(nodes[0].uid).toBe(1);
    expect(nodes[0].intervals[0]).toHaveProperty('cur_aof_rewrites');
    expect(Object.keys((await t.req('GET', '/v1/nodes/stats/last')).json)).toEqual(['1']);
    expect((await t.req('GET', '/v1/nodes/stats/9')).json.error_code).toBe('node_not_found');
    const cluster = (await t.req('GET', '/v1/cluster/stats')).json;
    expect(cluster.uid).toBe('');
    expect(cluster.intervals.every((e: any) => typeof e.stime === 'string' && typeof e.etime === 'string')).toBe(true);
  });
});

describe('a database after a known workload', () => {
  const N = 300;
  let bdb: any;
  let shard: { uid: number; port: number };

  beforeAll(async () => {
    bdb = await createBdb(t, { name: 'stats-db' });
    [shard] = (await shardsOf(t, bdb.uid)) as any;
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    const p = c.pipeline();
    for (let i = 0; i < N; i++) p.set(`k${i}`, 'v');
    await p.exec();
    for (let i = 0; i < 7; i++) await c.get(`k${i}`);
    await c.get('missing');
    c.disconnect();
  });

  it('counts every SET as a write and reports the keys the shard holds', async () => {
    const entries = await waitFor(async () => {
      const r = await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?interval=1sec`);
      const list = r.json.intervals as any[];
      const writes = list.reduce((s, e) => s + (e.write_req ?? 0) * seconds(e), 0);
      return writes >= N && list.at(-1).no_of_keys === N ? list : undefined;
    }, { timeoutMs: 8000, what: 'the workload in the 1sec stats' });
    expect(entries.reduce((s, e) => s + (e.write_req ?? 0) * seconds(e), 0)).toBe(N);
    expect(entries.reduce((s, e) => s + (e.read_req ?? 0) * seconds(e), 0)).toBe(8);
    expect(entries.reduce((s, e) => s + (e.read_hits ?? 0) * seconds(e), 0)).toBe(7);
    expect(entries.reduce((s, e) => s + (e.read_misses ?? 0) * seconds(e), 0)).toBe(1);
    expect(entries.reduce((s, e) => s + (e.total_connections_received ?? 0) * seconds(e), 0)).toBeGreaterThanOrEqual(1);

    // The shard's own view agrees.
    const direct = client(shard.port);
    await direct.connect();
    const info = String(await direct.info('everything'));
    direct.disconnect();
    expect(info).toMatch(new RegExp(`cmdstat_set:calls=${N},`));
    expect(info).toMatch(new RegExp(`db0:keys=${N},`));
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    const last = (await t.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`)).json[String(bdb.uid)];
    expect(last.no_of_keys).toBe(N);
    expect(Math.abs(last.used_memory - used) / used).toBeLessThan(0.2);
    expect(last.interval).toBe('1sec');
    // The proxy counted the workload's requests and replies: seconds ago, not "unavailable" (1/1/1970).
    for (const m of ['last_req_time', 'last_res_time']) {
      expect(last[m], m).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.now() - Date.parse(last[m]), m).toBeLessThan(60_000);
    }
    for (const m of ['conns', 'egress_bytes', 'ingress_bytes', 'evicted_objects', 'expired_objects', 'instantaneous_ops_per_sec',
      'mem_frag_ratio', 'mem_size_lua', 'no_of_expires', 'other_req', 'shard_cpu_user', 'main_thread_cpu_user', 'fork_cpu_user', 'total_req']) {
      expect(typeof last[m], m).toBe('number');
    }
  });

  it('has uid as a string, filters by interval, stime, etime and metrics, and refuses bad parameters', async () => {
    const all = (await t.req('GET', '/v1/bdbs/stats')).json;
    expect(all.map((b: any) => b.uid)).toEqual([String(bdb.uid)]);
    const list = await waitFor(async () => {
      const l = (await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?interval=1sec`)).json.intervals as any[];
      return l.length > 2 ? l : undefined;
    }, { what: 'three 1sec entries' });
    expect(list.every((e) => e.interval === '1sec')).toBe(true);
    const mid = list[Math.floor(list.length / 2)];
    const after = (await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?interval=1sec&stime=${mid.stime}`)).json.intervals as any[];
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.stime >= mid.stime)).toBe(true);
    const before = (await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?interval=1sec&etime=${mid.etime}`)).json.intervals as any[];
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((e) => e.etime <= mid.etime)).toBe(true);
    const picked = (await t.req('GET', `/v1/bdbs/stats/last/${bdb.uid}?metrics=no_of_keys,used_memory`)).json[String(bdb.uid)];
    expect(Object.keys(picked).sort()).toEqual(['etime', 'no_of_keys', 'stime', 'used_memory']);
    expect((await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?interval=3sec`)).status).toBe(400);
    expect((await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?stime=yesterday`)).status).toBe(400);
    // stime/etime are ISO 8601 date-times that exist: no rolling Feb 30 over, no "1" as a year.
    for (const bad of ['stime=2026-02-30T00:00:00Z', 'etime=1', 'etime=2015-05-27', 'stime=2015-05-27T25:00:00Z', 'stime=2015-13-01T00:00:00Z']) {
      const r = await t.req('GET', `/v1/cluster/stats?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.json.error_code, bad).toBe('invalid_param');
      expect((await t.req('GET', `/v1/bdbs/stats/${bdb.uid}?${bad}`)).status, bad).toBe(400);
    }
    // The page's own forms keep working.
    expect((await t.req('GET', '/v1/cluster/stats?interval=1hour&stime=2014-08-28T10:00:00Z')).status).toBe(200);
    expect((await t.req('GET', `/v1/cluster/stats?stime=2015-05-27T12:00:00Z&etime=${encodeURIComponent('2099-05-28T12:59:59+02:00')}`)).status).toBe(200);
    expect((await t.req('GET', '/v1/bdbs/stats/999')).status).toBe(404);
    expect((await t.req('GET', '/v1/bdbs/stats/last/999')).status).toBe(404);
    expect((await t.req('GET', '/v1/bdbs/stats', { auth: null })).status).toBe(401);
  });

  it('reports shards with their INFO figures and the endpoint with the proxy counters', async () => {
    const shards = (await t.req('GET', `/v1/shards/stats?parent_uid=${bdb.uid}&interval=1sec`)).json;
    expect(shards).toHaveLength(1);
    expect(shards[0]).toMatchObject({ uid: String(shard.uid), status: 'active', node_uid: '1', role: 'master', assigned_slots: '0-16383' });
    const sl = (await t.req('GET', `/v1/shards/stats/last/${shard.uid}`)).json[String(shard.uid)];
    expect(sl).toMatchObject({ no_of_keys: N, interval: '1sec' });
    for (const m of ['connected_clients', 'used_memory_rss', 'used_memory_peak', 'last_save_time', 'rdb_changes_since_last_save', 'avg_ttl']) {
      expect(typeof sl[m], m).toBe('number');
    }
    expect((await t.req('GET', `/v1/shards/stats/${shard.uid}`)).json.uid).toBe(String(shard.uid));
    expect((await t.req('GET', '/v1/shards/stats/999')).status).toBe(404);
    const eps = await waitFor(async () => {
      const r = (await t.req('GET', '/v1/endpoints/stats?interval=1sec')).json;
      return r[0]?.intervals.length ? r : undefined;
    }, { what: 'endpoint stats' });
    expect(eps[0].uid).toBe(`${bdb.uid}:1:1`);
    const totals = eps[0].intervals.reduce((s: number, e: any) => s + (e.ingress_bytes ?? 0) * seconds(e), 0);
    expect(totals).toBeGreaterThan(N * 20); // every SET is ~30 bytes of RESP
    expect(eps[0].intervals.reduce((s: number, e: any) => s + (e.write_req ?? 0) * seconds(e), 0)).toBe(N);
    // The page's endpoint figures: latency sums (÷ replies = the average), replies started, last request and reply.
    const sum = (m: string) => eps[0].intervals.reduce((s: number, e: any) => s + (e[m] ?? 0) * seconds(e), 0);
    expect(sum('write_started_res')).toBe(N);
    expect(sum('total_started_res')).toBe(sum('total_res'));
    expect(sum('acc_write_latency')).toBeGreaterThan(0);
    expect(sum('acc_latency')).toBeCloseTo(sum('acc_read_latency') + sum('acc_write_latency') + sum('acc_other_latency'), 0);
    const withWrites = eps[0].intervals.find((e: any) => e.write_res > 0);
    expect(withWrites.acc_write_latency / withWrites.write_res).toBeCloseTo(withWrites.avg_write_latency, 3);
    const newest = eps[0].intervals.at(-1);
    expect(Date.now() - Date.parse(newest.last_req_time)).toBeLessThan(60_000);
    expect(newest).toMatchObject({ monitor_sessions_count: 0, auth_cmds: 0, cmd_get: 0 });
    // A MONITOR client is a monitor session until it sends RESET (or leaves).
    const mon = net.connect(bdb.endpoints[0].port, '127.0.0.1');
    mon.on('error', () => undefined);
    const sessions = (n: number) => waitFor(async () => {
      const r = (await t.req('GET', '/v1/endpoints/stats?interval=1sec')).json;
      return r[0]?.intervals.at(-1)?.monitor_sessions_count === n ? true : undefined;
    }, { what: `${n} monitor session(s) counted` });
    mon.write('MONITOR\r\n');
    await sessions(1);
    mon.write('RESET\r\n');
    await sessions(0);
    mon.destroy();
  });

  it('rolls 1-second samples up into 10sec entries', async () => {
    const ten = await waitFor(async () => {
      const r = (await t.req('GET', '/v1/cluster/stats?interval=10sec')).json.intervals;
      return r.length ? r : undefined;
    }, { timeoutMs: 25_000, what: 'a 10sec cluster entry' });
    expect(seconds(ten[0])).toBe(10);
    expect(Date.parse(ten[0].stime) % 10_000).toBe(0);
    const noInterval = (await t.req('GET', '/v1/cluster/stats')).json.intervals.map((e: any) => e.interval);
    // Without `interval`, every interval's entries (a 5min one too if a boundary has passed).
    expect(noInterval).toContain('1sec');
    expect(noInterval).toContain('10sec');
    expect(noInterval.every((i: string) => ['1sec', '10sec', '5min'].includes(i))).toBe(true);
  });
});

describe('per-object answers for objects that are not serving', () => {
  it('a database in recovery → 503, one that is not active → 406, a shard that is down → 406', async () => {
    const n = await startTestNode();
    try {
      const bdb = await createBdb(n, { name: 'stats-states' });
      const [shard] = await shardsOf(n, bdb.uid);
      await waitFor(async () => (await n.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`)).status === 200, { what: 'first sample' });
      // Stop the reconcilers so that the states set below stay as they are.
      await n.node.composed.services.controllers.stop();
      const setStatus = async (status: string) => {
        const e = (await n.node.composed.kv.get<any>(`/bdbs/${bdb.uid}`))!;
        await n.node.composed.kv.put(`/bdbs/${bdb.uid}`, { ...e.value, status }, e.modRevision);
      };
      await setStatus('recovery');
      const rec = await n.req('GET', `/v1/bdbs/stats/${bdb.uid}`);
      expect({ status: rec.status, code: rec.json.error_code }).toEqual({ status: 503, code: 'bdb_in_recovery' });
      expect((await n.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`)).status).toBe(503);
      await setStatus('creation-failed');
      const na = await n.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`);
      expect({ status: na.status, code: na.json.error_code }).toEqual({ status: 406, code: 'bdb_not_active' });
      process.kill(Number((await import('node:fs')).readFileSync(`${shard!.dir}/redis.pid`, 'utf8')), 'SIGKILL');
      await waitFor(async () => (await n.req('GET', `/v1/shards/stats/last/${shard!.uid}`)).status === 406, { what: 'shard 406' });
    } finally {
      await n.close();
    }
  });
});
