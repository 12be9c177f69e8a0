/**
 * Typed access to one kind of RS object in the KV: singletons (`/cluster`) and uid collections
 * (`/users/<uid>`). Domain services use these; none of them sees keys or revisions beyond the
 * `modRevision` they pass back for compare-and-set.
 */
import { KvConflictError, type KvBackend, type Op } from './kv.js';

export interface Versioned<T> {
  value: T;
  modRevision: number;
}

/** One object at a fixed key. */
export class Singleton<T> {
  constructor(private readonly kv: KvBackend, readonly key: string) {}

  async get(): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get<T>(this.key);
    return e && { value: e.value, modRevision: e.modRevision };
  }

  /** Write with compare-and-set; `modRevision` 0 means "must not exist yet". */
  async put(value: T, modRevision?: number): Promise<number> {
    return this.kv.put(this.key, value, modRevision);
  }

  putOp(value: T): Op {
    return { type: 'put', key: this.key, value };
  }

  /** Read-modify-write, retried on concurrent modification. */
  async update(fn: (current: T | undefined) => T): Promise<T> {
    for (;;) {
      const cur = await this.get();
      const next = fn(cur?.value);
      try {
        await this.put(next, cur?.modRevision ?? 0);
        return next;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }
}

/** Objects keyed by an integer uid under a prefix, e.g. `/users/`. */
export class Collection<T extends { uid: number }> {
  constructor(private readonly kv: KvBackend, readonly prefix: string) {}

  key(uid: number): string {
    return `${this.prefix}${uid}`;
  }

  async get(uid: number): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get<T>(this.key(uid));
    return e && { value: e.value, modRevision: e.modRevision };
  }

  /** All objects, ordered by uid (keys sort as strings, so order numerically here). */
  async list(): Promise<T[]> {
    const entries = await this.kv.list<T>(this.prefix);
    return entries.map((e) => e.value).sort((a, b) => a.uid - b.uid);
  }

  putOp(value: T): Op {
    return { type: 'put', key: this.key(value.uid), value };
  }

  /** Write one object with compare-and-set (KvConflictError when modRevision is stale). */
  async kvPut(value: T, modRevision?: number): Promise<number> {
    return this.kv.put(this.key(value.uid), value, modRevision);
  }

  deleteOp(uid: number): Op {
    return { type: 'delete', key: this.key(uid) };
  }

  /**
   * Allocate the next uid. Uids are never reused (RS behaviour: a deleted bdb's uid stays
   * retired), so the counter lives in its own key and only grows.
   */
  async allocateUid(): Promise<number> {
    const counter = `/counters${this.prefix.replace(/\/$/, '')}`;
    for (;;) {
      const cur = await this.kv.get<number>(counter);
      const next = (cur?.value ?? 0) + 1;
      try {
        await this.kv.put(counter, next, cur?.modRevision ?? 0);
        return next;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }
}
