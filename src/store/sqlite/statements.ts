import type Database from 'better-sqlite3';

/**
 * Prepared statements of one connection, by SQL text. Preparing a statement costs more than running it (a
 * database create ran a few hundred statements, and preparing them was the manager's largest single cost).
 */
export class Statements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  sql(text: string): Database.Statement {
    let st = this.cache.get(text);
    if (!st) this.cache.set(text, (st = this.db.prepare(text)));
    return st;
  }
}
