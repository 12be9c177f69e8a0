/**
 * Every alert openrs reports, per object (objects/cluster/alert_settings.md,
 * objects/db_alerts_settings, the cluster_alerts.json capture), with its severity when on
 * (clusters/logging/alerts-events.md: "True: warning/error, False: info") and how it is
 * evaluated. An alert whose condition openrs cannot observe (flash, OCSP, CRDB syncers, several
 * nodes) evaluates to off: the condition cannot arise in openrs as it is.
 */
import type { MetricValues } from '../stats/intervals.js';

export type AlertScope = 'cluster' | 'node' | 'bdb';
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Outcome of one evaluation: on/off plus the figures behind it (the alert's change_value). */
export interface Evaluation {
  state: boolean;
  value: Record<string, unknown>;
}

export interface ClusterFacts {
  nodeCount: number;
  totalRam: number;
  /** Sum of memory_size of all databases, replicas counted. */
  committedRam: number;
  /** Days until the license expires (undefined: no license / no expiry known). */
  licenseDaysLeft?: number;
  /** Days until each certificate expires, by certificate name. */
  certDaysLeft: Record<string, number>;
}

export interface NodeFacts {
  metrics: MetricValues;
  totalRam: number;
  persistentSize?: number;
  ephemeralSize?: number;
}

export interface BdbFacts {
  metrics: MetricValues;
  memorySize: number;
  /** used_memory of the master shards (the dataset, without replicas). */
  datasetBytes?: number;
}

export interface AlertDef<F> {
  name: string;
  onSeverity: Severity;
  /** Evaluate with the configured threshold (a number when one is set). */
  evaluate(facts: F, threshold: number | undefined): Evaluation;
}

const off = (extra: Record<string, unknown> = {}): Evaluation => ({ state: false, value: { ...extra, state: false } });
const pct = (used: number, size: number | undefined) => (size && size > 0 ? (used / size) * 100 : undefined);
const n = (m: MetricValues, k: string) => (typeof m[k] === 'number' ? (m[k] as number) : undefined);

/** Above a threshold: on; no threshold or no value: off. `key` names the sampled value in change_value. */
function above(value: number | undefined, threshold: number | undefined, key: string, thresholdKey: string): Evaluation {
  const v: Record<string, unknown> = {};
  if (threshold !== undefined) v[thresholdKey] = String(threshold);
  if (value !== undefined) v[key] = Math.round(value * 1000) / 1000;
  const state = value !== undefined && threshold !== undefined && value > threshold;
  return { state, value: { ...v, state } };
}

export const CLUSTER_ALERTS: AlertDef<ClusterFacts>[] = [
  { name: 'cluster_ca_cert_about_to_expire', onSeverity: 'WARNING', evaluate: (_f, t) => off(t === undefined ? {} : { global_threshold: String(t) }) },
  {
    name: 'cluster_certs_about_to_expire', onSeverity: 'WARNING',
    evaluate: (f, t) => {
      const soon = t === undefined ? [] : Object.entries(f.certDaysLeft).filter(([, d]) => d <= t).map(([name]) => name).sort();
      return { state: soon.length > 0, value: { certs_about_to_expire: soon, ...(t === undefined ? {} : { global_threshold: String(t) }), state: soon.length > 0 } };
    },
  },
  { name: 'cluster_even_node_count', onSeverity: 'WARNING', evaluate: (f) => ({ state: f.nodeCount % 2 === 0, value: { node_count: f.nodeCount, state: f.nodeCount % 2 === 0 } }) },
  { name: 'cluster_flash_overcommit', onSeverity: 'ERROR', evaluate: () => off({ bdbs_committed_flash: 0 }) },
  { name: 'cluster_inconsistent_rl_sw', onSeverity: 'WARNING', evaluate: () => off() },
  { name: 'cluster_internal_bdb', onSeverity: 'WARNING', evaluate: () => off({ internal_bdb: '' }) },
  {
    name: 'cluster_license_about_to_expire', onSeverity: 'WARNING',
    evaluate: (f, t) => {
      const state = t !== undefined && f.licenseDaysLeft !== undefined && f.licenseDaysLeft <= t;
      return { state, value: { ...(t === undefined ? {} : { global_threshold: String(t) }), state } };
    },
  },
  { name: 'cluster_multiple_nodes_down', onSeverity: 'WARNING', evaluate: () => off({ dead_nodes: [] }) },
  { name: 'cluster_ocsp_query_failed', onSeverity: 'ERROR', evaluate: () => off() },
  { name: 'cluster_ocsp_status_revoked', onSeverity: 'ERROR', evaluate: () => off() },
  {
    name: 'cluster_ram_overcommit', onSeverity: 'ERROR',
    evaluate: (f) => ({ state: f.committedRam > f.totalRam, value: { bdbs_committed_ram: f.committedRam, state: f.committedRam > f.totalRam } }),
  },
  { name: 'cluster_too_few_nodes_for_replication', onSeverity: 'WARNING', evaluate: (f) => ({ state: f.nodeCount < 2, value: { state: f.nodeCount < 2 } }) },
];

export const NODE_ALERTS: AlertDef<NodeFacts>[] = [
  { name: 'node_aof_slow_disk_io', onSeverity: 'ERROR', evaluate: () => off() },
  { name: 'node_checks_error', onSeverity: 'ERROR', evaluate: () => off() },
  {
    name: 'node_cpu_utilization', onSeverity: 'WARNING',
    evaluate: (f, t) => above(n(f.metrics, 'cpu_idle') === undefined ? undefined : (1 - n(f.metrics, 'cpu_idle')!) * 100, t, 'cpu_util', 'global_threshold'),
  },
  {
    name: 'node_ephemeral_storage', onSeverity: 'WARNING',
    evaluate: (f, t) => above(f.ephemeralSize === undefined || n(f.metrics, 'ephemeral_storage_avail') === undefined ? undefined : pct(f.ephemeralSize - n(f.metrics, 'ephemeral_storage_avail')!, f.ephemeralSize), t, 'ephemeral_storage_util', 'global_threshold'),
  },
  { name: 'node_failed', onSeverity: 'ERROR', evaluate: () => off() },
  { name: 'node_free_flash', onSeverity: 'WARNING', evaluate: (_f, t) => off(t === undefined ? {} : { global_threshold: String(t) }) },
  { name: 'node_insufficient_disk_aofrw', onSeverity: 'ERROR', evaluate: () => off() },
  { name: 'node_internal_certs_about_to_expire', onSeverity: 'WARNING', evaluate: (_f, t) => off(t === undefined ? {} : { global_threshold: String(t) }) },
  {
    name: 'node_memory', onSeverity: 'WARNING',
    evaluate: (f, t) => above(n(f.metrics, 'free_memory') === undefined ? undefined : pct(f.totalRam - n(f.metrics, 'free_memory')!, f.totalRam), t, 'memory_util', 'global_threshold'),
  },
  {
    name: 'node_net_throughput', onSeverity: 'WARNING',
    evaluate: (f, t) => above(n(f.metrics, 'ingress_bytes') === undefined ? undefined : n(f.metrics, 'ingress_bytes')! + (n(f.metrics, 'egress_bytes') ?? 0), t, 'net_throughput', 'global_threshold'),
  },
  {
    name: 'node_persistent_storage', onSeverity: 'WARNING',
    evaluate: (f, t) => above(f.persistentSize === undefined || n(f.metrics, 'persistent_storage_avail') === undefined ? undefined : pct(f.persistentSize - n(f.metrics, 'persistent_storage_avail')!, f.persistentSize), t, 'persistent_storage_util', 'global_threshold'),
  },
];

const bdbOff = (name: string, onSeverity: Severity = 'WARNING'): AlertDef<BdbFacts> => ({
  name, onSeverity, evaluate: (_f, t) => off(t === undefined ? {} : { threshold: String(t) }),
});

export const BDB_ALERTS: AlertDef<BdbFacts>[] = [
  bdbOff('bdb_backup_delayed'),
  bdbOff('bdb_crdt_src_high_syncer_lag'),
  bdbOff('bdb_crdt_src_syncer_connection_error', 'ERROR'),
  bdbOff('bdb_crdt_src_syncer_general_error', 'ERROR'),
  { name: 'bdb_high_latency', onSeverity: 'WARNING', evaluate: (f, t) => above(n(f.metrics, 'avg_latency'), t, 'latency', 'threshold') },
  bdbOff('bdb_high_syncer_lag'),
  { name: 'bdb_high_throughput', onSeverity: 'WARNING', evaluate: (f, t) => above(n(f.metrics, 'total_req'), t, 'throughput', 'threshold') },
  bdbOff('bdb_long_running_action'),
  {
    name: 'bdb_low_throughput', onSeverity: 'WARNING',
    evaluate: (f, t) => {
      const v = n(f.metrics, 'total_req');
      const state = v !== undefined && t !== undefined && v < t;
      return { state, value: { ...(t === undefined ? {} : { threshold: String(t) }), ...(v === undefined ? {} : { throughput: v }), state } };
    },
  },
  bdbOff('bdb_ram_dataset_overhead'),
  bdbOff('bdb_ram_values'),
  bdbOff('bdb_replica_src_high_syncer_lag'),
  bdbOff('bdb_replica_src_syncer_connection_error', 'ERROR'),
  bdbOff('bdb_replica_src_syncer_general_error', 'ERROR'),
  bdbOff('bdb_shard_num_ram_values'),
  { name: 'bdb_size', onSeverity: 'WARNING', evaluate: (f, t) => above(f.datasetBytes === undefined ? undefined : pct(f.datasetBytes, f.memorySize), t, 'memory_util', 'threshold') },
  bdbOff('bdb_syncer_connection_error', 'ERROR'),
  bdbOff('bdb_syncer_general_error', 'ERROR'),
];

/**
 * Alerts whose threshold is a percentage, 0-100 (objects/cluster/alert_settings: "% of the ...
 * limit"; db_alerts_settings). Every other threshold is a non-negative number: days
 * (`*_about_to_expire`), bytes/s (`node_net_throughput`), µs, requests/s, seconds.
 */
export const PERCENT_ALERTS = new Set([
  'bdb_size', 'bdb_ram_dataset_overhead', 'bdb_ram_values',
  'node_cpu_utilization', 'node_ephemeral_storage', 'node_free_flash', 'node_memory', 'node_persistent_storage',
  'cluster_users_count_approaches_limit',
]);

/**
 * Why an alert setting cannot be used, or undefined when it can: an enabled alert needs a
 * threshold, and a threshold must be a number of the alert's kind. A threshold the evaluation
 * could not read would leave the alert silently off. Used by POST /v1/bdbs/alerts and PUT /v1/cluster.
 */
export function thresholdProblem(name: string, s: { enabled?: boolean; threshold?: string }): string | undefined {
  const t = s.threshold;
  if (t === undefined || t.trim() === '') return s.enabled ? `${name}: an enabled alert needs a threshold` : undefined;
  const v = Number(t);
  const percent = PERCENT_ALERTS.has(name);
  if (!Number.isFinite(v) || v < 0 || (percent && v > 100)) {
    return `${name}: threshold '${t}' is not ${percent ? 'a percentage (0-100)' : 'a non-negative number'}`;
  }
  return undefined;
}
