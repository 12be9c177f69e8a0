/**
 * Strict ISO 8601 date-time parsing for the `stime` / `etime` query parameters (stats and logs
 * pages: "Should comply with the ISO_8601 format", examples like "2015-05-27T12:00:00Z").
 * `Date.parse` is no check: it rolls "2026-02-30" over to March 2 and reads "1" as the year 2001.
 *
 * Accepted: a calendar date and a time of day, in the extended (`2015-05-27T12:00:00Z`) or the
 * basic (`20150527T120000Z`) format, not mixed; seconds and a fraction (`.` or `,`) optional; a
 * UTC offset `Z`, `±hh:mm` / `±hhmm`, or `±hh` (`±hhmm` also after an extended time, as strftime's
 * `%z` writes it). Without an offset the time is UTC, the zone of
 * every RS timestamp (not the server's local zone). Everything else is refused: dates and times
 * that do not exist (Feb 30, 25:00, :60 leap seconds), a date or a time alone, week or ordinal
 * dates, and anything that is not ISO 8601.
 */

import { RsError } from '../errors.js';

const EXTENDED = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const BASIC = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?:\d{2})?)?$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (year: number, month: number) => (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]!);

/** Milliseconds since the epoch, or undefined when `raw` is not an existing ISO 8601 date-time. */
export function parseIsoDateTime(raw: string): number | undefined {
  const m = EXTENDED.exec(raw) ?? BASIC.exec(raw);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!)) return undefined;
  if (hour! > 23 || minute! > 59 || second > 59) return undefined;
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!);
  d.setUTCHours(hour!, minute!, second, ms);
  return d.getTime() - offsetMin * 60_000;
}

/** A `stime` / `etime` query parameter: epoch ms, undefined when absent or empty; 400 invalid_param when not an ISO 8601 date-time. */
export function timeParam(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const t = parseIsoDateTime(raw);
  if (t === undefined) throw new RsError('invalid_param', `${name}: '${raw}' is not an ISO 8601 date-time (e.g. 2015-05-27T12:00:00Z)`);
  return t;
}
