/**
 * The stats requests (requests/{cluster,nodes,bdbs,shards}/stats, endpoints-stats) over the
 * rollups: `interval` (none = every interval, as the captures show), `stime`/`etime` (entries
 * that start at or after stime and end at or before etime), `metrics` (only those, plus the
 * entry's times). Object lists come from the CCS, so a new object answers with an empty
 * `intervals` until its first sample, and a missing one with 404.
 */
import { RsError } from '../errors.js';
import { timeParam } from '../util/iso-time.js';
import { INTERVAL_NAMES, isIntervalName, type IntervalName, type StatsEntry } from './intervals.js';
import type { RollupStore, StatsKind } from './rollup.js';

export interface StatsQuery {
  interval?: string;
  stime?: string;
  etime?: string;
  metrics?: string;
}

export interface ShardRef {
  uid: string;
  bdb_uid: number;
  node_uid: string;
  role: string;
  status: string;
  assigned_slots: string;
}

export interface StatsObjects {
  bdbs(): Promise<number[]>;
  /** The database's status (objects/bdb/status.md), for the per-database routes' 406 / 503 answers. */
  bdbStatus?(uid: number): Promise<string | undefined>;
  nodes(): Promise<number[]>;
  shards(): Promise<ShardRef[]>;
}

interface Filter {
  intervals: IntervalName[];
  from?: number;
  to?: number;
  metrics?: string[];
}


/** A stats query checked (a bad interval or time is refused, 400 invalid_param) and taken apart. */
export function parseStatsQuery(q: StatsQuery, defaultInterval?: IntervalName): Filter {
  const interval = q.interval || defaultInterval;
  if (interval !== undefined && !isIntervalName(interval)) {
    throw new RsError('invalid_param', `interval: '${interval}' is not one of ${INTERVAL_NAMES.join(', ')}`);
  }
  const metrics = q.metrics?.split(',').map((m) => m.trim()).filter(Boolean);
  return { intervals: interval ? [interval] : [...INTERVAL_NAMES], from: timeParam(q.stime, 'stime'), to: timeParam(q.etime, 'etime'), metrics: metrics?.length ? metrics : undefined };
}

function pick(e: StatsEntry, metrics: string[] | undefined, keepInterval: boolean): Record<string, unknown> {
  if (!metrics) return { ...e };
  const out: Record<string, unknown> = keepInterval ? { interval: e.interval } : {};
  out.stime = e.stime;
  out.etime = e.etime;
  for (const m of metrics) if (m in e) out[m] = e[m];
  return out;
}

/** Statuses in which a database serves and is sampled (a change or an import in progress included). */
const ACTIVE_BDB = new Set(['active', 'active-change-pending', 'import-pending']);

export class StatsService {
  constructor(private readonly store: RollupStore, private readonly objects: StatsObjects) {}

  private entries(kind: StatsKind, uid: string, f: Filter): StatsEntry[] {
    return f.intervals.flatMap((i) => this.store.entries(kind, uid, i)).filter((e) =>
      (f.from === undefined || Date.parse(e.stime) >= f.from) && (f.to === undefined || Date.parse(e.etime) <= f.to));
  }

  private intervals(kind: StatsKind, uid: string, q: StatsQuery): Record<string, unknown>[] {
    const f = parseStatsQuery(q);
    return this.entries(kind, uid, f).map((e) => pick(e, f.metrics, true));
  }

  /** The newest entry of the interval (default 1sec), or {} before the first sample. */
  private last(kind: StatsKind, uid: string, q: StatsQuery): Record<string, unknown> {
    const f = parseStatsQuery(q, '1sec');
    const e = this.entries(kind, uid, f).at(-1);
    return e ? pick(e, f.metrics, false) : {};
  }

  // --- cluster ---
  cluster(q: StatsQuery): Record<string, unknown> {
    return { intervals: this.intervals('cluster', '', q), uid: '' };
  }
  clusterLast(q: StatsQuery): Record<string, unknown> {
    return this.last('cluster', '', q);
  }

  // --- nodes (uid is a number in the capture) ---
  private async nodeUids(uid?: number): Promise<number[]> {
    const all = await this.objects.nodes();
    if (uid === undefined) {
      if (all.length === 0) throw new RsError('node_not_found', 'No nodes exist');
      return all;
    }
    if (!all.includes(uid)) throw new RsError('node_not_found', `Node ${uid} does not exist`);
    return [uid];
  }
  async nodes(q: StatsQuery, uid?: number): Promise<unknown> {
    const list = (await this.nodeUids(uid)).map((u) => ({ uid: u, intervals: this.intervals('node', String(u), q) }));
    return uid === undefined ? list : list[0];
  }
  async nodesLast(q: StatsQuery, uid?: number): Promise<Record<string, unknown>> {
    return Object.fromEntries((await this.nodeUids(uid)).map((u) => [String(u), this.last('node', String(u), q)]));
  }

  // --- bdbs (uid is a string in the capture) ---
  private async bdbUids(uid?: number): Promise<number[]> {
    const all = await this.objects.bdbs();
    if (uid === undefined) {
      if (all.length === 0) throw new RsError('db_not_exist', 'No databases exist');
      return all;
    }
    if (!all.includes(uid)) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    // bdbs/stats: 503 "bdb is in recovery state", 406 "bdb isn't currently active".
    const status = await this.objects.bdbStatus?.(uid);
    if (status === 'recovery') throw RsError.custom('bdb_in_recovery', 503, `Database ${uid} is in recovery state`);
    if (status !== undefined && !ACTIVE_BDB.has(status)) throw RsError.custom('bdb_not_active', 406, `Database ${uid} isn't currently active (status '${status}')`);
    return [uid];
  }
  async bdbs(q: StatsQuery, uid?: number): Promise<unknown> {
    const list = (await this.bdbUids(uid)).map((u) => ({ uid: String(u), intervals: this.intervals('bdb', String(u), q) }));
    return uid === undefined ? list : list[0];
  }
  async bdbsLast(q: StatsQuery, uid?: number): Promise<Record<string, unknown>> {
    return Object.fromEntries((await this.bdbUids(uid)).map((u) => [String(u), this.last('bdb', String(u), q)]));
  }

  // --- shards ---
  private async shardRefs(uid?: number, parentUid?: number): Promise<ShardRef[]> {
    let all = await this.objects.shards();
    if (parentUid !== undefined) all = all.filter((s) => s.bdb_uid === parentUid);
    if (uid === undefined) {
      if (all.length === 0) throw new RsError('shard_not_exist', 'No shards exist');
      return all;
    }
    const s = all.find((x) => x.uid === String(uid));
    if (!s) throw new RsError('shard_not_exist', `Shard ${uid} does not exist`);
    // shards/stats: 406 "Shard isn't currently active".
    if (s.status !== 'active') throw RsError.custom('shard_not_active', 406, `Shard ${uid} isn't currently active (status '${s.status}')`);
    return [s];
  }
  async shards(q: StatsQuery & { parent_uid?: number }, uid?: number): Promise<unknown> {
    const list = (await this.shardRefs(uid, q.parent_uid)).map((s) => ({
      uid: s.uid, status: s.status, node_uid: s.node_uid, role: s.role, assigned_slots: s.assigned_slots,
      intervals: this.intervals('shard', s.uid, q),
    }));
    return uid === undefined ? list : list[0];
  }
  async shardsLast(q: StatsQuery, uid?: number): Promise<Record<string, unknown>> {
    return Object.fromEntries((await this.shardRefs(uid)).map((s) => [s.uid, this.last('shard', s.uid, q)]));
  }

  // --- endpoints: one per database, served by the proxy of the master shard's node ---
  async endpoints(q: StatsQuery): Promise<unknown[]> {
    const [bdbs, shards] = await Promise.all([this.objects.bdbs(), this.objects.shards()]);
    return bdbs.map((b) => {
      const node = shards.find((s) => s.bdb_uid === b && s.role === 'master')?.node_uid ?? '1';
      const uid = `${b}:1:${node}`;
      return { uid, intervals: this.intervals('endpoint', uid, q) };
    });
  }
}
