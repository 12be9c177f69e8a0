/** EventStore on SQLite: one table, id order = append order; the oldest rows are pruned past a cap. */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { EventQuery, EventStore, LoggedEvent } from '../event-store.js';
import { Statements } from './statements.js';

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly statements: Statements;
  private appended = 0;

  /** @param file a path (may be the CCS file: WAL allows a second connection), or ':memory:' */
  constructor(file: string, private readonly maxEvents = 100_000) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, body TEXT NOT NULL);
                  CREATE INDEX IF NOT EXISTS events_time ON events(time);`);
    this.statements = new Statements(this.db);
  }

  append(event: LoggedEvent): void {
    this.statements.sql('INSERT INTO events(time, body) VALUES (?, ?)').run(event.time, JSON.stringify(event));
    // Prune in batches rather than on every insert.
    if (++this.appended % 1000 === 0) {
      this.statements.sql('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?').run(this.maxEvents);
    }
  }

  query(q: EventQuery): LoggedEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.stime) { where.push('time >= ?'); args.push(q.stime); }
    if (q.etime) { where.push('time <= ?'); args.push(q.etime); }
    const order = q.order === 'desc' ? 'DESC' : 'ASC';
    const sql = `SELECT body FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ? OFFSET ?`;
    args.push(q.limit ?? -1, q.offset ?? 0);
    return (this.statements.sql(sql).all(...args) as { body: string }[]).map((r) => JSON.parse(r.body) as LoggedEvent);
  }

  close(): void {
    this.db.close();
  }
}
