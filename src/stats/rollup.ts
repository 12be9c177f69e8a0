/**
 * Interval rollups in ring buffers. Every 1-second sample of an object is stored as a `1sec`
 * entry and also feeds one open bucket per longer interval; a bucket is closed (averaged and
 * pushed to its ring) when the first sample of a later bucket arrives. Only closed buckets are
 * returned, as RS does (the capture's newest 10sec entry ends before its newest 1sec entry).
 *
 * Memory is bounded: each ring keeps the documented maximum number of samples, an open bucket
 * keeps one sum per metric, and objects that no longer exist are dropped (`retain`).
 */
import { INTERVALS, rsSecond, type IntervalName, type MetricValues, type StatsEntry } from './intervals.js';

/** Object kinds that have stats. */
export type StatsKind = 'cluster' | 'node' | 'bdb' | 'shard' | 'endpoint';

class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly max: number) {}
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.max) this.items.shift();
  }
  all(): readonly T[] {
    return this.items;
  }
}

/** The bucket being filled for one interval: sums for numbers, the latest value for strings. */
interface OpenBucket {
  start: number;
  sums: Map<string, number>;
  counts: Map<string, number>;
  latest: Map<string, string>;
}

class Series {
  readonly rings = new Map<IntervalName, Ring<StatsEntry>>(INTERVALS.map((i) => [i.name, new Ring<StatsEntry>(i.maxSamples)]));
  readonly open = new Map<IntervalName, OpenBucket>();
}

/** Averages keep three decimals, as in the captures (e.g. 0.965, 656.925). */
export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function closeBucket(name: IntervalName, seconds: number, b: OpenBucket): StatsEntry {
  const e: StatsEntry = { interval: name, stime: rsSecond(b.start), etime: rsSecond(b.start + seconds) };
  for (const [k, sum] of b.sums) e[k] = round3(sum / (b.counts.get(k) ?? 1));
  for (const [k, v] of b.latest) e[k] = v;
  return e;
}

export class RollupStore {
  private readonly series = new Map<string, Series>();

  private key(kind: StatsKind, uid: string): string {
    return `${kind}:${uid}`;
  }

  /**
   * Add the sample covering the `seconds` (default 1) that end at `etimeSec` (epoch seconds). A
   * sample belongs to the bucket holding its last second, so the sample ending at 00:00:10
   * completes bucket 00:00:00.
   */
  add(kind: StatsKind, uid: string, etimeSec: number, values: MetricValues, seconds = 1): void {
    const k = this.key(kind, uid);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = new Series()));
    const rounded: MetricValues = {};
    for (const [m, v] of Object.entries(values)) rounded[m] = typeof v === 'number' ? round3(v) : v;
    s.rings.get('1sec')!.push({ interval: '1sec', stime: rsSecond(etimeSec - Math.max(1, seconds)), etime: rsSecond(etimeSec), ...rounded });
    for (const def of INTERVALS) {
      if (def.name === '1sec') continue;
      const start = Math.floor((etimeSec - 1) / def.seconds) * def.seconds;
      let b = s.open.get(def.name);
      if (b && b.start !== start) {
        if (start > b.start) s.rings.get(def.name)!.push(closeBucket(def.name, def.seconds, b));
        b = undefined; // a clock that went backwards just starts over
      }
      if (!b) s.open.set(def.name, (b = { start, sums: new Map(), counts: new Map(), latest: new Map() }));
      for (const [m, v] of Object.entries(values)) {
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) continue;
          b.sums.set(m, (b.sums.get(m) ?? 0) + v);
          b.counts.set(m, (b.counts.get(m) ?? 0) + 1);
        } else {
          b.latest.set(m, v);
        }
      }
    }
  }

  /** Closed entries of one interval, oldest first. */
  entries(kind: StatsKind, uid: string, interval: IntervalName): readonly StatsEntry[] {
    return this.series.get(this.key(kind, uid))?.rings.get(interval)?.all() ?? [];
  }

  has(kind: StatsKind, uid: string): boolean {
    return this.series.has(this.key(kind, uid));
  }

  /** Drop the series of objects of `kind` that are not in `uids` (deleted databases, shards...). */
  retain(kind: StatsKind, uids: Iterable<string>): void {
    const keep = new Set([...uids].map((u) => this.key(kind, u)));
    for (const k of this.series.keys()) if (k.startsWith(`${kind}:`) && !keep.has(k)) this.series.delete(k);
  }
}
