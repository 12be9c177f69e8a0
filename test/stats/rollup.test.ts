/** Rollups and the sampler with a fake clock and fake sources: bucket alignment, averages, bounds, rates. */
import { describe, expect, it } from 'vitest';
import { RollupStore } from '../../src/stats/rollup.js';
import { INTERVALS } from '../../src/stats/intervals.js';
import { Sampler } from '../../src/stats/sampler.js';
import { StatsService } from '../../src/stats/stats-service.js';
import type { RawShard, RawSnapshot } from '../../src/stats/raw.js';
import { parseCpuTimes, parseMeminfo, parseNetDev } from '../../src/stats/proc-host.js';

const T0 = Date.parse('2025-10-14T00:00:00Z') / 1000;

describe('RollupStore', () => {
  it('stores 1sec entries and closes aligned buckets with averages, keeping only the documented number', () => {
    const r = new RollupStore();
    // 700 seconds of samples: used_memory = the second's index, a string metric too.
    for (let i = 1; i <= 700; i++) r.add('bdb', '1', T0 + i, { used_memory: i, last_req_time: `t${i}` });
    const one = r.entries('bdb', '1', '1sec');
    expect(one).toHaveLength(10);
    expect(one.at(-1)).toMatchObject({ interval: '1sec', stime: '2025-10-14T00:11:39Z', etime: '2025-10-14T00:11:40Z', used_memory: 700 });
    const ten = r.entries('bdb', '1', '10sec');
    expect(ten).toHaveLength(30);
    // 00:11:30-00:11:40 has all its seconds, but a bucket closes only when a later one starts.
    expect(ten.at(-1)).toMatchObject({ stime: '2025-10-14T00:11:20Z', etime: '2025-10-14T00:11:30Z', used_memory: 685.5, last_req_time: 't690' });
    const five = r.entries('bdb', '1', '5min');
    expect(five.map((e) => [e.stime, e.etime, e.used_memory])).toEqual([
      ['2025-10-14T00:00:00Z', '2025-10-14T00:05:00Z', 150.5],
      ['2025-10-14T00:05:00Z', '2025-10-14T00:10:00Z', 450.5],
    ]);
    expect(r.entries('bdb', '1', '15min')).toEqual([]);
  });

  it('weighs latency averages by their replies and every sample by the seconds it covers', () => {
    const r = new RollupStore();
    // 00:00:00-00:00:10: one busy second (1000 reads at 50 µs), one quiet second (1 other command
    // at 500 µs), then 7 seconds of 10 writes/s and a sample covering two seconds (a missed tick).
    r.add('bdb', '1', T0 + 1, { total_res: 1000, read_res: 1000, write_req: 0, avg_latency: 50, avg_read_latency: 50 });
    r.add('bdb', '1', T0 + 2, { total_res: 1, read_res: 0, write_req: 0, avg_latency: 500, avg_other_latency: 500 });
    for (let i = 3; i <= 8; i++) r.add('bdb', '1', T0 + i, { total_res: 0, read_res: 0, write_req: 10 });
    r.add('bdb', '1', T0 + 10, { total_res: 0, read_res: 0, write_req: 20 }, 2);
    r.add('bdb', '1', T0 + 11, { total_res: 0, read_res: 0, write_req: 0 });
    const [e] = r.entries('bdb', '1', '10sec');
    // µs per reply over the interval: (1000 × 50 + 500) / 1001, not (50 + 500) / 2.
    expect(e.avg_latency).toBe(Math.round(((1000 * 50 + 500) / 1001) * 1000) / 1000);
    expect(e.avg_read_latency).toBe(50);
    // rate × 10 s = the 60 + 40 writes made, not the mean of 7 samples' rates.
    expect(e.write_req).toBe(10);
  });

  it('bounds every interval by its maximum sample count and forgets retained-out objects', () => {
    const r = new RollupStore();
    for (let i = 1; i <= 40 * 300; i++) r.add('node', '1', T0 + i * 30, { x: 1 }, 30);
    for (const def of INTERVALS) expect(r.entries('node', '1', def.name).length).toBeLessThanOrEqual(def.maxSamples);
    expect(r.entries('node', '1', '10sec')).toHaveLength(30);
    expect(r.entries('node', '1', '1hour').length).toBeGreaterThan(50);
    r.retain('node', []);
    expect(r.has('node', '1')).toBe(false);
  });
});

function info(o: { calls: Record<string, number>; keys: number; hits?: number; runId?: string; usec?: number }): RawShard['info'] {
  return {
    server: { run_id: o.runId ?? 'a' },
    memory: { used_memory: '1000', used_memory_rss: '4000', used_memory_peak: '1200', mem_fragmentation_ratio: '4.00', used_memory_lua: '32768', maxmemory: '100000' },
    stats: { keyspace_hits: String(o.hits ?? 0), keyspace_misses: '0', expired_keys: '0', evicted_keys: '0', instantaneous_ops_per_sec: '3', pubsub_channels: '0', pubsub_patterns: '0' },
    cpu: { used_cpu_sys: '1.0', used_cpu_user: '2.0', used_cpu_sys_main_thread: '0.5', used_cpu_user_main_thread: '1.5', used_cpu_sys_children: '0', used_cpu_user_children: '0' },
    clients: { connected_clients: '2', blocked_clients: '0' },
    persistence: { rdb_changes_since_last_save: '5', rdb_last_save_time: '1700000000', aof_rewrite_in_progress: '0' },
    keyspace: o.keys ? { db0: `keys=${o.keys},expires=0,avg_ttl=0` } : {},
    commandstats: Object.fromEntries(Object.entries(o.calls).map(([k, v]) => [`cmdstat_${k}`, `calls=${v},usec=${(o.usec ?? 2) * v},usec_per_call=2.00,rejected_calls=0,failed_calls=0`])),
  };
}

function snapshot(sec: number, shard: Partial<RawShard> & { info: RawShard['info'] }, ep?: { conns: number; total: number; bytesIn: number }): RawSnapshot {
  return {
    time: (T0 + sec) * 1000 + 5,
    shards: [{ uid: 1, bdb_uid: 1, node_uid: 1, role: 'master', assigned_slots: '0-16383', memory_limit: 100000, own: {}, ...shard }],
    nodes: [{
      uid: 1, cores: 2,
      cpu: { user: 100 + sec * 30, nice: 0, system: 50 + sec * 10, idle: 1000 + sec * 160, iowait: 0, irq: 0, softirq: 0, steal: 0 },
      memory: { total: 8e9, free: 2e9, available: 5e9 },
      net: { rx: sec * 1000, tx: sec * 2000 },
      persistent: { path: '/p', size: 1e11, free: 6e10, avail: 5e10 },
      ephemeral: { path: '/e', size: 1e11, free: 6e10, avail: 5e10 },
    }],
    endpoints: [{ uid: '1:1', bdb_uid: 1, node_uid: 1, stats: ep && { current_connections: ep.conns, total_connections: ep.total, refused_connections: 0, bytes_in: ep.bytesIn, bytes_out: ep.bytesIn * 2 } }],
    bdbs: [{ uid: 1, memory_size: 100000 }],
  };
}

describe('Sampler', () => {
  const classify = (n: string) => (n === 'set' ? 'write' : n === 'get' ? 'read' : 'other') as 'read' | 'write' | 'other';

  it('derives rates per whole second, subtracts its own INFO calls, and feeds the stats service', async () => {
    const snaps = [
      snapshot(1, { info: info({ calls: { set: 10, info: 5 }, keys: 10 }) }, { conns: 1, total: 3, bytesIn: 100 }),
      // One second later: 25 more SETs, 4 GETs, and 1 INFO that was the sampler's own.
      snapshot(2, { info: info({ calls: { set: 35, get: 4, info: 6 }, keys: 35, hits: 4 }), own: { info: 1 } }, { conns: 2, total: 4, bytesIn: 600 }),
      // Two seconds later (a late tick): 10 more SETs in 2 s.
      snapshot(4, { info: info({ calls: { set: 45, get: 4, info: 7 }, keys: 45, hits: 4 }), own: { info: 1 } }, { conns: 2, total: 4, bytesIn: 600 }),
    ];
    let i = 0;
    const store = new RollupStore();
    const sampler = new Sampler({ collect: async () => snaps[i++]! }, classify, store);
    expect(await sampler.tick()).toBeUndefined(); // priming
    const d = (await sampler.tick())!;
    expect(d.bdbs.get(1)).toMatchObject({ write_req: 25, read_req: 4, other_req: 0, total_req: 29, no_of_keys: 35, read_hits: 4, conns: 2, ingress_bytes: 500, egress_bytes: 1000, total_connections_received: 1, avg_latency: 2, instantaneous_ops_per_sec: 3, used_memory: 1000 });
    expect(d.nodes.get(1)).toMatchObject({ cpu_user: 0.15, cpu_system: 0.05, cpu_idle: 0.8, free_memory: 5e9, available_memory: 5e9 - 99000, provisional_memory: 8e9 - 100000, ingress_bytes: 1000, conns: 2, total_req: 29 });
    expect(d.cluster).toMatchObject({ cpu_idle: 0.8, conns: 2, total_req: 29, persistent_storage_free: 6e10 });
    expect(d.shards.get(1)).toMatchObject({ total_req: 29, no_of_keys: 35, shard_cpu_user: 0, used_memory_rss: 4000 });
    expect(d.endpoints.get('1:1:1')).toMatchObject({ conns: 2, write_req: 25 });
    const late = (await sampler.tick())!;
    expect(late.seconds).toBe(2);
    expect(late.bdbs.get(1)).toMatchObject({ write_req: 5, other_req: 0 });

    const svc = new StatsService(store, { bdbs: async () => [1], nodes: async () => [1], shards: async () => [] });
    const all = (await svc.bdbs({ interval: '1sec' }, 1)) as { uid: string; intervals: Record<string, unknown>[] };
    expect(all.uid).toBe('1');
    // write_req × entry length adds up to the SETs made after priming.
    expect(all.intervals.reduce((s, e) => s + (e.write_req as number) * ((Date.parse(e.etime as string) - Date.parse(e.stime as string)) / 1000), 0)).toBe(35);
    expect(all.intervals.map((e) => [e.stime, e.etime])).toEqual([['2025-10-14T00:00:01Z', '2025-10-14T00:00:02Z'], ['2025-10-14T00:00:02Z', '2025-10-14T00:00:04Z']]);
    expect(await svc.bdbsLast({ metrics: 'no_of_keys,used_memory' })).toEqual({ 1: { stime: '2025-10-14T00:00:02Z', etime: '2025-10-14T00:00:04Z', no_of_keys: 45, used_memory: 1000 } });
    expect(((await svc.bdbs({ stime: '2025-10-14T00:00:02Z' }, 1)) as { intervals: unknown[] }).intervals).toHaveLength(1);
    expect(((await svc.bdbs({ etime: '2025-10-14T00:00:02Z' }, 1)) as { intervals: unknown[] }).intervals).toHaveLength(1);
    await expect(svc.bdbs({ interval: '2sec' })).rejects.toMatchObject({ error_code: 'invalid_param' });
    await expect(svc.bdbs({}, 7)).rejects.toMatchObject({ error_code: 'db_not_exist', statusCode: 404 });
  });

  it('starts rates over after a shard restart (new run_id) instead of subtracting across runs', async () => {
    const snaps = [
      snapshot(1, { info: info({ calls: { set: 1000 }, keys: 5 }) }),
      snapshot(2, { info: info({ calls: { set: 3 }, keys: 5, runId: 'b' }) }),
    ];
    let i = 0;
    const sampler = new Sampler({ collect: async () => snaps[i++]! }, classify, new RollupStore());
    await sampler.tick();
    const d = (await sampler.tick())!;
    expect(d.shards.get(1)!.total_req).toBeUndefined();
    expect(d.bdbs.get(1)!.write_req).toBeUndefined();
    expect(d.bdbs.get(1)!.no_of_keys).toBe(5);
  });
});

describe('/proc parsers', () => {
  it('read CPU ticks, memory and non-loopback network bytes', () => {
    expect(parseCpuTimes('cpu  10 1 5 100 2 0 3 0 0 0\ncpu0 1 1 1 1 1 1 1 1\n')).toEqual({ user: 10, nice: 1, system: 5, idle: 100, iowait: 2, irq: 0, softirq: 3, steal: 0 });
    expect(parseMeminfo('MemTotal:       8000 kB\nMemFree:        1000 kB\nMemAvailable:   5000 kB\n')).toEqual({ total: 8192000, free: 1024000, available: 5120000 });
    const dev = 'Inter-|   Receive\n face |bytes packets errs drop fifo frame compressed multicast|bytes\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 200 1 0 0 0 0 0 0\n';
    expect(parseNetDev(dev)).toEqual({ rx: 100, tx: 200 });
  });
});
