/** The SQLite event store behind GET /v1/logs (src/store/sqlite/sqlite-events.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/store/event-store.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-events.js';

const open: SqliteEventStore[] = [];
const store = (file = ':memory:', max?: number) => {
  const s = new SqliteEventStore(file, max);
  open.push(s);
  return s;
};
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const ev = (second: number, type = 'user_updated', extra: Record<string, unknown> = {}): LoggedEvent => ({
  time: `2025-10-14T00:00:${String(second).padStart(2, '0')}Z`,
  type,
  severity: 'INFO',
  ...extra,
});

describe('SqliteEventStore', () => {
  it('returns events in append order with all their fields', () => {
    const s = store();
    s.append(ev(1, 'user_created', { user_uid: 2, changed: ['name'] }));
    s.append(ev(2, 'user_deleted', { user_uid: 2 }));
    expect(s.query({})).toEqual([ev(1, 'user_created', { user_uid: 2, changed: ['name'] }), ev(2, 'user_deleted', { user_uid: 2 })]);
  });

  it('stime and etime are inclusive bounds; order desc reverses', () => {
    const s = store();
    for (let i = 0; i < 10; i++) s.append(ev(i));
    expect(s.query({ stime: ev(3).time, etime: ev(5).time }).map((e) => e.time)).toEqual([ev(3).time, ev(4).time, ev(5).time]);
    expect(s.query({ stime: ev(8).time }).length).toBe(2);
    expect(s.query({ etime: ev(1).time }).length).toBe(2);
    expect(s.query({ order: 'desc', limit: 3 }).map((e) => e.time)).toEqual([ev(9).time, ev(8).time, ev(7).time]);
    expect(s.query({ order: 'asc' }).map((e) => e.time)).toEqual(Array.from({ length: 10 }, (_, i) => ev(i).time));
  });

  it('limit and offset page through the events', () => {
    const s = store();
    for (let i = 0; i < 10; i++) s.append(ev(i));
    expect(s.query({ limit: 3, offset: 0 }).map((e) => e.time)).toEqual([ev(0).time, ev(1).time, ev(2).time]);
    expect(s.query({ limit: 3, offset: 3 }).map((e) => e.time)).toEqual([ev(3).time, ev(4).time, ev(5).time]);
    expect(s.query({ limit: 3, offset: 9 }).map((e) => e.time)).toEqual([ev(9).time]);
    expect(s.query({ offset: 8 }).length).toBe(2);
    expect(s.query({ limit: 0 })).toEqual([]);
    expect(s.query({ order: 'desc', limit: 2, offset: 2 }).map((e) => e.time)).toEqual([ev(7).time, ev(6).time]);
    expect(s.query({ stime: ev(2).time, limit: 2, offset: 1 }).map((e) => e.time)).toEqual([ev(3).time, ev(4).time]);
  });

  it('events with the same timestamp keep their append order', () => {
    const s = store();
    s.append(ev(5, 'a'));
    s.append(ev(5, 'b'));
    s.append(ev(5, 'c'));
    expect(s.query({}).map((e) => e.type)).toEqual(['a', 'b', 'c']);
    expect(s.query({ order: 'desc' }).map((e) => e.type)).toEqual(['c', 'b', 'a']);
  });

  it('prunes the oldest events past the cap (in batches of 1000 appends)', () => {
    const s = store(':memory:', 10);
    for (let i = 0; i < 999; i++) s.append(ev(i % 60, `e${i}`));
    expect(s.query({}).length).toBe(999);
    s.append(ev(0, 'e999'));
    const left = s.query({});
    expect(left.length).toBe(10);
    expect(left.map((e) => e.type)).toEqual(Array.from({ length: 10 }, (_, i) => `e${990 + i}`));
    for (let i = 1000; i < 1005; i++) s.append(ev(0, `e${i}`));
    expect(s.query({}).length).toBe(15);
  });

  it('keeps events in a file across reopening', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-events-'));
    try {
      const file = path.join(dir, 'sub', 'ccs.db');
      const a = new SqliteEventStore(file);
      a.append(ev(1, 'user_created'));
      a.close();
      const b = store(file);
      expect(b.query({}).map((e) => e.type)).toEqual(['user_created']);
    } finally {
      for (const s of open.splice(0)) s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
