/**
 * Watches every shard process this manager runs and keeps what it last saw of each (the shard's
 * detailed_status). A replicated master whose process died, or that stops answering PING (hung,
 * SIGSTOP), is failed over to its replica. A master without replica that hangs is killed, so that
 * its database reconciles and restarts it from its persistence files, as after a crash; any other
 * dead shard makes its database reconcile. A proxy process that exited makes every database
 * reconcile, which starts a new one.
 */
import type { Logger } from 'pino';
import { processState } from '../redis/proc.js';
import type { ShardHandle, ShardProbe } from '../redis/supervisor.js';
import type { ShardDetailedStatus } from '../schemas/shard.js';
import type { ShardInventory, ShardSummary } from '../services/shard-inventory.js';
import type { BdbController } from './bdb-controller.js';
import type { DataPlane } from './data-plane.js';

export interface WatchdogOptions {
  /** How often process liveness is checked (cheap: a signal 0). */
  intervalMs?: number;
  /** PING deadline for a hung shard. */
  pingTimeoutMs?: number;
  /** Consecutive failed PINGs (one every third check) before a live but silent shard shows `timeout`. */
  pingFailures?: number;
  /**
   * How long a replicated master whose process runs may leave PINGs without any answer before it
   * is failed over. A BUSY or LOADING reply is an answer. Default 6 s: longer than the 5 s after
   * which a running script answers BUSY (busy-reply-threshold), so a long script never costs a
   * failover (the forced kind loses what the replica had not received). A stopped (SIGSTOP) or dead
   * process is failed over at once.
   */
  failoverSilenceMs?: number;
  /**
   * Consecutive checks that find the process of a master without replica stopped (state T) before
   * it is killed and restarted. Default 10 (~1 s): a replicated master fails over after 2, but a
   * restart loses what was not persisted, so a short stop is given a moment to end.
   */
  stoppedChecks?: number;
  /**
   * How long a master without replica may leave PINGs unanswered before it is killed and restarted.
   * A BUSY or LOADING reply is an answer: a long script or load is not a hang. Default 10 s, clearly
   * longer than the ~1.5 s after which a replicated master fails over, and than the 5 s after which
   * a running script starts answering BUSY (Redis's busy-reply-threshold).
   */
  hangTimeoutMs?: number;
}

/** The detailed_status values the watchdog can observe (the rest belong to operations openrs does not run). */
export type ShardHealth = Extract<ShardDetailedStatus, 'ok' | 'down' | 'timeout' | 'busy' | 'loading' | 'unknown'>;

/** A shard's detailed_status, and how far it has loaded its dataset while it is `loading`. */
export interface ShardState {
  health: ShardHealth;
  loaded?: number;
}

/** What the watchdog saw of one shard process (a new process of the shard starts a new record). */
interface HealthRecord {
  pid: number;
  status: ShardHealth;
  /** Consecutive checks that found the process stopped (state T). */
  stops: number;
  /** Consecutive PINGs that got no answer at all (BUSY, LOADING... are answers). */
  silent: number;
  /** When the first of those was sent (ms since the epoch). */
  silentSince?: number;
  /** Percentage of its dataset loaded, when the last PING was answered LOADING. */
  loaded?: number;
}

/** A probe's answer as detailed_status; undefined for no answer (the caller decides when that becomes 'timeout'). */
const ANSWERED: Record<ShardProbe, ShardHealth | undefined> = {
  pong: 'ok', busy: 'busy', loading: 'loading', auth: 'unknown', error: 'unknown', down: undefined,
};

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly records = new Map<number, HealthRecord>();
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

  /**
   * The shard's detailed_status: 'down' unless its process runs, else what the last checks saw
   * ('ok' for a process not checked yet); with `loaded`, the percentage of its dataset a loading
   * shard has loaded (objects/shard/loading.md).
   */
  state(shardUid: number): ShardState {
    const h = this.plane.handles.get(shardUid);
    // A shard being started is not the watchdog's yet; the supervisor knows whether it loads its dataset.
    if (!h || !this.plane.supervisor.isAlive(h)) {
      const starting = this.plane.supervisor.starting(shardUid);
      if (starting?.stopped) return { health: 'timeout' };
      return starting?.loaded !== undefined ? { health: 'loading', loaded: starting.loaded } : { health: 'down' };
    }
    const rec = this.records.get(shardUid);
    if (rec?.pid !== h.pid) return { health: 'ok' };
    return rec.status === 'loading' ? { health: 'loading', loaded: rec.loaded ?? 0 } : { health: rec.status };
  }

  private async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const all = await this.shards.all();
      const lost = this.plane.proxyLost();
      if (lost) {
        // Every endpoint of the node went with it: a new proxy, then each database's endpoint again.
        this.log.error(`${lost.why}: starting a new one`);
        for (const bdb of new Set(all.map((s) => s.bdb_uid))) this.enqueue(bdb);
      }
      // Shards not (yet) started by this manager are the reconciler's; records of the others go.
      const watched = all.flatMap((s) => {
        const h = this.plane.handles.get(s.uid);
        return h ? [{ s, h, rec: this.record(h) }] : [];
      });
      for (const uid of this.records.keys()) if (!watched.some((w) => w.s.uid === uid)) this.records.delete(uid);
      const ping = this.tick++ % 3 === 0 ? await this.probeAll(watched.map((w) => w.h)) : undefined;
      for (const { s, h, rec } of watched) {
        const replicated = all.some((o) => o.bdb_uid === s.bdb_uid && o.role === 'slave');
        if (!this.observe(rec, h, ping && { at: ping.at, answer: ping.answers.get(s.uid) })) {
          this.records.delete(s.uid);
          if (s.role === 'master' && replicated) await this.failover(s);
          else this.plane.handles.delete(s.uid);
          this.enqueue(s.bdb_uid);
        } else if (s.role === 'master' && replicated) {
          // A stopped process (SIGSTOP, state T) cannot answer: two checks in a row (~200 ms) are enough.
          // Otherwise a master counts as hung once it answered nothing at all for failoverSilenceMs.
          const hung = rec.stops >= 2 || this.silentFor(rec) >= (this.opts.failoverSilenceMs ?? 6_000);
          if (!hung) continue;
          this.records.delete(s.uid);
          await this.failover(s);
          this.enqueue(s.bdb_uid);
        } else if (s.role === 'master') {
          const why = this.hang(rec);
          if (!why) continue;
          this.records.delete(s.uid);
          if (await this.controller.killHung(s.bdb_uid, s.uid, why)) this.enqueue(s.bdb_uid);
        }
      }
    } catch (e) {
      this.log.warn({ err: e }, 'watchdog check failed');
    } finally {
      this.running = false;
    }
  }

  /** The record of this process of the shard: a restarted shard starts over. */
  private record(h: ShardHandle): HealthRecord {
    let rec = this.records.get(h.uid);
    if (rec?.pid !== h.pid) this.records.set(h.uid, (rec = { pid: h.pid, status: 'ok', stops: 0, silent: 0 }));
    return rec;
  }

  /**
   * One PING to each running shard, all at once, so that one silent shard does not hold up the
   * others' checks. A stopped process is not asked: it cannot answer.
   */
  private async probeAll(handles: ShardHandle[]): Promise<{ at: number; answers: Map<number, ShardProbe> }> {
    const asked = handles.filter((h) => this.plane.supervisor.isAlive(h) && processState(h.pid) !== 'T');
    const at = Date.now();
    // A shard answering LOADING (a replica loading what its master sent) says how far it is.
    const probes = await Promise.all(asked.map((h) => this.plane.supervisor.probeLoading(h, this.opts.pingTimeoutMs ?? 500)));
    probes.forEach((p, i) => {
      if (p.loaded !== undefined) this.record(asked[i]!).loaded = p.loaded;
    });
    return { at, answers: new Map(asked.map((h, i) => [h.uid, probes[i]!.answer])) };
  }

  /**
   * Update the record from this check (`ping`: this check's PING round, sent `at`; `answer` is
   * undefined for a process that was stopped then); false when the process is gone.
   */
  private observe(rec: HealthRecord, h: ShardHandle, ping?: { at: number; answer?: ShardProbe }): boolean {
    if (!this.plane.supervisor.isAlive(h)) {
      rec.status = 'down';
      return false;
    }
    if (processState(h.pid) === 'T') {
      rec.stops++;
      rec.status = 'timeout';
      return true;
    }
    rec.stops = 0;
    if (ping?.answer === undefined) return true; // no PING this check: as last seen
    const answered = ANSWERED[ping.answer];
    if (answered) {
      rec.silent = 0;
      rec.silentSince = undefined;
      rec.status = answered;
    } else {
      rec.silent++;
      rec.silentSince ??= ping.at;
      // One late PONG on a loaded host is not a timeout; a few unanswered PINGs in a row are.
      if (rec.silent >= (this.opts.pingFailures ?? 3)) rec.status = 'timeout';
    }
    return true;
  }

  /** Why a master without replica counts as hung (and is to be restarted), if it does. */
  private hang(rec: HealthRecord): string | undefined {
    if (rec.stops >= (this.opts.stoppedChecks ?? 10)) return `process stopped (state T) on ${rec.stops} checks in a row`;
    const silentMs = this.silentFor(rec);
    if (silentMs >= (this.opts.hangTimeoutMs ?? 10_000)) return `no answer to PING for ${silentMs} ms`;
    return undefined;
  }

  /** How long the shard has answered nothing at all (0 unless it shows `timeout` for silence). */
  private silentFor(rec: HealthRecord): number {
    return rec.status === 'timeout' && rec.silentSince !== undefined ? Date.now() - rec.silentSince : 0;
  }

  private async failover(s: ShardSummary): Promise<void> {
    const h = this.plane.handles.get(s.uid);
    const why = h && this.plane.supervisor.isAlive(h) ? 'master not answering' : 'master process exited';
    const out = await this.controller.failover(s.bdb_uid, why, { onlyIfDown: true });
    if (!out.done) this.log.warn({ bdb: s.bdb_uid, shard: s.uid, why: out.why }, 'no failover');
  }
}
