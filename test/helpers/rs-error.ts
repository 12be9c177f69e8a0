/** The RS error-body assertion every API test uses: status, JSON body, error_code and description. */
import { expect } from 'vitest';
import type { Resp } from './https-client.js';

export function expectRsError(r: Resp, status: number, code?: string): void {
  expect({ status: r.status, error_code: r.json?.error_code }, r.text).toEqual({ status, error_code: code ?? r.json?.error_code });
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof r.json?.error_code).toBe('string');
  expect(typeof r.json?.description).toBe('string');
}
