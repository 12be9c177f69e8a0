/** GET /v1/logs over the event store: time window, order, limit/offset pagination, permissions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
  // 25 events in January 2020, one a minute, apart from anything the node logs itself.
  for (let i = 0; i < 25; i++) {
    const time = new Date(Date.UTC(2020, 0, 1, 0, i)).toISOString().replace(/\.000Z$/, 'Z');
    t.node.composed.events.append({ time, type: 'bdb_updated', severity: 'INFO', bdb_uid: String(i) });
  }
});
afterAll(async () => {
  await t?.close();
});

const WINDOW = 'stime=2020-01-01T00:00:00Z&etime=2020-01-01T23:59:59Z';

describe('GET /v1/logs', () => {
  it('returns events in ascending order by default, with time, type and their own fields', async () => {
    const r = await t.req('GET', `/v1/logs?${WINDOW}`);
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(25);
    expect(r.json[0]).toEqual({ time: '2020-01-01T00:00:00Z', type: 'bdb_updated', severity: 'INFO', bdb_uid: '0' });
    expect(r.json.map((e: any) => e.bdb_uid)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('pages with limit and offset in either order and filters by stime/etime inclusively', async () => {
    const page = async (q: string) => (await t.req('GET', `/v1/logs?${WINDOW}&${q}`)).json.map((e: any) => Number(e.bdb_uid));
    expect(await page('limit=10')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await page('limit=10&offset=10')).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await page('limit=10&offset=20')).toEqual([20, 21, 22, 23, 24]);
    expect(await page('limit=10&offset=30')).toEqual([]);
    expect(await page('order=desc&limit=3')).toEqual([24, 23, 22]);
    expect(await page('order=desc&limit=3&offset=3')).toEqual([21, 20, 19]);
    // Integers past SQLite's range are read as "all of them" (the page lists no error status).
    expect(await page('limit=99999999999999999999')).toHaveLength(25);
    expect(await page('limit=9223372036854775808&offset=24')).toEqual([24]);
    expect(await page('offset=9223372036854775808')).toEqual([]);
    expect(await page('limit=2&offset=99999999999999999999999999')).toEqual([]);
    const narrow = await t.req('GET', '/v1/logs?stime=2020-01-01T00:05:00Z&etime=2020-01-01T00:07:00Z');
    expect(narrow.json.map((e: any) => e.bdb_uid)).toEqual(['5', '6', '7']);
    // Other ISO 8601 spellings of the same instant work too.
    const offsetForm = await t.req('GET', `/v1/logs?stime=${encodeURIComponent('2020-01-01T02:05:00+02:00')}&etime=2020-01-01T00:05:00.000Z`);
    expect(offsetForm.json.map((e: any) => e.bdb_uid)).toEqual(['5']);
  });

  it('includes the events the node writes itself, and refuses bad parameters and unauthorized callers', async () => {
    await t.req('GET', '/v1/bdbs', { auth: { user: 'nobody@test.local', pass: 'wrong-password' } });
    const recent = (await t.req('GET', '/v1/logs?order=desc&limit=5')).json;
    expect(recent.some((e: any) => e.type === 'user_login_failed')).toBe(true);
    expect((await t.req('GET', '/v1/logs?order=sideways')).status).toBe(400);
    expect((await t.req('GET', '/v1/logs?limit=-1')).status).toBe(400);
    expect((await t.req('GET', '/v1/logs?stime=not-a-time')).status).toBe(400);
    // Strict ISO 8601: dates that do not exist and values that are not date-times are refused.
    for (const bad of ['stime=2026-02-30T00:00:00Z', 'etime=1', 'etime=2020-01-01', 'stime=2020-01-01T00:00:60Z', 'stime=2020-01-01%2000:00:00Z']) {
      const r = await t.req('GET', `/v1/logs?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.json.error_code, bad).toBe('invalid_param');
    }
    expect((await t.req('GET', '/v1/logs', { auth: null })).status).toBe(401);
  });
});
