/**
 * The cluster configuration store (CCS) contract: a narrow key/value interface with revisions,
 * modelled on etcd v3 (and kine, which maps it onto SQL). Every write gets a new cluster-wide
 * revision; compare-and-set on `modRevision` makes concurrent edits safe; `watch` delivers the
 * revision log after a given revision. Domain stores build on this and never see the backend.
 *
 * Keys are '/'-separated paths; values are JSON-serializable.
 */
export interface KvEntry<T = unknown> {
  key: string;
  value: T;
  /** Revision of the write that created the key (reset when the key is deleted and re-created). */
  createRevision: number;
  /** Revision of the last write to the key. */
  modRevision: number;
  /** Number of writes since the key was created (1 after the first put). */
  version: number;
}

/** A transaction guard: the key's modRevision must equal this (0 = the key must not exist). */
export interface Compare {
  key: string;
  modRevision: number;
}

export type Op = { type: 'put'; key: string; value: unknown } | { type: 'delete'; key: string };

export interface TxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction (unchanged when it did not succeed). */
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value for puts; undefined for deletes. */
  value?: unknown;
  revision: number;
}

export type Unwatch = () => void;

export interface KvBackend {
  get<T = unknown>(key: string): Promise<KvEntry<T> | undefined>;
  /** All live keys starting with prefix, in key order. */
  list<T = unknown>(prefix: string): Promise<KvEntry<T>[]>;
  /**
   * Write a key. With `expectModRevision`, the write only happens if the key's current
   * modRevision equals it (0: the key must not exist); otherwise KvConflictError is thrown.
   * Returns the new revision.
   */
  put(key: string, value: unknown, expectModRevision?: number): Promise<number>;
  /** Delete a key; false when it did not exist. Same `expectModRevision` rule as put. */
  delete(key: string, expectModRevision?: number): Promise<boolean>;
  /** All compares hold → every op is applied under one new revision; else nothing changes. */
  txn(compares: Compare[], ops: Op[]): Promise<TxnResult>;
  /** The current store revision (0 for an empty store). */
  revision(): Promise<number>;
  /**
   * Deliver every change under prefix with a revision > afterRevision, in order, batched.
   * Changes made through this backend arrive promptly; changes by other processes sharing
   * the store arrive within the poll interval.
   */
  watch(prefix: string, afterRevision: number, onEvents: (events: WatchEvent[]) => void): Unwatch;
  close(): Promise<void>;
}

export class KvConflictError extends Error {
  constructor(readonly key: string) {
    super(`concurrent modification of ${key}`);
    this.name = 'KvConflictError';
  }
}
