/** Strict ISO 8601 date-times for stime/etime (src/util/iso-time.ts). */
import { describe, expect, it } from 'vitest';
import { parseIsoDateTime } from '../src/util/iso-time.js';

const iso = (raw: string) => {
  const t = parseIsoDateTime(raw);
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('parseIsoDateTime', () => {
  it('reads the spec forms and other ISO 8601 date-times; no offset means UTC', () => {
    expect(iso('2015-05-27T12:00:00Z')).toBe('2015-05-27T12:00:00.000Z');
    expect(iso('2014-08-28T10:00:00Z')).toBe('2014-08-28T10:00:00.000Z');
    expect(iso('2020-01-01T02:05:00+02:00')).toBe('2020-01-01T00:05:00.000Z');
    expect(iso('2020-01-01T02:05:00+0200')).toBe('2020-01-01T00:05:00.000Z');
    expect(iso('2020-01-01T00:05:00-01')).toBe('2020-01-01T01:05:00.000Z');
    expect(iso('2020-01-01T00:05:00.250Z')).toBe('2020-01-01T00:05:00.250Z');
    expect(iso('2020-01-01T00:05:00,5Z')).toBe('2020-01-01T00:05:00.500Z');
    expect(iso('2020-01-01T00:05Z')).toBe('2020-01-01T00:05:00.000Z');
    expect(iso('2020-01-01T00:05:00')).toBe('2020-01-01T00:05:00.000Z');
    expect(iso('20200101T000500Z')).toBe('2020-01-01T00:05:00.000Z');
    expect(iso('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(iso('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z');
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
