/**
 * What the reconcilers drive: the shard supervisor (redis-server processes), one admin client
 * per shard, and the node's proxy. Nothing else in openrs touches these.
 */
import type { EndpointInfo, EndpointSpec, PingResult, ProbeResult, Successor, Target } from '../proxy/protocol.js';
import type { ShardAdmin } from '../redis/admin.js';
import { killGroup, processExists, processState } from '../redis/proc.js';
import type { ShardHandle, ShardSupervisor } from '../redis/supervisor.js';

export type { Target };

/** Watchdog checks (~100 ms apart) that find the proxy stopped before it is replaced (about 3 s). */
const PROXY_STOPPED_CHECKS = 30;
/** A running proxy that answered no control ping for this long (its event loop stuck) is replaced. */
const PROXY_SILENCE_MS = 15_000;
/** Control pings to the proxy, at most one in flight, this far apart (from the watchdog's checks). */
const PROXY_PING_EVERY_MS = 1_000;

/** The manager's view of the proxy process (implemented by proxy/control.ts's ProxyClient). */
export interface EndpointProxy {
  /** Adopt the running proxy or start one; its pid. */
  ensureRunning(): Promise<{ pid: number }>;
  setEndpoint(ep: EndpointSpec): Promise<unknown>;
  removeEndpoint(uid: string): Promise<unknown>;
  setTarget(uid: string, target: Target): Promise<unknown>;
  /** Hold the endpoint's traffic for a planned master switch (proxy op `hold`). */
  hold(uid: string, o: { drainMs: number; timeoutMs: number; successor?: Successor }): Promise<{ drained: boolean }>;
  /** End a hold; with a target, the held clients move there without losing their connections. */
  release(uid: string, target?: Target): Promise<unknown>;
  list(): Promise<EndpointInfo[]>;
  /** The proxy process answers: its pid, version, uptime. */
  ping(): Promise<PingResult>;
  /**
   * The pid of the proxy last adopted or started, when the implementation knows it: it changes without
   * ensureRunning when a request replaced an older build that refused it (a manager upgrade).
   */
  readonly pid?: number | undefined;
  /** Replacing an older build (the old one is gone, the new one not yet up): not a lost proxy. */
  readonly replacing?: boolean;
  /** The proxy adopted is of a build before the control schema digest (a manager upgrade kept it running). */
  readonly legacy?: boolean;
  /** PING the endpoint's target from the proxy (availability checks). */
  probe(uid: string): Promise<ProbeResult>;
  shutdown(): Promise<unknown>;
  close(): void;
}

export class DataPlane {
  /** Shard processes this manager started or adopted, by shard uid. */
  readonly handles = new Map<number, ShardHandle>();
  private readonly admins = new Map<number, ShardAdmin>();
  private proxyReady: Promise<unknown> | undefined;
  /** The pid of the proxy this manager started or adopted, once known. */
  private proxyPid: number | undefined;

  constructor(
    readonly supervisor: ShardSupervisor,
    readonly proxy: EndpointProxy,
    private readonly opts: { proxySilenceMs?: number; proxyPingEveryMs?: number } = {},
  ) {}

  /** A cached admin connection to a shard; dropped by `forget` when the shard goes away. */
  admin(shard: { uid: number; port?: number }): ShardAdmin {
    let a = this.admins.get(shard.uid);
    // A shard moved to another port (its own was taken while it was down): the cached client is the old port's.
    if (a && shard.port !== undefined && a.port !== shard.port) {
      a.close();
      this.admins.delete(shard.uid);
      a = undefined;
    }
    if (!a) {
      if (shard.port === undefined) throw new Error(`shard ${shard.uid} has no port`);
      a = this.supervisor.admin({ port: shard.port });
      this.admins.set(shard.uid, a);
    }
    return a;
  }

  /**
   * Start (or adopt) the proxy the first time an endpoint needs it, not at every manager start:
   * a node without databases runs no proxy process.
   */
  ensureProxy(): Promise<unknown> {
    this.proxyReady ??= this.proxy.ensureRunning().then(
      (p) => {
        this.proxyPid = p.pid;
        this.proxyAnsweredAt = Date.now();
        return p;
      },
      (e: unknown) => {
        this.proxyReady = undefined;
        throw e;
      },
    );
    return this.proxyReady;
  }

  /**
   * Whether the proxy this manager started or adopted has exited (killed, crashed), was stopped too long, or
   * runs but has answered no control ping for PROXY_SILENCE_MS (the last two are killed). It is then
   * forgotten, so that the next ensureProxy starts a new one (which restores its endpoints from its
   * state file); the caller reconciles the databases so that each endpoint is checked.
   */
  proxyLost(): { why: string } | undefined {
    if (this.proxy.replacing) return undefined;
    if (this.proxyPid !== undefined && this.proxy.pid !== undefined && this.proxy.pid !== this.proxyPid) {
      // The client replaced the proxy (an older build left by a manager upgrade refused a request): the one it
      // started is the one watched now. Before, the replaced one was reported as exited (an error, and every
      // database reconciled again) on every upgrade.
      this.proxyPid = this.proxy.pid;
      this.proxyReady = Promise.resolve({ pid: this.proxy.pid });
      this.proxyAnsweredAt = Date.now();
      this.proxyStops = 0;
    }
    const pid = this.proxyPid;
    if (pid === undefined) return undefined;
    let why = 'the proxy process exited';
    if (processExists(pid)) {
      // A stopped proxy (SIGSTOP, state T) serves no client and answers no control request, and nothing else
      // would end it: after PROXY_STOPPED_CHECKS checks in a row it is killed and replaced, as a stopped shard is.
      // One that runs but answers nothing (an event loop that never returns) serves no client either.
      this.proxyStops = processState(pid) === 'T' ? this.proxyStops + 1 : 0;
      const silentMs = this.pingProxy(pid);
      if (this.proxyStops >= PROXY_STOPPED_CHECKS) why = 'the proxy process was stopped (SIGSTOP)';
      else if (silentMs >= (this.opts.proxySilenceMs ?? PROXY_SILENCE_MS)) why = `the proxy answered no control request for ${Math.round(silentMs / 1000)} s`;
      else return undefined;
      killGroup(pid);
    }
    this.proxyStops = 0;
    this.proxyPid = undefined;
    this.proxyReady = undefined;
    return { why };
  }
  private proxyStops = 0;

  /** How long the proxy `pid` has answered no control ping; sends the next one when due. */
  private pingProxy(pid: number): number {
    const now = Date.now();
    if (!this.proxyPinging && now - this.proxyPingedAt >= (this.opts.proxyPingEveryMs ?? PROXY_PING_EVERY_MS)) {
      this.proxyPinging = true;
      this.proxyPingedAt = now;
      this.proxy.ping().then(
        (p) => {
          if (p.pid === pid) this.proxyAnsweredAt = Date.now();
        },
        () => undefined,
      ).finally(() => (this.proxyPinging = false));
    }
    return now - this.proxyAnsweredAt;
  }
  private proxyPinging = false;
  private proxyPingedAt = 0;
  private proxyAnsweredAt = 0;

  /** Stop the proxy if this manager started or adopted it. */
  async stopProxy(): Promise<void> {
    if (!this.proxyReady) return;
    this.proxyReady = undefined;
    this.proxyPid = undefined;
    await this.proxy.shutdown();
  }

  forget(shardUid: number): void {
    this.admins.get(shardUid)?.close();
    this.admins.delete(shardUid);
    this.handles.delete(shardUid);
  }

  closeClients(): void {
    for (const a of this.admins.values()) a.close();
    this.admins.clear();
    this.proxy.close();
  }
}
