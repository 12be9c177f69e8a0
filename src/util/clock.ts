/** Injected time, so services and tests agree on "now" (STYLE habit 11). */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** RS timestamps: ISO 8601 UTC without milliseconds, e.g. "2025-10-14T00:01:06Z". */
export function rsTime(d: Date): string {
  return d.toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}
