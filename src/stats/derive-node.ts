/**
 * Node metrics (objects/statistics/node-metrics.md) and their cluster sums
 * (cluster-metrics.md), from /proc and statfs plus the node's shards and endpoints.
 *
 * Memory, as openrs defines the RS figures (docs/notes-stats.md):
 * - free_memory: MemAvailable (what new allocations can get, page cache included);
 * - available_memory: free_memory less the memory local shards may still grow into
 *   (maxmemory − used_memory of each shard with a limit);
 * - provisional_memory: total RAM less the memory_limit of every local shard (as node status'
 *   free_provisional_ram). No overbooking exists, so the *_no_overbooking twins are equal.
 */
import type { MetricValues } from './intervals.js';
import type { CpuTimes, RawNode, RawShard } from './raw.js';
import { num } from './derive-shard.js';

function cpuShares(prev: CpuTimes | undefined, cur: CpuTimes | undefined): MetricValues {
  if (!prev || !cur) return {};
  const d = (k: keyof CpuTimes) => Math.max(0, cur[k] - prev[k]);
  const total = (Object.keys(cur) as (keyof CpuTimes)[]).reduce((s, k) => s + d(k), 0);
  if (total <= 0) return {};
  return {
    cpu_user: d('user') / total,
    cpu_nice: d('nice') / total,
    cpu_system: d('system') / total,
    cpu_idle: d('idle') / total,
    cpu_iowait: d('iowait') / total,
    cpu_irqs: (d('irq') + d('softirq')) / total,
    cpu_steal: d('steal') / total,
  };
}

/**
 * @param conns clients connected to the node's endpoints
 * @param totalReq request rate of the node's endpoints (undefined when unknown)
 */
export function nodeMetrics(prev: RawNode | undefined, cur: RawNode, dt: number, shards: RawShard[], conns: number | undefined, totalReq: number | undefined): MetricValues {
  const v: MetricValues = { ...cpuShares(prev?.cpu, cur.cpu) };
  const headroom = shards.reduce((sum, s) => {
    const max = num(s.info, 'memory', 'maxmemory') ?? 0;
    const used = num(s.info, 'memory', 'used_memory') ?? 0;
    return max > 0 ? sum + Math.max(0, max - used) : sum;
  }, 0);
  const provisional = Math.max(0, cur.memory.total - shards.reduce((sum, s) => sum + s.memory_limit, 0));
  v.free_memory = cur.memory.available;
  v.available_memory = Math.max(0, cur.memory.available - headroom);
  v.available_memory_no_overbooking = v.available_memory;
  v.provisional_memory = provisional;
  v.provisional_memory_no_overbooking = provisional;
  // No flash (Auto Tiering) in openrs: there is none to be available.
  v.available_flash = 0;
  v.available_flash_no_overbooking = 0;
  v.provisional_flash = 0;
  v.provisional_flash_no_overbooking = 0;
  if (cur.persistent) {
    v.persistent_storage_free = cur.persistent.free;
    v.persistent_storage_avail = cur.persistent.avail;
  }
  if (cur.ephemeral) {
    v.ephemeral_storage_free = cur.ephemeral.free;
    v.ephemeral_storage_avail = cur.ephemeral.avail;
  }
  if (prev?.net && cur.net && dt > 0) {
    v.ingress_bytes = Math.max(0, cur.net.rx - prev.net.rx) / dt;
    v.egress_bytes = Math.max(0, cur.net.tx - prev.net.tx) / dt;
  }
  if (conns !== undefined) v.conns = conns;
  if (totalReq !== undefined) v.total_req = totalReq;
  v.cur_aof_rewrites = shards.filter((s) => num(s.info, 'persistence', 'aof_rewrite_in_progress') === 1).length;
  return v;
}

const SUMMED = [
  'available_flash', 'available_flash_no_overbooking', 'available_memory', 'available_memory_no_overbooking', 'conns',
  'egress_bytes', 'ephemeral_storage_avail', 'ephemeral_storage_free', 'free_memory', 'ingress_bytes',
  'persistent_storage_avail', 'persistent_storage_free', 'provisional_flash', 'provisional_flash_no_overbooking',
  'provisional_memory', 'provisional_memory_no_overbooking', 'total_req',
];
const CPU = ['cpu_idle', 'cpu_iowait', 'cpu_irqs', 'cpu_nice', 'cpu_steal', 'cpu_system', 'cpu_user'];

/** Cluster metrics: node figures summed; CPU portions weighted by each node's cores. */
export function clusterMetrics(nodes: { cores: number; values: MetricValues }[]): MetricValues {
  const v: MetricValues = {};
  for (const m of SUMMED) {
    const present = nodes.filter((n) => typeof n.values[m] === 'number');
    if (present.length) v[m] = present.reduce((s, n) => s + (n.values[m] as number), 0);
  }
  for (const m of CPU) {
    const present = nodes.filter((n) => typeof n.values[m] === 'number');
    const cores = present.reduce((s, n) => s + n.cores, 0);
    if (present.length && cores > 0) v[m] = present.reduce((s, n) => s + (n.values[m] as number) * n.cores, 0) / cores;
  }
  return v;
}
