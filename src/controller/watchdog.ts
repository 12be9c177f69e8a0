/**
 * Watches master shards. A replicated master whose process died, or that stops answering PING
 * (hung, SIGSTOP), is failed over to its replica; any other dead shard makes its database
 * reconcile (which restarts it from its persistence files). A proxy process that exited makes every
 * database reconcile, which starts a new one.
 */
import type { Logger } from 'pino';
import { processState } from '../redis/proc.js';
import type { ShardInventory } from '../services/shard-inventory.js';
import type { BdbController } from './bdb-controller.js';
import type { DataPlane } from './data-plane.js';

export interface WatchdogOptions {
  /** How often process liveness is checked (cheap: a signal 0). */
  intervalMs?: number;
  /** PING deadline for a hung master. */
  pingTimeoutMs?: number;
  /** Consecutive failed PINGs (one every third check) before a live but silent master counts as hung. */
  pingFailures?: number;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly misses = new Map<number, number>();
  /** Consecutive checks that found the master's process stopped (state T). */
  private readonly stops = new Map<number, number>();
  private tick = 0;

  constructor(
    private readonly plane: DataPlane,
    private readonly shards: ShardInventory,
    private readonly controller: BdbController,
    private readonly enqueue: (bdbUid: number) => void,
    private readonly log: Logger,
    private readonly opts: WatchdogOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const all = await this.shards.all();
      if (this.plane.proxyLost()) {
        // Every endpoint of the node went with it: a new proxy, then each database's endpoint again.
        this.log.error('the proxy process exited: starting a new one');
        for (const bdb of new Set(all.map((s) => s.bdb_uid))) this.enqueue(bdb);
      }
      const pingRound = this.tick++ % 3 === 0;
      for (const s of all) {
        const h = this.plane.handles.get(s.uid);
        if (!h) continue; // not (yet) started by this manager: the reconciler owns it
        const replicated = all.some((o) => o.bdb_uid === s.bdb_uid && o.role === 'slave');
        let failed = !this.plane.supervisor.isAlive(h);
        if (!failed && s.role === 'master' && replicated) {
          // A stopped process (SIGSTOP, state T) cannot answer: two checks in a row (~200 ms) are enough.
          // Otherwise a master counts as hung after consecutive unanswered PINGs, with deadlines
          // generous enough that a busy host does not trigger a failover.
          const stopped = processState(h.pid) === 'T';
          const n = stopped ? (this.stops.get(s.uid) ?? 0) + 1 : 0;
          this.stops.set(s.uid, n);
          if (n >= 2) failed = true;
          else if (!stopped && pingRound) {
            const ok = await this.plane.supervisor.ping(h, this.opts.pingTimeoutMs ?? 500);
            const m = ok ? 0 : (this.misses.get(s.uid) ?? 0) + 1;
            this.misses.set(s.uid, m);
            failed = m >= (this.opts.pingFailures ?? 3);
          }
        }
        if (!failed) continue;
        this.misses.delete(s.uid);
        this.stops.delete(s.uid);
        if (s.role === 'master' && replicated) {
          const { done } = await this.controller.failover(s.bdb_uid, this.plane.supervisor.isAlive(h) ? 'master not answering' : 'master process exited', { onlyIfDown: true });
          if (!done) this.log.warn({ bdb: s.bdb_uid, shard: s.uid }, 'no failover: master answers again, or no replica answering');
        } else {
          this.plane.handles.delete(s.uid);
        }
        this.enqueue(s.bdb_uid);
      }
    } catch (e) {
      this.log.warn({ err: e }, 'watchdog check failed');
    } finally {
      this.running = false;
    }
  }
}
