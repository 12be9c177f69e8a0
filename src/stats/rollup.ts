/**
 * Interval rollups in ring buffers. Every 1-second sample of an object is stored as a `1sec`
 * entry and also feeds one open bucket per longer interval; a bucket is closed (averaged and
 * pushed to its ring) when the first sample of a later bucket arrives. Only closed buckets are
 * returned, as RS does (the capture's newest 10sec entry ends before its newest 1sec entry).
 *
 * Memory is bounded: each ring keeps the documented maximum number of samples, an open bucket
 * keeps one weighted sum (and the weights) per metric, and objects that no longer exist are dropped (`retain`).
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
  /** Replace the contents (restore from a file), keeping only the newest `max`. */
  reset(xs: readonly T[]): void {
    this.items.splice(0, this.items.length, ...xs.slice(-this.max));
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

/** One object's series as written to the stats file (persist.ts): closed entries and open buckets. */
export interface SeriesDump {
  kind: StatsKind;
  uid: string;
  rings: Partial<Record<IntervalName, StatsEntry[]>>;
  open: Partial<Record<IntervalName, { start: number; sums: Record<string, number>; counts: Record<string, number>; latest: Record<string, string> }>>;
}

/**
 * How much one sample counts in a longer interval's average. A sample covers `seconds` (more than
 * one after a missed tick), so a rate over it weighs that many seconds and the bucket's mean rate
 * times its length stays the exact count. An average latency is per reply: it weighs the replies
 * it averages (`avg_latency` by `total_res`, `avg_read_latency` by `read_res`, ...), so a 10sec
 * `avg_latency` is the interval's µs per reply, not a mean of per-second means (which let a quiet
 * second's one management command weigh as much as a busy second's thousands of requests).
 */
function weight(values: MetricValues, metric: string, seconds: number): number {
  const secs = Math.max(1, seconds);
  const m = /^avg_(?:(read|write|other)_)?latency$/.exec(metric);
  if (!m) return secs;
  const res = values[`${m[1] ?? 'total'}_res`];
  return typeof res === 'number' && Number.isFinite(res) ? res * secs : secs;
}

const KINDS: readonly StatsKind[] = ['cluster', 'node', 'bdb', 'shard', 'endpoint'];
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isEntry = (x: unknown, interval: IntervalName): x is StatsEntry =>
  isRecord(x) && x.interval === interval && typeof x.stime === 'string' && typeof x.etime === 'string' &&
  !Number.isNaN(Date.parse(x.stime)) && !Number.isNaN(Date.parse(x.etime)) &&
  Object.values(x).every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));
function numbers(x: unknown): Map<string, number> | undefined {
  if (!isRecord(x) || !Object.values(x).every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  return new Map(Object.entries(x as Record<string, number>));
}
function strings(x: unknown): Map<string, string> | undefined {
  if (!isRecord(x) || !Object.values(x).every((v) => typeof v === 'string')) return undefined;
  return new Map(Object.entries(x as Record<string, string>));
}

export class RollupStore {
  private readonly series = new Map<string, Series>();
  /** Bumped by every change, so the file is rewritten only when something changed. */
  version = 0;

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
    this.version++;
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
          const w = weight(values, m, seconds);
          if (w <= 0) continue;
          b.sums.set(m, (b.sums.get(m) ?? 0) + v * w);
          b.counts.set(m, (b.counts.get(m) ?? 0) + w);
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
    for (const k of this.series.keys()) {
      if (k.startsWith(`${kind}:`) && !keep.has(k)) {
        this.series.delete(k);
        this.version++;
      }
    }
  }

  /** Every series, closed entries and open buckets, as plain data (for the stats file). */
  dump(): SeriesDump[] {
    return [...this.series].map(([k, s]) => {
      const at = k.indexOf(':');
      const d: SeriesDump = { kind: k.slice(0, at) as StatsKind, uid: k.slice(at + 1), rings: {}, open: {} };
      for (const [name, ring] of s.rings) if (ring.all().length) d.rings[name] = [...ring.all()];
      for (const [name, b] of s.open) {
        d.open[name] = { start: b.start, sums: Object.fromEntries(b.sums), counts: Object.fromEntries(b.counts), latest: Object.fromEntries(b.latest) };
      }
      return d;
    });
  }

  /**
   * Load series written by `dump` (replacing any of the same object), skipping objects for which
   * `keep` is false and anything malformed; rings keep at most their documented size. Returns the
   * number of series loaded.
   */
  restore(dumps: readonly unknown[], keep: (kind: StatsKind, uid: string) => boolean = () => true): number {
    let n = 0;
    for (const d of dumps) {
      if (!isRecord(d) || !KINDS.includes(d.kind as StatsKind) || typeof d.uid !== 'string') continue;
      const kind = d.kind as StatsKind;
      if (!keep(kind, d.uid)) continue;
      const s = new Series();
      for (const def of INTERVALS) {
        const list = isRecord(d.rings) ? d.rings[def.name] : undefined;
        if (Array.isArray(list)) s.rings.get(def.name)!.reset(list.filter((e) => isEntry(e, def.name)));
        const b = isRecord(d.open) ? d.open[def.name] : undefined;
        if (def.name === '1sec' || !isRecord(b) || typeof b.start !== 'number' || b.start % def.seconds !== 0) continue;
        const [sums, counts, latest] = [numbers(b.sums), numbers(b.counts), strings(b.latest)];
        if (sums && counts && latest) s.open.set(def.name, { start: b.start, sums, counts, latest });
      }
      this.series.set(this.key(kind, d.uid), s);
      n++;
    }
    this.version++;
    return n;
  }
}
