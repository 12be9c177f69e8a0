/**
 * All endpoints of this proxy, keyed by uid, and the state file that mirrors them. Every
 * change is persisted before it is acknowledged, so what the manager was told is what a
 * restarted proxy restores.
 */
import type { Logger } from 'pino';
import { Endpoint, resolveSpec, type ResolvedSpec } from './endpoint.js';
import { ProxyError, type EndpointInfo, type EndpointSpec, type EndpointStats, type RequestClass, type ProbeResult, type Successor, type Target, type Traffic } from './protocol.js';
import { loadState, saveState } from './state-file.js';

/** How often endpoints that could not bind (e.g. a port still held after a restart) retry. */
const RETRY_BIND_MS = 2_000;
/** Bound on the command classes the proxy keeps (names come from its callers). */
const MAX_CLASSES = 10_000;

export class EndpointTable {
  private readonly endpoints = new Map<string, Endpoint>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Command name → class, as the `stats` callers taught it. */
  private readonly classes = new Map<string, RequestClass>();

  constructor(private readonly opts: { stateFile?: string; log: Logger }) {}

  /** Load the state file and bring its endpoints up; ports that fail to bind are retried later. */
  async restore(): Promise<void> {
    if (!this.opts.stateFile) return;
    const { endpoints, problem } = loadState(this.opts.stateFile);
    if (problem) this.opts.log.error(problem);
    for (const spec of endpoints) {
      const ep = new Endpoint(spec, this.opts.log);
      try {
        await ep.restore();
      } catch (err) {
        // Only an invalid saved certificate gets here; keep the spec so `list` shows the problem.
        this.opts.log.error({ uid: spec.uid, err: (err as Error).message }, 'cannot restore endpoint');
      }
      this.endpoints.set(spec.uid, ep);
    }
    this.opts.log.info({ endpoints: endpoints.length }, 'endpoints restored');
  }

  startRetry(): void {
    this.retryTimer = setInterval(() => {
      for (const ep of this.endpoints.values()) if (!ep.listening) void ep.retryBind();
    }, RETRY_BIND_MS);
    this.retryTimer.unref();
  }

  /** Idempotent upsert. Throws (and changes nothing) on a bind failure or a bad certificate. */
  async set(spec: EndpointSpec): Promise<EndpointInfo> {
    const existing = this.endpoints.get(spec.uid);
    const next = resolveSpec(spec, existing?.resolved);
    if (existing) {
      await existing.apply(next);
    } else {
      const ep = new Endpoint(next, this.opts.log);
      await ep.apply(next);
      this.endpoints.set(spec.uid, ep);
    }
    this.persist();
    return this.get(spec.uid).info();
  }

  remove(uid: string): { removed: boolean } {
    const ep = this.endpoints.get(uid);
    if (!ep) return { removed: false };
    ep.close();
    this.endpoints.delete(uid);
    this.persist();
    return { removed: true };
  }

  setTarget(uid: string, target: Target): EndpointInfo {
    const ep = this.get(uid);
    ep.setTarget(target);
    this.persist();
    return ep.info();
  }

  hold(uid: string, drainMs: number, timeoutMs: number, successor?: Successor): Promise<{ drained: boolean }> {
    // A hold that ends by itself on the successor changes the target: kept as a release would keep it.
    return this.get(uid).hold(drainMs, timeoutMs, successor, () => this.persist());
  }

  release(uid: string, target?: Target): EndpointInfo {
    const ep = this.get(uid);
    ep.release(target);
    this.persist();
    return ep.info();
  }

  setTraffic(uid: string, traffic: Traffic): EndpointInfo {
    const ep = this.get(uid);
    ep.setTraffic(traffic);
    this.persist();
    return ep.info();
  }

  list(): EndpointInfo[] {
    return [...this.endpoints.values()].map((ep) => ep.info());
  }

  stats(uid?: string, classes?: Record<string, RequestClass>): Record<string, EndpointStats> {
    if (classes) {
      for (const [name, cls] of Object.entries(classes)) {
        if (this.classes.size >= MAX_CLASSES && !this.classes.has(name)) break;
        this.classes.set(name, cls);
      }
    }
    const classify = (name: string): RequestClass => this.classes.get(name) ?? 'other';
    if (uid !== undefined) return { [uid]: this.get(uid).stats(classify) };
    return Object.fromEntries([...this.endpoints.values()].map((ep) => [ep.uid, ep.stats(classify)]));
  }

  probe(uid: string): Promise<ProbeResult> {
    return this.get(uid).probe();
  }

  /** Stop every endpoint (process exit); the state file is kept for the next start. */
  close(): void {
    clearInterval(this.retryTimer);
    for (const ep of this.endpoints.values()) ep.close();
  }

  private get(uid: string): Endpoint {
    const ep = this.endpoints.get(uid);
    if (!ep) throw new ProxyError('not_found', `no endpoint ${uid}`);
    return ep;
  }

  private persist(): void {
    if (!this.opts.stateFile) return;
    const specs: ResolvedSpec[] = [...this.endpoints.values()].map((ep) => ep.resolved);
    saveState(this.opts.stateFile, specs);
  }
}
