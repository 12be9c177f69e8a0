/** Strict ISO 8601 date-times for stime/etime (src/util/iso-time.ts). */
import { describe, expect, it } from 'vitest';
import { parseIsoDateTime } from '../src/util/iso-time.js';

const iso = (raw: string) => {
  const t = parseIsoDateTime(raw);
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('parseIsoDateTime', () => {
  it('reads the spec forms and other ISO 8601 date-times; no offset means UTC', () => {
    for (const [raw, utc] of [
      ['2015-05-27T12:00:00Z', '2015-05-27T12:00:00.000Z'],
      ['2014-08-28T10:00:00Z', '2014-08-28T10:00:00.000Z'],
      ['2020-01-01T02:05:00+02:00', '2020-01-01T00:05:00.000Z'],
      ['2020-01-01T02:05:00+0200', '2020-01-01T00:05:00.000Z'],
      ['2020-01-01T00:05:00-01', '2020-01-01T01:05:00.000Z'],
      ['2020-01-01T00:05:00.250Z', '2020-01-01T00:05:00.250Z'],
      ['2020-01-01T00:05:00,5Z', '2020-01-01T00:05:00.500Z'],
      ['2020-01-01T00:05Z', '2020-01-01T00:05:00.000Z'],
      ['2020-01-01T00:05:00', '2020-01-01T00:05:00.000Z'],
      ['20200101T000500Z', '2020-01-01T00:05:00.000Z'],
      ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
      ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ]) {
      expect(iso(raw!), raw).toBe(utc);
    }
  });

  it('refuses dates and times that do not exist', () => {
    for (const raw of ['2026-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2020-04-31T00:00:00Z', '2020-13-01T00:00:00Z',
      '2020-00-10T00:00:00Z', '2020-01-00T00:00:00Z', '2020-01-01T24:00:00Z', '2020-01-01T23:60:00Z', '2020-01-01T23:59:60Z', '2020-01-01T00:00:00+24:00']) {
      expect(iso(raw), raw).toBeUndefined();
    }
  });

  it('refuses what is not an ISO 8601 date-time', () => {
    for (const raw of ['1', '2001', 'yesterday', '2020-01-01', '12:00:00', '2020-01-01 00:00:00Z', '2020-W01-1T00:00:00Z', '2020-001T00:00:00Z',
      '2020-01-01T00Z', '2020-0101T000000Z', 'Wed, 01 Jan 2020 00:00:00 GMT', '1577836800', ' 2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z ']) {
      expect(iso(raw), raw).toBeUndefined();
    }
  });
});
