/**
 * The v2 exporter (`/v2`, and `/v2/node` without the cluster and node labels): names of the v2
 * reference (metrics/prometheus-metrics-v2, fixtures grafana_v2_metrics_*.txt), labels
 * cluster, node, db, redis (shard), role. v2 reports cumulative counters where v1 reported
 * rates: endpoint traffic comes from the proxy's counters, requests from the master shards'
 * commandstats (since each shard started).
 */
import { fields } from '../stats/derive-shard.js';
import type { RawShard } from '../stats/raw.js';
import { Exposition, type Labels } from './exposition.js';
import { DB_STATUS, type ScrapeContext } from './scrape-context.js';
import { shardSamples } from './shard-fields.js';

/** Cumulative calls per class of the shard's commandstats (management commands count as other). */
function requestTotals(s: RawShard, classify: (name: string) => 'read' | 'write' | 'other'): Record<'read' | 'write' | 'other', number> {
  const out = { read: 0, write: 0, other: 0 };
  for (const [k, line] of Object.entries(s.info?.commandstats ?? {})) {
    if (!k.startsWith('cmdstat_')) continue;
    const f = fields(line);
    out[classify(k.slice('cmdstat_'.length))] += (f.calls ?? 0) + (f.rejected_calls ?? 0);
  }
  return out;
}

export function v2Exposition(ctx: ScrapeContext, opts: { nodeOnly: boolean; classify: (name: string) => 'read' | 'write' | 'other' }): Exposition {
  const exp = new Exposition();
  const base = (node?: number): Labels => (opts.nodeOnly ? {} : { cluster: ctx.cluster, ...(node !== undefined ? { node: String(node) } : {}) });
  const snap = ctx.latest?.snapshot;
  const d = ctx.latest?.derived;

  for (const b of ctx.bdbs) {
    const master = snap?.shards.find((s) => s.bdb_uid === b.uid && s.role === 'master');
    const labels = { ...base(master?.node_uid), db: String(b.uid) };
    exp.add('db_status', 'Database status: 0 active, 1 active-change-pending, 2 pending, 3 import-pending, 4 delete-pending, 5 recovery, 99 unknown',
      labels, DB_STATUS[b.status ?? 'active'] ?? 99);
    exp.add('db_config', 'Database configuration in labels', {
      ...labels, ...(ctx.exposeBdbName ? { db_name: b.name } : {}), db_version: String(b.redis_version ?? b.version ?? ''), db_port: String(b.endpoint_port), tls_mode: String(b.tls_mode ?? 'disabled'),
    }, 1);
    exp.add('db_memory_limit_bytes', 'Configured memory limit for the database', labels, b.memory_size);
    exp.add('db_replication_factor', 'Copies of the data (1 without replication)', labels, b.replication ? 2 : 1);

    const ep = snap?.endpoints.find((e) => e.bdb_uid === b.uid);
    if (ep?.stats) {
      const el = { ...base(ep.node_uid), db: String(b.uid), endpoint: ep.uid };
      exp.add('endpoint_client_connections', 'Client connection establishment events', el, ep.stats.total_connections, 'counter');
      exp.add('endpoint_accepted_connections', 'Incoming accepted client connections', el, ep.stats.total_connections + ep.stats.refused_connections, 'counter');
      exp.add('endpoint_ingress', 'Ingress bytes', el, ep.stats.bytes_in, 'counter');
      exp.add('endpoint_egress', 'Egress bytes', el, ep.stats.bytes_out, 'counter');
      const rate = d?.endpoints.get(`${ep.uid}:${ep.node_uid}`)?.total_connections_received;
      if (typeof rate === 'number') exp.add('endpoint_connections_rate', 'Rate of incoming connections (connections/second)', el, rate);
      const masters = snap!.shards.filter((s) => s.bdb_uid === b.uid && s.role === 'master' && s.info).map((s) => requestTotals(s, opts.classify));
      if (masters.length) {
        for (const c of ['read', 'write', 'other'] as const) {
          const total = masters.reduce((sum, m) => sum + m[c], 0);
          exp.add(`endpoint_${c}_requests`, `Number of ${c} requests`, el, total, 'counter');
          exp.add(`endpoint_${c}_responses`, `Number of ${c} responses`, el, total, 'counter');
        }
      }
    }
  }

  for (const s of snap?.shards ?? []) {
    const labels = { ...base(s.node_uid), db: String(s.bdb_uid), redis: String(s.uid), role: s.role };
    shardSamples(exp, 'redis_server_', labels, s.info);
    if (!s.info) continue;
    const cpu = (f: string) => Number(s.info!.cpu?.[f] ?? NaN);
    const group = { ...labels, groupname: `redis-${s.uid}` };
    exp.add('namedprocess_namegroup_cpu_seconds_total', 'Shard process CPU time (seconds)', { ...group, mode: 'user' }, cpu('used_cpu_user'), 'counter');
    exp.add('namedprocess_namegroup_cpu_seconds_total', 'Shard process CPU time (seconds)', { ...group, mode: 'system' }, cpu('used_cpu_sys'), 'counter');
    exp.add('namedprocess_namegroup_thread_cpu_seconds_total', 'Shard main thread CPU time (seconds)', { ...group, mode: 'user', threadname: 'main' }, cpu('used_cpu_user_main_thread'), 'counter');
    exp.add('namedprocess_namegroup_thread_cpu_seconds_total', 'Shard main thread CPU time (seconds)', { ...group, mode: 'system', threadname: 'main' }, cpu('used_cpu_sys_main_thread'), 'counter');
    exp.add('namedprocess_namegroup_memory_bytes', 'Shard memory size (bytes)', { ...group, memtype: 'resident' }, Number(s.info.memory?.used_memory_rss ?? NaN));
    const uptime = Number(s.info.server?.uptime_in_seconds ?? NaN);
    exp.add('namedprocess_namegroup_oldest_start_time_seconds', 'Shard start time (unix seconds)', group, ctx.now - uptime);
  }

  for (const n of ctx.nodes) {
    const labels = base(n.uid);
    const v = d?.nodes.get(n.uid) ?? {};
    const raw = snap?.nodes.find((r) => r.uid === n.uid);
    const put = (name: string, help: string, metric: string) => {
      if (typeof v[metric] === 'number') exp.add(name, help, labels, v[metric] as number);
    };
    exp.add('node_metrics_up', 'Node is part of the cluster and is connected', labels, 1);
    put('node_available_memory_bytes', 'Free memory available for database provisioning (bytes)', 'available_memory');
    put('node_available_memory_no_overbooking_bytes', 'Available RAM without overbooking (bytes)', 'available_memory_no_overbooking');
    put('node_provisional_memory_bytes', 'RAM available for new shards (bytes)', 'provisional_memory');
    put('node_provisional_memory_no_overbooking_bytes', 'RAM available for new shards without overbooking (bytes)', 'provisional_memory_no_overbooking');
    put('node_available_flash_bytes', 'Available flash (bytes)', 'available_flash');
    put('node_available_flash_no_overbooking_bytes', 'Available flash without overbooking (bytes)', 'available_flash_no_overbooking');
    put('node_provisional_flash_bytes', 'Flash available for new shards (bytes)', 'provisional_flash');
    put('node_provisional_flash_no_overbooking_bytes', 'Flash available for new shards without overbooking (bytes)', 'provisional_flash_no_overbooking');
    put('node_ephemeral_storage_avail_bytes', 'Disk space available on the ephemeral path (bytes)', 'ephemeral_storage_avail');
    put('node_ephemeral_storage_free_bytes', 'Free disk space on the ephemeral path (bytes)', 'ephemeral_storage_free');
    put('node_persistent_storage_avail_bytes', 'Disk space available on the persistent path (bytes)', 'persistent_storage_avail');
    put('node_persistent_storage_free_bytes', 'Free disk space on the persistent path (bytes)', 'persistent_storage_free');
    if (raw) exp.add('node_memory_MemFree_bytes', 'Free memory in the node (bytes)', labels, raw.memory.free);
    for (const [name, secs] of Object.entries(ctx.certificates)) exp.add('node_cert_expires_in_seconds', 'Seconds until the certificate expires', { ...labels, logical_name: name }, secs);
  }

  if (!opts.nodeOnly) {
    const cl = { cluster: ctx.cluster };
    exp.add('users_count', 'Current number of users on the cluster', cl, ctx.usersCount);
    // The name of the metric list of redis-enterprise-observability (fixtures grafana_v2_metrics_cluster.txt).
    exp.add('total_node_count', 'Number of nodes', cl, ctx.nodes.length);
    exp.add('total_live_nodes_count', 'Number of live nodes', cl, ctx.nodes.length);
    for (const n of ctx.nodes) exp.add('is_primary', 'primary = 1, secondary = 0', { ...cl, node: String(n.uid) }, n.uid === ctx.nodes[0]?.uid ? 1 : 0);
    if (ctx.license) {
      exp.add('license_expiration_days', 'Days until the license expires', cl, Math.floor(ctx.license.expirationDays));
      if (ctx.license.shardsLimit !== undefined) exp.add('license_shards_limit', 'Shard limit of the license', { ...cl, shard_type: 'ram' }, ctx.license.ramShardsLimit ?? ctx.license.shardsLimit);
    }
  }
  return exp;
}
