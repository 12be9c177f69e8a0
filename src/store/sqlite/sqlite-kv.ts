/**
 * KvBackend on SQLite (better-sqlite3, WAL). Layout follows kine's log-structured idea, trimmed:
 * `kv` holds the live keys, `log` is the revision log that watchers read. A transaction takes one
 * new revision for all its ops. The log is compacted to the last LOG_KEEP revisions; a watcher
 * that falls further behind than that gets the current state of its prefix as puts instead.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { KvConflictError, type Compare, type KvBackend, type KvEntry, type Op, type TxnResult, type Unwatch, type WatchEvent } from '../kv.js';
import { Statements } from './statements.js';

const LOG_KEEP = 10_000;
const POLL_MS = 1000;

interface Row { key: string; value: string; create_revision: number; mod_revision: number; version: number }
interface LogRow { revision: number; key: string; type: 'put' | 'delete'; value: string | null }

interface Watcher { prefix: string; after: number; onEvents: (e: WatchEvent[]) => void; scheduled: boolean }

export class SqliteKv implements KvBackend {
  private readonly db: Database.Database;
  private readonly watchers = new Set<Watcher>();
  private readonly statements: Statements;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param file a path, or ':memory:' */
  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed CCS write survives power loss; writes are rare, so the cost is small.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.statements = new Statements(this.db);
    // The CCS holds password hashes, private keys and the JWT signing key: owner-only, whatever the umask.
    if (file !== ':memory:') {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL,
                                     mod_revision INTEGER NOT NULL, version INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, revision INTEGER NOT NULL, key TEXT NOT NULL,
                                      type TEXT NOT NULL, value TEXT);
      CREATE INDEX IF NOT EXISTS log_revision ON log(revision);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta(name, value) VALUES ('revision', 0), ('compacted', 0);
    `);
  }

  private sql(text: string): Database.Statement {
    return this.statements.sql(text);
  }

  private rev(): number {
    return (this.sql(`SELECT value FROM meta WHERE name = 'revision'`).get() as { value: number }).value;
  }

  private toEntry<T>(r: Row): KvEntry<T> {
    return { key: r.key, value: JSON.parse(r.value) as T, createRevision: r.create_revision, modRevision: r.mod_revision, version: r.version };
  }

  async get<T>(key: string): Promise<KvEntry<T> | undefined> {
    const r = this.sql('SELECT * FROM kv WHERE key = ?').get(key) as Row | undefined;
    return r && this.toEntry<T>(r);
  }

  async list<T>(prefix: string): Promise<KvEntry<T>[]> {
    // Range scan [prefix, prefix + U+FFFF) keeps the primary-key index in use (LIKE would not, and needs escaping).
    const rows = this.sql('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key').all(prefix, prefix + '\uffff') as Row[];
    return rows.map((r) => this.toEntry<T>(r));
  }

  async put(key: string, value: unknown, expectModRevision?: number): Promise<number> {
    const compares = expectModRevision === undefined ? [] : [{ key, modRevision: expectModRevision }];
    const res = await this.txn(compares, [{ type: 'put', key, value }]);
    if (!res.succeeded) throw new KvConflictError(key);
    return res.revision;
  }

  async delete(key: string, expectModRevision?: number): Promise<boolean> {
    const existed = this.sql('SELECT 1 FROM kv WHERE key = ?').get(key) !== undefined;
    const compares = expectModRevision === undefined ? [] : [{ key, modRevision: expectModRevision }];
    const res = await this.txn(compares, [{ type: 'delete', key }]);
    if (!res.succeeded) throw new KvConflictError(key);
    return existed;
  }

  async txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    const serialized = ops.map((op) => {
      // JSON.stringify yields undefined (despite its type) for functions and undefined itself.
      const json = op.type === 'put' ? (JSON.stringify(op.value) as string | undefined) : null;
      if (json === undefined) throw new TypeError(`value for ${op.key} is not JSON-serializable`);
      return { ...op, json };
    });
    const run = this.db.transaction((): TxnResult => {
      for (const c of compares) {
        const r = this.sql('SELECT mod_revision FROM kv WHERE key = ?').get(c.key) as { mod_revision: number } | undefined;
        if ((r?.mod_revision ?? 0) !== c.modRevision) return { succeeded: false, revision: this.rev() };
      }
      if (serialized.length === 0) return { succeeded: true, revision: this.rev() };
      const revision = this.rev() + 1;
      this.sql(`UPDATE meta SET value = ? WHERE name = 'revision'`).run(revision);
      const logIns = this.sql('INSERT INTO log(revision, key, type, value) VALUES (?, ?, ?, ?)');
      for (const op of serialized) {
        if (op.type === 'put') {
          this
            .sql(`INSERT INTO kv(key, value, create_revision, mod_revision, version) VALUES (?, ?, ?, ?, 1)
                      ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision, version = version + 1`)
            .run(op.key, op.json, revision, revision);
          logIns.run(revision, op.key, 'put', op.json);
        } else {
          const del = this.sql('DELETE FROM kv WHERE key = ?').run(op.key);
          if (del.changes > 0) logIns.run(revision, op.key, 'delete', null);
        }
      }
      if (revision % 1000 === 0) this.compact(revision);
      return { succeeded: true, revision };
    });
    const res = run.immediate();
    if (res.succeeded && ops.length > 0) this.notify();
    return res;
  }

  private compact(revision: number): void {
    const keepFrom = revision - LOG_KEEP;
    if (keepFrom <= 0) return;
    this.sql('DELETE FROM log WHERE revision < ?').run(keepFrom);
    this.sql(`UPDATE meta SET value = ? WHERE name = 'compacted'`).run(keepFrom - 1);
  }

  async revision(): Promise<number> {
    return this.rev();
  }

  watch(prefix: string, afterRevision: number, onEvents: (events: WatchEvent[]) => void): Unwatch {
    const w: Watcher = { prefix, after: afterRevision, onEvents, scheduled: false };
    this.watchers.add(w);
    this.schedule(w);
    if (!this.pollTimer) {
      // The poll catches writes by other processes sharing the file; in-process writes notify directly.
      this.pollTimer = setInterval(() => this.watchers.forEach((x) => this.deliver(x)), POLL_MS);
      this.pollTimer.unref();
    }
    return () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  private notify(): void {
    for (const w of this.watchers) this.schedule(w);
  }

  private schedule(w: Watcher): void {
    if (w.scheduled) return;
    w.scheduled = true;
    setImmediate(() => {
      w.scheduled = false;
      this.deliver(w);
    });
  }

  private deliver(w: Watcher): void {
    if (this.closed || !this.watchers.has(w)) return;
    const compacted = (this.sql(`SELECT value FROM meta WHERE name = 'compacted'`).get() as { value: number }).value;
    let events: WatchEvent[];
    if (w.after < compacted) {
      // The log no longer reaches back that far: resynchronize with the live state of the prefix.
      const rev = this.rev();
      const rows = this.sql('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key').all(w.prefix, w.prefix + '\uffff') as Row[];
      events = rows.map((r) => ({ type: 'put', key: r.key, value: JSON.parse(r.value), revision: rev }));
      w.after = rev;
    } else {
      // Bound the read by a revision taken first, so a write by another process between the two
      // statements is neither skipped nor delivered twice.
      const upTo = this.rev();
      const rows = this
        .sql('SELECT revision, key, type, value FROM log WHERE revision > ? AND revision <= ? AND key >= ? AND key < ? ORDER BY id')
        .all(w.after, upTo, w.prefix, w.prefix + '\uffff') as LogRow[];
      events = rows.map((r) => ({ type: r.type, key: r.key, value: r.value === null ? undefined : JSON.parse(r.value), revision: r.revision }));
      w.after = Math.max(w.after, upTo);
    }
    if (events.length > 0) w.onEvents(events);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    // Fold the WAL back into the main file so the data dir is a single consistent file at rest.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
