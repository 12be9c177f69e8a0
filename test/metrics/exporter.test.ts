/**
 * The Prometheus exporter on a real node: scrapes over HTTPS parsed with a Prometheus text-format
 * parser, RS metric names and labels checked against the real scrape and the Grafana dashboard
 * metric lists, and values cross-checked after a known workload.
 */
import fs from 'node:fs';
import parse, { type Family } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { client, createBdb, shardsOf } from '../helpers/bdb.js';

const FIXTURES = '/work/shared/fixtures';
const fixture = (f: string) => fs.readFileSync(`${FIXTURES}/${f}`, 'utf8');
/** Metric names listed (one per line, name first) in a grafana metric list. */
const listed = (f: string) => new Set(fixture(f).split('\n').map((l) => /^([a-zA-Z_][a-zA-Z0-9_]*)[\s:{]/.exec(l)?.[1]).filter((x): x is string => !!x));

const N = 150;
let t: TestNode;
let port: number;
let bdb: any;
let shardUid: number;

beforeAll(async () => {
  t = await startTestNode();
  port = t.node.composed.metrics.port!;
  bdb = await createBdb(t, { name: 'metrics-db' });
  shardUid = (await shardsOf(t, bdb.uid))[0]!.uid;
  const c = client(bdb.endpoints[0].port);
  await c.connect();
  const p = c.pipeline();
  for (let i = 0; i < N; i++) p.set(`m${i}`, 'v');
  await p.exec();
  c.disconnect();
});
afterAll(async () => {
  await t?.close();
});

async function scrape(path: string): Promise<Map<string, Family>> {
  const r = await request(port, 'GET', path, { auth: null });
  expect(r.status, r.text).toBe(200);
  expect(String(r.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Map(parse(r.text).map((f) => [f.name, f]));
}
const value = (f: Family | undefined, labels: Record<string, string> = {}) =>
  Number(f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

describe('v1 (/metrics)', () => {
  it('serves the RS names and labels the dashboards use, with values from the live sample', async () => {
    const claimed = [
      'bdb_up', 'bdb_conns', 'bdb_used_memory', 'bdb_memory_limit', 'bdb_no_of_keys', 'bdb_total_req', 'bdb_total_req_max', 'bdb_write_req',
      'bdb_read_req', 'bdb_ingress_bytes', 'bdb_egress_bytes', 'bdb_evicted_objects', 'bdb_expired_objects', 'bdb_instantaneous_ops_per_sec',
      'bdb_mem_frag_ratio', 'bdb_shard_cpu_user', 'bdb_main_thread_cpu_user', 'bdb_fork_cpu_user', 'bdb_shards_used',
      'node_up', 'node_cpu_idle', 'node_cpu_user', 'node_cpu_user_max', 'node_cpu_user_median', 'node_cpu_user_min', 'node_cpu_system',
      'node_free_memory', 'node_available_memory', 'node_provisional_memory', 'node_provisional_memory_no_overbooking', 'node_conns',
      'node_total_req', 'node_ephemeral_storage_free', 'node_persistent_storage_avail', 'node_cur_aof_rewrites', 'node_cert_expiration_seconds',
      'listener_conns', 'listener_total_req', 'listener_ingress_bytes', 'listener_egress_bytes', 'listener_total_connections_received',
      'listener_acc_latency', 'listener_acc_write_latency', 'listener_acc_latency_max', 'listener_write_started_res', 'listener_total_started_res',
      'listener_last_req_time', 'listener_last_res_time', 'listener_monitor_sessions_count', 'listener_auth_cmds', 'listener_cmd_get',
      'redis_up', 'redis_used_memory', 'redis_connected_clients', 'redis_blocked_clients', 'redis_db0_keys', 'redis_evicted_keys',
      'redis_expired_keys', 'redis_keyspace_read_hits', 'redis_keyspace_read_misses', 'redis_total_commands_processed',
      'redis_total_connections_received', 'redis_total_net_input_bytes', 'redis_mem_fragmentation_ratio', 'redis_maxmemory',
      'redis_master_repl_offset', 'redis_rdb_bgsave_in_progress', 'redis_process_cpu_usage_percent', 'redis_process_cpu_user_seconds_total',
      'redis_allocator_allocated', 'redis_connected_slaves',
    ];
    // Some figures are rates, present from the second sample on: wait for a scrape with all of them.
    const fams = await waitFor(async () => {
      const m = await scrape('/metrics');
      return value(m.get('bdb_no_of_keys'), { bdb: String(bdb.uid) }) === N && m.has('listener_total_req') && claimed.every((n) => m.has(n)) ? m : undefined;
    }, { timeoutMs: 10_000, what: 'a scrape with the workload' }).catch(() => scrape('/metrics')); // then the checks below name what is missing
    // Every name we claim is an RS v1 name: in the real scrape or the Grafana dashboards' lists.
    const known = new Set([
      // (its HELP lines are empty, which the strict parser refuses: read the sample lines)
      ...[...fixture('integrations-extras/prometheus_8070_metrics.txt').matchAll(/^([a-zA-Z_][a-zA-Z0-9_]*)[{ ]/gm)].map((m) => m[1]!),
      ...['cluster', 'database', 'node', 'proxy', 'shard'].flatMap((k) => [...listed(`redis-enterprise-observability/grafana_metrics_${k}.txt`)]),
    ]);
    for (const name of claimed) {
      expect(known.has(name), `${name} is an RS metric`).toBe(true);
      expect(fams.has(name), `${name} is exported`).toBe(true);
      expect(fams.get(name)!.type).toBe('GAUGE');
    }
    const cluster = 'cluster.test.local';
    const b = String(bdb.uid);
    expect(fams.get('bdb_used_memory')!.metrics[0]!.labels).toEqual({ bdb: b, cluster });
    expect(value(fams.get('bdb_memory_limit'), { bdb: b })).toBe(bdb.memory_size);
    // As in the real scrape: bdb_up{bdb,cluster,status}; bdb_name only when the policy asks for it (below).
    expect(fams.get('bdb_up')!.metrics[0]!.labels).toEqual({ bdb: b, cluster, status: 'active' });
    expect(fams.get('node_cpu_idle')!.metrics[0]!.labels).toEqual({ cluster, node: '1' });
    expect(fams.get('listener_conns')!.metrics[0]!.labels).toEqual({ bdb: b, cluster, endpoint: `${b}:1`, node: '1', port: String(bdb.endpoints[0].port), proxy: `${b}:1:1` });
    const redisLabels = { bdb: b, cluster, node: '1', redis: String(shardUid), role: 'master', slots: '0-16383', status: 'active' };
    expect(fams.get('redis_up')!.metrics[0]).toEqual({ labels: redisLabels, value: '1' });
    expect(value(fams.get('redis_db0_keys'), { redis: String(shardUid) })).toBe(N);
    // As in the real scrape: the process series have no status label (their identity stays when it flips).
    const { status: _s, ...procLabels } = redisLabels;
    for (const name of ['redis_process_resident_memory_bytes', 'redis_process_cpu_user_seconds_total']) expect(fams.get(name)!.metrics[0]!.labels).toEqual(procLabels);
    const cpuIdle = value(fams.get('node_cpu_idle'));
    expect(cpuIdle).toBeGreaterThanOrEqual(0);
    expect(cpuIdle).toBeLessThanOrEqual(1);
    // Latencies in seconds, the endpoint's as the database's (the stats API has µs): well under a second here.
    for (const name of ['bdb_avg_latency', 'listener_avg_latency']) if (fams.has(name)) expect(value(fams.get(name))).toBeLessThan(0.5);
    // The endpoint's last request: seconds since the epoch, seconds ago.
    expect(Date.now() / 1000 - value(fams.get('listener_last_req_time'))).toBeLessThan(60);
    // `/` is the same v1 endpoint (RS's default metrics_path).
    expect((await scrape('/')).has('bdb_up')).toBe(true);
  });
});

describe('metrics_exporter_expose_bdb_name (cluster policy)', () => {
  it('adds the database name label only while it is true', async () => {
    const hasName = async () => {
      const v1 = (await scrape('/metrics')).get('bdb_up')!.metrics[0]!.labels ?? {};
      const v2 = (await scrape('/v2')).get('db_config')!.metrics[0]!.labels ?? {};
      return [v1.bdb_name, v2.db_name];
    };
    expect((await t.req('GET', '/v1/cluster/policy')).json.metrics_exporter_expose_bdb_name).toBe(false);
    expect(await hasName()).toEqual([undefined, undefined]);
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { metrics_exporter_expose_bdb_name: true } })).status).toBe(200);
    expect(await hasName()).toEqual(['metrics-db', 'metrics-db']);
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { metrics_exporter_expose_bdb_name: false } })).status).toBe(200);
    expect(await hasName()).toEqual([undefined, undefined]);
  });
});

describe('v2 (/v2, /v2/node)', () => {
  it('serves the v2 names with cluster/db/node/redis/role labels and cumulative counters', async () => {
    const fams = await waitFor(async () => {
      const m = await scrape('/v2');
      return value(m.get('endpoint_write_requests'), { db: String(bdb.uid) }) >= N ? m : undefined;
    }, { timeoutMs: 10_000, what: 'v2 endpoint counters' });
    const claimed = [
      'redis_server_up', 'redis_server_used_memory', 'redis_server_db_keys', 'redis_server_db0_keys', 'redis_server_connected_clients',
      'redis_server_evicted_keys', 'redis_server_expired_keys', 'redis_server_keyspace_read_hits', 'redis_server_total_commands_processed',
      'redis_server_maxmemory', 'redis_server_master_link_status', 'redis_server_mem_fragmentation_ratio', 'redis_server_master_repl_offset',
      'db_status', 'db_config', 'db_memory_limit_bytes', 'endpoint_ingress', 'endpoint_egress', 'endpoint_client_connections',
      'endpoint_read_requests', 'endpoint_write_requests', 'endpoint_other_requests',
      'node_metrics_up', 'node_available_memory_bytes', 'node_memory_MemFree_bytes', 'node_persistent_storage_free_bytes',
      'node_ephemeral_storage_avail_bytes', 'node_provisional_memory_bytes', 'node_cert_expires_in_seconds',
      'namedprocess_namegroup_cpu_seconds_total', 'namedprocess_namegroup_memory_bytes', 'users_count', 'license_expiration_days',
      'total_node_count', 'total_live_nodes_count',
    ];
    const known = new Set(['cluster', 'database', 'node', 'replication', 'shard'].flatMap((k) => [...listed(`redis-enterprise-observability/grafana_v2_metrics_${k}.txt`)]));
    // Names the v2 reference table has and the grafana lists lack.
    for (const extra of ['redis_server_db_keys', 'endpoint_read_requests', 'endpoint_write_requests', 'endpoint_other_requests', 'users_count', 'license_expiration_days', 'node_cert_expires_in_seconds', 'namedprocess_namegroup_cpu_seconds_total', 'namedprocess_namegroup_memory_bytes']) known.add(extra);
    for (const name of claimed) {
      expect(known.has(name), `${name} is an RS v2 metric`).toBe(true);
      expect(fams.has(name), `${name} is exported`).toBe(true);
    }
    const b = String(bdb.uid);
    expect(fams.get('endpoint_write_requests')!.type).toBe('COUNTER');
    expect(value(fams.get('endpoint_write_requests'), { db: b })).toBe(N);
    expect(fams.get('redis_server_used_memory')!.metrics[0]!.labels).toEqual({ cluster: 'cluster.test.local', node: '1', db: b, redis: String(shardUid), role: 'master' });
    expect(value(fams.get('redis_server_db_keys'), { db: b })).toBe(N);
    expect(value(fams.get('db_status'), { db: b })).toBe(0);
    expect(fams.get('db_config')!.metrics[0]!.labels).toMatchObject({ db: b, db_port: String(bdb.endpoints[0].port), tls_mode: 'disabled' });
    expect(fams.get('db_config')!.metrics[0]!.labels).not.toHaveProperty('db_name');
    expect(value(fams.get('redis_server_master_link_status'))).toBe(3);
    expect(value(fams.get('endpoint_ingress'), { db: b })).toBeGreaterThan(N * 20);
  });

  it('/v2/node omits the cluster and node labels; other paths are 404', async () => {
    const fams = await scrape('/v2/node');
    expect(fams.has('redis_server_up')).toBe(true);
    for (const f of fams.values()) for (const m of f.metrics) expect(m.labels ?? {}).not.toHaveProperty('cluster');
    expect(fams.get('node_metrics_up')!.metrics[0]!.labels ?? {}).toEqual({});
    expect((await request(port, 'GET', '/nope', { auth: null })).status).toBe(404);
    expect((await request(port, 'POST', '/metrics', { auth: null })).status).toBe(405);
  });
});
