/** The RS error-body assertion every API test uses (status, JSON body, error_code, description), and its success twin. */
import { expect } from 'vitest';
import type { Resp } from './https-client.js';

export function expectRsError(r: Resp, status: number, code?: string): void {
  expect({ status: r.status, error_code: r.json?.error_code }, r.text).toEqual({ status, error_code: code ?? r.json?.error_code });
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof r.json?.error_code).toBe('string');
  expect(typeof r.json?.description).toBe('string');
}

/** The JSON body of an answer that must be 200 (the body is the failure message otherwise). */
export async function ok(r: Promise<Resp>): Promise<any> {
  const res = await r;
  expect(res.status, res.text).toBe(200);
  return res.json;
}
