/**
 * Shard metrics (objects/statistics/shard-metrics.md) from two INFO snapshots of one
 * redis-server. Gauges are read as they are; counters become per-second rates over the time
 * between the snapshots. Request counts come from INFO commandstats, split into read / write /
 * other by the commands' Redis flags, less the commands the sampler sent itself.
 */
import type { InfoSections } from '../redis/replies.js';
import type { MetricValues } from './intervals.js';
import type { Classify, CommandClass, RawShard } from './raw.js';

/** Per-second user request rates of one shard, and the time Redis spent executing them. */
export interface RequestRates {
  calls: Record<CommandClass, number>;
  /** Microseconds per second spent in the calls of each class. */
  usec: Record<CommandClass, number>;
}

export function num(info: InfoSections | undefined, section: string, field: string): number | undefined {
  const raw = info?.[section]?.[field];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

/** `db0:keys=1,expires=0,avg_ttl=0` → { keys: 1, ... }; also commandstats' `calls=1,usec=14,...`. */
export function fields(line: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (line ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = Number(part.slice(i + 1));
  }
  return out;
}

/** Keys and volatile keys over all logical databases; avg_ttl of db0 (RS shards use db0 only). */
export function keyspace(info: InfoSections): { keys: number; expires: number; avg_ttl: number } {
  let keys = 0;
  let expires = 0;
  for (const [name, line] of Object.entries(info.keyspace ?? {})) {
    if (!/^db[0-9]+$/.test(name)) continue;
    const f = fields(line);
    keys += f.keys ?? 0;
    expires += f.expires ?? 0;
  }
  return { keys, expires, avg_ttl: fields(info.keyspace?.db0).avg_ttl ?? 0 };
}

/** A counter's increase; a smaller value means the process restarted and counts from zero again. */
function increase(cur: number, prev: number | undefined): number {
  if (prev === undefined) return cur;
  return cur >= prev ? cur - prev : cur;
}

function commandstats(info: InfoSections): Map<string, { calls: number; usec: number }> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const [k, line] of Object.entries(info.commandstats ?? {})) {
    if (!k.startsWith('cmdstat_')) continue;
    const f = fields(line);
    out.set(k.slice('cmdstat_'.length), { calls: (f.calls ?? 0) + (f.rejected_calls ?? 0), usec: f.usec ?? 0 });
  }
  return out;
}

/** Commands (by commandstats name) a shard reports; the collector resolves their classes first. */
export function commandNames(info: InfoSections): string[] {
  return [...commandstats(info).keys()];
}

export function requestRates(prev: RawShard, cur: RawShard, dt: number, classify: Classify): RequestRates {
  const before = commandstats(prev.info!);
  const out: RequestRates = { calls: { read: 0, write: 0, other: 0 }, usec: { read: 0, write: 0, other: 0 } };
  for (const [name, now] of commandstats(cur.info!)) {
    const was = before.get(name);
    const calls = increase(now.calls, was?.calls);
    const usec = increase(now.usec, was?.usec);
    const mine = Math.min(calls, cur.own[name] ?? 0);
    const cls = classify(name);
    out.calls[cls] += (calls - mine) / dt;
    out.usec[cls] += (calls > 0 ? (usec * (calls - mine)) / calls : 0) / dt;
  }
  return out;
}

/** Whether two snapshots come from the same redis-server run (so their counters can be subtracted). */
export function sameRun(prev: RawShard | undefined, cur: RawShard): prev is RawShard & { info: InfoSections } {
  return !!prev?.info && !!cur.info && prev.info.server?.run_id === cur.info.server?.run_id;
}

/** The shard's metrics; rates only when `prev` is an earlier snapshot of the same process. */
export function shardMetrics(prev: RawShard | undefined, cur: RawShard, dt: number, classify: Classify): { values: MetricValues; req?: RequestRates } {
  const info = cur.info!;
  const v: MetricValues = {};
  const put = (metric: string, value: number | undefined) => {
    if (value !== undefined) v[metric] = value;
  };
  const ks = keyspace(info);
  put('aof_rewrite_inprog', num(info, 'persistence', 'aof_rewrite_in_progress'));
  put('avg_ttl', ks.avg_ttl);
  put('blocked_clients', num(info, 'clients', 'blocked_clients'));
  put('connected_clients', num(info, 'clients', 'connected_clients'));
  put('last_save_time', num(info, 'persistence', 'rdb_last_save_time'));
  put('mem_frag_ratio', num(info, 'memory', 'mem_fragmentation_ratio'));
  put('mem_not_counted_for_evict', num(info, 'memory', 'mem_not_counted_for_evict'));
  put('mem_size_lua', num(info, 'memory', 'used_memory_lua'));
  put('no_of_expires', ks.expires);
  put('no_of_keys', ks.keys);
  put('pubsub_channels', num(info, 'stats', 'pubsub_channels'));
  put('pubsub_patterns', num(info, 'stats', 'pubsub_patterns'));
  put('rdb_changes_since_last_save', num(info, 'persistence', 'rdb_changes_since_last_save'));
  put('used_memory', num(info, 'memory', 'used_memory'));
  put('used_memory_peak', num(info, 'memory', 'used_memory_peak'));
  put('used_memory_rss', num(info, 'memory', 'used_memory_rss'));
  put('sync_full', num(info, 'stats', 'sync_full'));
  put('sync_partial_ok', num(info, 'stats', 'sync_partial_ok'));
  put('sync_partial_err', num(info, 'stats', 'sync_partial_err'));
  if (!sameRun(prev, cur) || dt <= 0) return { values: v };

  const rate = (section: string, field: string) => {
    const now = num(info, section, field);
    return now === undefined ? undefined : increase(now, num(prev.info, section, field)) / dt;
  };
  put('evicted_objects', rate('stats', 'evicted_keys'));
  put('expired_objects', rate('stats', 'expired_keys'));
  put('read_hits', rate('stats', 'keyspace_hits'));
  put('read_misses', rate('stats', 'keyspace_misses'));
  put('fork_cpu_system', rate('cpu', 'used_cpu_sys_children'));
  put('fork_cpu_user', rate('cpu', 'used_cpu_user_children'));
  put('main_thread_cpu_system', rate('cpu', 'used_cpu_sys_main_thread'));
  put('main_thread_cpu_user', rate('cpu', 'used_cpu_user_main_thread'));
  put('shard_cpu_system', rate('cpu', 'used_cpu_sys'));
  put('shard_cpu_user', rate('cpu', 'used_cpu_user'));
  const req = requestRates(prev, cur, dt, classify);
  v.total_req = req.calls.read + req.calls.write + req.calls.other;
  return { values: v, req };
}
