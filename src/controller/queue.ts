/**
 * A level-triggered work queue (controller-runtime's workqueue, trimmed): keys are deduplicated
 * while waiting, a key is never reconciled twice at once (a key added while it runs is re-run
 * after), failures retry with exponential backoff, and a reconcile can ask to run again later.
 */
export interface ReconcileResult {
  /** Run this key again after this many ms (e.g. to poll a replica's sync). */
  requeueAfterMs?: number;
}

/** Thrown by a reconciler for a failure that retrying cannot fix; the key is not retried. */
export class TerminalError extends Error {
  constructor(message: string, readonly error_code = 'internal_error') {
    super(message);
    this.name = 'TerminalError';
  }
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface QueueOptions {
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, err: unknown, attempt: number) => void;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly reconcile: Reconcile, private readonly opts: QueueOptions = {}) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  /** Add after a delay (a pending delayed add for the key is replaced by the sooner one). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (!this.stopped && this.active < limit && this.waiting.length > 0) {
      const key = this.waiting.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.runOne(key);
    }
    if (this.active === 0 && this.waiting.length === 0) {
      const w = this.idleWaiters.splice(0);
      w.forEach((f) => f());
    }
  }

  private async runOne(key: string): Promise<void> {
    try {
      const res = await this.reconcile(key);
      this.failures.delete(key);
      if (res?.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
    } catch (err) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.opts.onError?.(key, err, attempt);
      if (err instanceof TerminalError) {
        this.failures.delete(key);
      } else {
        this.failures.set(key, attempt);
        const base = this.opts.baseBackoffMs ?? 100;
        this.addAfter(key, Math.min(this.opts.maxBackoffMs ?? 30_000, base * 2 ** (attempt - 1)));
      }
    } finally {
      this.running.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }

  /** Resolves when nothing is running or waiting (delayed adds do not count). */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop taking work; resolves when running reconciles have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.queued.clear();
    while (this.active > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
