/**
 * The stats intervals of objects/statistics/_index.md and how many samples each keeps
 * ("Maximum number of samples per interval"). Buckets are aligned to multiples of their length
 * since the Unix epoch, as the captures show (10sec buckets end on :00/:10..., 5min on :00/:05...).
 */
export const INTERVALS = [
  { name: '1sec', seconds: 1, maxSamples: 10 },
  { name: '10sec', seconds: 10, maxSamples: 30 },
  { name: '5min', seconds: 300, maxSamples: 12 },
  { name: '15min', seconds: 900, maxSamples: 96 },
  { name: '1hour', seconds: 3600, maxSamples: 168 },
  { name: '12hour', seconds: 43_200, maxSamples: 62 },
  { name: '1week', seconds: 604_800, maxSamples: 53 },
] as const;

export type IntervalName = (typeof INTERVALS)[number]['name'];
export const INTERVAL_NAMES: readonly IntervalName[] = INTERVALS.map((i) => i.name);

export function isIntervalName(s: string): s is IntervalName {
  return (INTERVAL_NAMES as readonly string[]).includes(s);
}

/** A metric value: numbers for almost everything, RS timestamps for last_req_time/last_res_time. */
export type MetricValue = number | string;
export type MetricValues = Record<string, MetricValue>;

/** One stored sample, as the stats routes return it. */
export type StatsEntry = { interval: IntervalName; stime: string; etime: string } & MetricValues;

/** RS timestamp of an epoch second. */
export function rsSecond(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}
