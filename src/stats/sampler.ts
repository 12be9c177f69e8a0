/**
 * The 1-second sampler: on every whole second it collects a raw snapshot, derives the metrics of
 * every object against the previous snapshot, stores them in the rollups and tells listeners
 * (alert evaluation). The first snapshot only primes the counters. `tick()` is public so tests
 * drive it with a fake clock and fake sources; `start()` runs it on real timers.
 */
import type { Logger } from 'pino';
import { derive, type Derived } from './derive.js';
import type { Classify, RawSnapshot } from './raw.js';
import type { RollupStore, StatsKind } from './rollup.js';

export type SampleListener = (d: Derived, snapshot: RawSnapshot, etimeSec: number) => void | Promise<void>;

export class Sampler {
  private prev: RawSnapshot | undefined;
  private lastEtime = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private readonly listeners: SampleListener[] = [];
  /** The newest derived sample, for the Prometheus exporter. */
  latest: { derived: Derived; snapshot: RawSnapshot; etimeSec: number } | undefined;

  constructor(
    private readonly collector: { collect(): Promise<RawSnapshot> },
    private readonly classify: Classify,
    private readonly store: RollupStore,
    private readonly log?: Logger,
  ) {}

  onSample(listener: SampleListener): void {
    this.listeners.push(listener);
  }

  /** Collect, derive, store; returns the derived metrics (undefined for a priming snapshot). */
  async tick(): Promise<Derived | undefined> {
    const snap = await this.collector.collect();
    const etime = Math.round(snap.time / 1000);
    if (etime <= this.lastEtime) return undefined; // same second twice, or the clock went back
    const d = derive(this.prev, snap, this.classify);
    const primed = this.prev !== undefined;
    this.prev = snap;
    this.lastEtime = etime;
    if (!primed || d.seconds <= 0) return undefined;

    const put = (kind: StatsKind, uid: string, values: object) => this.store.add(kind, uid, etime, values as never, d.seconds);
    put('cluster', '', d.cluster);
    for (const [uid, v] of d.nodes) put('node', String(uid), v);
    for (const [uid, v] of d.bdbs) put('bdb', String(uid), v);
    for (const [uid, v] of d.shards) put('shard', String(uid), v);
    for (const [uid, v] of d.endpoints) put('endpoint', uid, v);
    // Objects that are gone lose their history; those that did not answer this second keep it.
    this.store.retain('node', snap.nodes.map((n) => String(n.uid)));
    this.store.retain('bdb', snap.bdbs.map((b) => String(b.uid)));
    this.store.retain('shard', snap.shards.map((s) => String(s.uid)));
    this.store.retain('endpoint', snap.endpoints.map((e) => `${e.uid}:${e.node_uid}`));
    this.latest = { derived: d, snapshot: snap, etimeSec: etime };
    for (const l of this.listeners) {
      try {
        await l(d, snap, etime);
      } catch (e) {
        this.log?.warn({ err: e }, 'stats listener failed');
      }
    }
    return d;
  }

  /** Tick on every whole second (a few ms after it, so the second has ended everywhere). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.tick()
          .catch((e: unknown) => this.log?.warn({ err: e }, 'stats sample failed'))
          .finally(() => {
            this.running = undefined;
            schedule();
          });
      }, 1000 - (Date.now() % 1000) + 5);
      this.timer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
