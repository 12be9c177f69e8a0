/**
 * From two raw snapshots to the metrics of every object: shards (INFO), endpoints (proxy
 * counters), databases (their shards and endpoint combined as db-metrics.md defines), nodes
 * (/proc) and the cluster (node sums). Pure, so rollups and alerts are testable without
 * processes. Rates use whole seconds between snapshots (the sampler ticks on second
 * boundaries), so a rate times its entry's length is the exact count.
 */
import type { EndpointStats } from '../proxy/protocol.js';
import { rsTime } from '../util/clock.js';
import type { MetricValues } from './intervals.js';
import type { Classify, CommandClass, RawSnapshot } from './raw.js';
import { num, shardMetrics, type RequestRates } from './derive-shard.js';
import { clusterMetrics, nodeMetrics } from './derive-node.js';

export interface Derived {
  /** Whole seconds since the previous snapshot (0 for the first one). */
  seconds: number;
  cluster: MetricValues;
  nodes: Map<number, MetricValues>;
  bdbs: Map<number, MetricValues>;
  shards: Map<number, MetricValues>;
  /** By RS endpoint-stats uid, `BDB_UID:ENDPOINT_UID:PROXY_UID` (one proxy per node: its uid). */
  endpoints: Map<string, MetricValues>;
}

/** db-metrics.md: last_req_time / last_res_time "Returns 1/1/1970 when unavailable". */
export const UNAVAILABLE_TIME = '1970-01-01T00:00:00Z';

const CLASSES: CommandClass[] = ['read', 'write', 'other'];
const ZERO: EndpointStats = { total_connections: 0, current_connections: 0, refused_connections: 0, bytes_in: 0, bytes_out: 0 };

/** Per-second requests, matched replies and their µs by class, from the proxy's per-command counters. */
interface ProxyRequests { req: Record<CommandClass, number>; res: Record<CommandClass, number>; usec: Record<CommandClass, number> }

function endpointRates(prev: EndpointStats | undefined, cur: EndpointStats, dt: number, classify: Classify): { values: MetricValues; req?: ProxyRequests } {
  const v: MetricValues = { conns: cur.current_connections };
  if (!prev || dt <= 0) return { values: v };
  const inc = (a: number, b: number) => (a >= b ? a - b : a) / dt;
  v.ingress_bytes = inc(cur.bytes_in, prev.bytes_in);
  v.egress_bytes = inc(cur.bytes_out, prev.bytes_out);
  v.total_connections_received = inc(cur.total_connections, prev.total_connections);
  v.max_connections_exceeded = inc(cur.refused_connections, prev.refused_connections);
  if (!cur.commands) return { values: v };
  // Rates per command name, then classified: a name learned late does not move past counts.
  const r: ProxyRequests = { req: { read: 0, write: 0, other: 0 }, res: { read: 0, write: 0, other: 0 }, usec: { read: 0, write: 0, other: 0 } };
  const before = prev.commands ?? {};
  // Counters that went down: the proxy restarted, so everything counts from zero.
  const reset = Object.entries(before).some(([n, c]) => (cur.commands![n]?.[0] ?? 0) < c[0]);
  for (const [name, [calls, res, usec]] of Object.entries(cur.commands)) {
    const was = reset ? undefined : before[name];
    const cls = classify(name);
    r.req[cls] += (calls - (was?.[0] ?? 0)) / dt;
    r.res[cls] += (res - (was?.[1] ?? 0)) / dt;
    r.usec[cls] += Math.max(0, usec - (was?.[2] ?? 0)) / dt;
  }
  Object.assign(v, proxyRequestMetrics([r]), endpointOnlyMetrics(r, cur));
  return { values: v, req: r };
}

/** The endpoint stats' own figures (requests/endpoints-stats): latency sums, started replies, memcached counters, monitors. */
function endpointOnlyMetrics(r: ProxyRequests, cur: EndpointStats): MetricValues {
  const v: MetricValues = {};
  let usec = 0;
  let res = 0;
  for (const c of CLASSES) {
    // µs summed over the interval's replies (per second, as every rate here): ÷ <class>_res is the average.
    v[`acc_${c}_latency`] = r.usec[c];
    // The proxy forwards a reply once it has it whole: every reply started is a reply sent.
    v[`${c}_started_res`] = r.res[c];
    usec += r.usec[c];
    res += r.res[c];
  }
  v.acc_latency = usec;
  v.total_started_res = res;
  // Memcached-protocol counters: openrs serves Redis databases only.
  for (const m of ['auth_cmds', 'auth_errors', 'cmd_get', 'cmd_set', 'cmd_flush', 'cmd_touch']) v[m] = 0;
  v.monitor_sessions_count = cur.monitor_sessions ?? 0;
  Object.assign(v, lastTimes([cur]));
  return v;
}

/** last_req_time / last_res_time (RS timestamps) from the proxy's counters; 1/1/1970 when none moved yet. */
function lastTimes(list: EndpointStats[]): MetricValues {
  const at = (ms: number) => (ms > 0 ? rsTime(new Date(ms)) : UNAVAILABLE_TIME);
  return {
    last_req_time: at(Math.max(0, ...list.map((e) => e.last_req_ms ?? 0))),
    last_res_time: at(Math.max(0, ...list.map((e) => e.last_res_ms ?? 0))),
  };
}

/** Request figures measured at the proxy (db-metrics.md: requests and latency of the endpoints). */
function proxyRequestMetrics(list: ProxyRequests[]): MetricValues {
  const v: MetricValues = {};
  let req = 0;
  let res = 0;
  let usec = 0;
  for (const c of CLASSES) {
    const n = list.reduce((s, r) => s + r.req[c], 0);
    const m = list.reduce((s, r) => s + r.res[c], 0);
    const t = list.reduce((s, r) => s + r.usec[c], 0);
    v[`${c}_req`] = n;
    v[`${c}_res`] = m;
    // "Only returned when there is traffic": request to reply at the proxy, µs.
    if (m > 0) v[`avg_${c}_latency`] = t / m;
    req += n;
    res += m;
    usec += t;
  }
  v.total_req = req;
  v.total_res = res;
  if (res > 0) v.avg_latency = usec / res;
  return v;
}

function sum(list: MetricValues[], metric: string): number | undefined {
  const present = list.map((v) => v[metric]).filter((x): x is number => typeof x === 'number');
  return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}

/** Request figures of a database from its master shards' request rates. */
function requestMetrics(rates: RequestRates[]): MetricValues {
  if (rates.length === 0) return {};
  const v: MetricValues = {};
  let calls = 0;
  let usec = 0;
  for (const c of CLASSES) {
    const n = rates.reduce((s, r) => s + r.calls[c], 0);
    const t = rates.reduce((s, r) => s + r.usec[c], 0);
    // Redis answers every command it runs: responses equal requests.
    v[`${c}_req`] = n;
    v[`${c}_res`] = n;
    // "Only returned when there is traffic": Redis's own execution time per call (µs).
    if (n > 0) v[`avg_${c}_latency`] = t / n;
    calls += n;
    usec += t;
  }
  v.total_req = calls;
  v.total_res = calls;
  if (calls > 0) v.avg_latency = usec / calls;
  return v;
}

export function derive(prev: RawSnapshot | undefined, cur: RawSnapshot, classify: Classify): Derived {
  const seconds = prev ? Math.max(0, Math.round((cur.time - prev.time) / 1000)) : 0;
  const out: Derived = { seconds, cluster: {}, nodes: new Map(), bdbs: new Map(), shards: new Map(), endpoints: new Map() };

  const shardReq = new Map<number, RequestRates>();
  for (const s of cur.shards) {
    if (!s.info) continue;
    // A shard that first shows up now is new: its counters started at zero (those of one that
    // was there but silent are not subtracted across the gap).
    const before = prev?.shards.find((p) => p.uid === s.uid) ?? (prev ? { ...s, info: { server: { ...s.info.server } }, own: {} } : undefined);
    const r = shardMetrics(before, s, seconds, classify);
    out.shards.set(s.uid, r.values);
    if (r.req) shardReq.set(s.uid, r.req);
  }

  const epByBdb = new Map<number, MetricValues[]>();
  const epReq = new Map<number, ProxyRequests[]>();
  for (const e of cur.endpoints) {
    if (!e.stats) continue;
    // The proxy's counters of an endpoint start at zero when it is set up (or the proxy starts).
    const before = prev ? (prev.endpoints.find((p) => p.uid === e.uid)?.stats ?? ZERO) : undefined;
    const { values: v, req } = endpointRates(before, e.stats, seconds, classify);
    out.endpoints.set(`${e.uid}:${e.node_uid}`, v);
    epByBdb.set(e.bdb_uid, [...(epByBdb.get(e.bdb_uid) ?? []), v]);
    if (req) epReq.set(e.bdb_uid, [...(epReq.get(e.bdb_uid) ?? []), req]);
  }

  for (const b of cur.bdbs) {
    const all = cur.shards.filter((s) => s.bdb_uid === b.uid && s.info);
    const masters = all.filter((s) => s.role === 'master');
    const allV = all.map((s) => out.shards.get(s.uid)!);
    const masterV = masters.map((s) => out.shards.get(s.uid)!);
    const v: MetricValues = {};
    const put = (m: string, x: number | undefined) => {
      if (x !== undefined) v[m] = x;
    };
    const eps = epByBdb.get(b.uid) ?? [];
    for (const m of ['conns', 'ingress_bytes', 'egress_bytes', 'total_connections_received']) put(m, sum(eps, m));
    for (const m of ['evicted_objects', 'expired_objects', 'no_of_expires', 'no_of_keys', 'pubsub_channels', 'pubsub_patterns', 'read_hits', 'read_misses']) {
      put(m, sum(masterV, m));
    }
    // Used memory includes replication (metrics/resource-usage.md), so every shard counts.
    for (const m of ['used_memory', 'mem_size_lua', 'mem_not_counted_for_evict', 'fork_cpu_system', 'fork_cpu_user',
      'main_thread_cpu_system', 'main_thread_cpu_user', 'shard_cpu_system', 'shard_cpu_user']) put(m, sum(allV, m));
    const frag = allV.map((x) => x.mem_frag_ratio).filter((x): x is number => typeof x === 'number');
    if (frag.length) v.mem_frag_ratio = frag.reduce((a, c) => a + c, 0) / frag.length;
    put('instantaneous_ops_per_sec', masters.length ? masters.reduce((s, m) => s + (num(m.info, 'stats', 'instantaneous_ops_per_sec') ?? 0), 0) : undefined);
    // Requests and latency as RS measures them, at the proxy; the masters' commandstats when no
    // proxy counts requests (its stats unavailable, or a proxy without request counters).
    const proxied = epReq.get(b.uid);
    Object.assign(v, proxied ? proxyRequestMetrics(proxied) : requestMetrics(masters.map((m) => shardReq.get(m.uid)).filter((r): r is RequestRates => !!r)));
    if (all.length) Object.assign(v, lastTimes(cur.endpoints.filter((e) => e.bdb_uid === b.uid && e.stats).map((e) => e.stats!)));
    out.bdbs.set(b.uid, v);
  }

  // The single endpoint of a database carries its request figures too.
  for (const e of cur.endpoints) {
    const ev = out.endpoints.get(`${e.uid}:${e.node_uid}`);
    const bv = out.bdbs.get(e.bdb_uid);
    if (!ev || !bv || typeof ev.total_req === 'number') continue;
    for (const m of ['read_req', 'read_res', 'write_req', 'write_res', 'other_req', 'other_res', 'total_req', 'total_res']) {
      if (typeof bv[m] === 'number') ev[m] = bv[m];
    }
  }

  const nodeList: { cores: number; values: MetricValues }[] = [];
  for (const n of cur.nodes) {
    const eps = cur.endpoints.filter((e) => e.node_uid === n.uid);
    const epV = eps.map((e) => out.endpoints.get(`${e.uid}:${e.node_uid}`)).filter((x): x is MetricValues => !!x);
    const bdbV = [...new Set(eps.map((e) => e.bdb_uid))].map((u) => out.bdbs.get(u)).filter((x): x is MetricValues => !!x);
    const values = nodeMetrics(prev?.nodes.find((p) => p.uid === n.uid), n, seconds,
      cur.shards.filter((s) => s.node_uid === n.uid), sum(epV, 'conns') ?? (eps.length ? undefined : 0), sum(bdbV, 'total_req') ?? (eps.length ? undefined : 0));
    out.nodes.set(n.uid, values);
    nodeList.push({ cores: n.cores, values });
  }
  out.cluster = clusterMetrics(nodeList);
  return out;
}
