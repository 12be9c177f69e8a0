/**
 * The v1 exporter (`/` and `/metrics`): RS's names and labels as in the real scrape
 * fixtures/integrations-extras/prometheus_8070_metrics.txt — bdb_*{bdb,cluster},
 * node_*{cluster,node}, listener_*{bdb,cluster,endpoint,node,port,proxy},
 * redis_*{bdb,cluster,node,redis,role,slots,status}. Values are the newest 1-second sample; the
 * `_max` (and for nodes `_min`/`_median`) twins are taken over the retained 1sec entries.
 * v1 latencies are in seconds (the grafana metric list), the stats API's in microseconds.
 */
import type { MetricValues } from '../stats/intervals.js';
import type { StatsKind } from '../stats/rollup.js';
import { Exposition, type Labels } from './exposition.js';
import type { ScrapeContext } from './scrape-context.js';
import { shardSamples } from './shard-fields.js';

const BDB_WITH_MAX = new Set([
  'egress_bytes', 'evicted_objects', 'expired_objects', 'fork_cpu_system', 'fork_cpu_user', 'ingress_bytes', 'main_thread_cpu_system',
  'main_thread_cpu_user', 'other_req', 'other_res', 'pubsub_channels', 'pubsub_patterns', 'read_hits', 'read_misses', 'read_req', 'read_res',
  'shard_cpu_system', 'shard_cpu_user', 'total_connections_received', 'total_req', 'total_res', 'write_req', 'write_res',
  'avg_latency', 'avg_read_latency', 'avg_write_latency', 'avg_other_latency',
]);
const NODE_WITH_SPREAD = new Set(['cpu_idle', 'cpu_iowait', 'cpu_irqs', 'cpu_nice', 'cpu_steal', 'cpu_system', 'cpu_user', 'egress_bytes', 'ingress_bytes']);
const LISTENER_WITH_MAX = new Set(['egress_bytes', 'ingress_bytes', 'total_connections_received', 'max_connections_exceeded',
  'read_req', 'read_res', 'write_req', 'write_res', 'other_req', 'other_res', 'total_req', 'total_res',
  'acc_latency', 'acc_read_latency', 'acc_write_latency', 'acc_other_latency',
  'read_started_res', 'write_started_res', 'other_started_res', 'total_started_res',
  'auth_cmds', 'auth_errors', 'cmd_flush', 'cmd_get', 'cmd_set', 'cmd_touch']);
/** Latencies (averages and sums): µs in the stats, seconds here. */
const LATENCY = /^(avg|acc)_.*latency$/;
/** RS timestamps in the stats, seconds since the epoch here (0: none yet). */
const TIMESTAMPS = ['last_req_time', 'last_res_time'];

function series(ctx: ScrapeContext, kind: StatsKind, uid: string, metric: string): number[] {
  return ctx.store.entries(kind, uid, '1sec').map((e) => e[metric]).filter((v): v is number => typeof v === 'number');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function numbers(v: MetricValues): [string, number][] {
  return Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number');
}

export function v1Exposition(ctx: ScrapeContext): Exposition {
  const exp = new Exposition();
  const cluster = ctx.cluster;
  const d = ctx.latest?.derived;
  const snap = ctx.latest?.snapshot;

  for (const b of ctx.bdbs) {
    const labels = { bdb: String(b.uid), cluster };
    // As in the real scrape: no bdb_name unless the policy exposes names.
    const name: Labels = ctx.exposeBdbName ? { bdb_name: b.name } : {};
    exp.add('bdb_up', 'Database is up and running', { ...labels, ...name, status: b.status ?? 'active' }, b.status === 'active' || b.status === undefined ? 1 : 0);
    exp.add('bdb_memory_limit', 'Configured RAM limit for the database', labels, b.memory_size);
    exp.add('bdb_shards_used', 'Shards used by the database', { ...labels, shard_type: 'ram' }, snap?.shards.filter((s) => s.bdb_uid === b.uid).length);
    for (const [m, raw] of numbers(d?.bdbs.get(b.uid) ?? {})) {
      const scale = LATENCY.test(m) ? 1e-6 : 1;
      exp.add(`bdb_${m}`, `Database ${m.replace(/_/g, ' ')}`, labels, raw * scale);
      const recent = series(ctx, 'bdb', String(b.uid), m);
      if (BDB_WITH_MAX.has(m) && recent.length) exp.add(`bdb_${m}_max`, `Highest value of database ${m.replace(/_/g, ' ')}`, labels, Math.max(...recent) * scale);
    }
  }

  for (const n of ctx.nodes) {
    const labels = { cluster, node: String(n.uid) };
    exp.add('node_up', 'Node is part of the cluster and is connected', { addr: n.addr, cluster, cnm_version: ctx.softwareVersion, node: String(n.uid) }, 1);
    for (const [m, v] of numbers(d?.nodes.get(n.uid) ?? {})) {
      exp.add(`node_${m}`, `Node ${m.replace(/_/g, ' ')}`, labels, v);
      const recent = series(ctx, 'node', String(n.uid), m);
      if (!NODE_WITH_SPREAD.has(m) || !recent.length) continue;
      exp.add(`node_${m}_max`, `Highest value of node ${m.replace(/_/g, ' ')}`, labels, Math.max(...recent));
      exp.add(`node_${m}_min`, `Lowest value of node ${m.replace(/_/g, ' ')}`, labels, Math.min(...recent));
      exp.add(`node_${m}_median`, `Median value of node ${m.replace(/_/g, ' ')}`, labels, median(recent));
    }
    for (const [name, secs] of Object.entries(ctx.certificates)) {
      exp.add('node_cert_expiration_seconds', 'Seconds until the certificate expires', { cluster, logical_name: name, node: String(n.uid) }, secs);
    }
  }

  for (const e of snap?.endpoints ?? []) {
    const b = ctx.bdbs.find((x) => x.uid === e.bdb_uid);
    const proxy = `${e.uid}:${e.node_uid}`;
    const labels: Labels = { bdb: String(e.bdb_uid), cluster, endpoint: e.uid, node: String(e.node_uid), port: String(b?.endpoint_port ?? ''), proxy };
    const ev = d?.endpoints.get(proxy) ?? {};
    for (const m of TIMESTAMPS) {
      const at = ev[m];
      if (typeof at === 'string') exp.add(`listener_${m}`, `Time of the endpoint's ${m.startsWith('last_req') ? 'last request' : 'last response'} (s since the epoch)`, labels, Math.max(0, Date.parse(at) / 1000));
    }
    for (const [m, v] of numbers(ev)) {
      // Latencies in seconds, as the bdb ones (the stats API keeps µs).
      const scale = LATENCY.test(m) ? 1e-6 : 1;
      exp.add(`listener_${m}`, `Endpoint ${m.replace(/_/g, ' ')}`, labels, v * scale);
      const recent = series(ctx, 'endpoint', proxy, m);
      if (LISTENER_WITH_MAX.has(m) && recent.length) exp.add(`listener_${m}_max`, `Highest value of endpoint ${m.replace(/_/g, ' ')}`, labels, Math.max(...recent) * scale);
    }
  }

  for (const s of snap?.shards ?? []) {
    const labels = { bdb: String(s.bdb_uid), cluster, node: String(s.node_uid), redis: String(s.uid), role: s.role, slots: s.assigned_slots, status: s.info ? 'active' : 'inactive' };
    shardSamples(exp, 'redis_', labels, s.info);
    const sv = d?.shards.get(s.uid);
    if (typeof sv?.shard_cpu_user === 'number' && typeof sv.shard_cpu_system === 'number') {
      const { status: _status, ...proc } = labels;
      exp.add('redis_process_cpu_usage_percent', 'Shard process CPU usage (%)', proc, (sv.shard_cpu_user + sv.shard_cpu_system) * 100);
    }
  }

  if (ctx.license?.shardsLimit !== undefined) exp.add('cluster_shards_limit', 'Shards allowed by the license', { cluster, shard_type: 'ram' }, ctx.license.ramShardsLimit ?? ctx.license.shardsLimit);
  return exp;
}
