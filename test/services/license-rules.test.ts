import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LICENSE_START,
  LICENSE_END,
  LICENSE_START,
  LicenseError,
  type LicenseTerms,
  TRIAL_DAYS,
  TRIAL_SHARDS_LIMIT,
  checkLicenseApplicable,
  encodeLicense,
  generateTrialLicense,
  licenseView,
  parseLicense,
} from '../../src/services/license-rules.js';

const capturePath = fileURLToPath(new URL('../../../shared/fixtures/redis-enterprise-rs/license.json', import.meta.url));
const capture: Record<string, unknown> | null = existsSync(capturePath)
  ? (JSON.parse(readFileSync(capturePath, 'utf8')) as Record<string, unknown>)
  : null;

const NOW = new Date('2025-10-14T00:01:06.789Z');
const DAY = 86_400_000;

const terms = (over: Partial<LicenseTerms> = {}): LicenseTerms => ({
  owner: 'Acme',
  cluster_name: 'mycluster.local',
  activation_date: '2025-01-01T00:00:00Z',
  expiration_date: '2026-01-01T00:00:00Z',
  shards_limit: 10,
  ram_shards_limit: 8,
  flash_shards_limit: 2,
  features: ['bigstore'],
  key: 'k-123',
  ...over,
});

const ctx = (over: Partial<Parameters<typeof checkLicenseApplicable>[1]> = {}) => ({
  clusterName: 'mycluster.local',
  shardsInUse: 1,
  ramShardsInUse: 1,
  flashShardsInUse: 0,
  now: new Date('2025-06-01T00:00:00Z'),
  ...over,
});

/** Runs fn and returns the LicenseError it throws (fails the test otherwise). */
function licenseError(fn: () => unknown): LicenseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LicenseError);
    return e as LicenseError;
  }
  throw new Error('expected a LicenseError');
}

const armored = (payload: string, start = LICENSE_START) => `${start}\n${payload}\n${LICENSE_END}\n`;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('trial license', () => {
  it('round-trips: 30 days from now (seconds precision), 4 shards, trial features, DEFAULT armor', () => {
    const text = generateTrialLicense(NOW);
    expect(text.startsWith(`${DEFAULT_LICENSE_START}\n`)).toBe(true);
    expect(text.endsWith(`\n${LICENSE_END}\n`)).toBe(true);
    const t = parseLicense(text);
    expect(TRIAL_DAYS).toBe(30);
    expect(TRIAL_SHARDS_LIMIT).toBe(4);
    expect(t).toEqual({
      owner: null,
      cluster_name: null,
      activation_date: '2025-10-14T00:01:06Z',
      expiration_date: '2025-11-13T00:01:06Z',
      shards_limit: 4,
      ram_shards_limit: null,
      flash_shards_limit: null,
      features: ['trial', 'bigstore'],
      key: '',
    });
    expect(Date.parse(t.expiration_date) - Date.parse(t.activation_date)).toBe(TRIAL_DAYS * DAY);
  });

  it('binds to a cluster name when given', () => {
    expect(parseLicense(generateTrialLicense(NOW, 'c1.example.com')).cluster_name).toBe('c1.example.com');
  });

  it('is applicable to a fresh cluster and expires after 30 days', () => {
    const t = parseLicense(generateTrialLicense(NOW));
    expect(() => checkLicenseApplicable(t, ctx({ now: NOW, clusterName: 'anything' }))).not.toThrow();
    const view = (now: Date) => licenseView('x', t, { ram_shards_in_use: 0, flash_shards_in_use: 0 }, now);
    expect(view(new Date(NOW.getTime() + (TRIAL_DAYS - 1) * DAY)).expired).toBe(false);
    expect(view(new Date(NOW.getTime() + (TRIAL_DAYS + 1) * DAY)).expired).toBe(true);
  });
});

describe('encodeLicense / parseLicense', () => {
  it('round-trips arbitrary terms with the plain armor', () => {
    const t = terms();
    const text = encodeLicense(t);
    expect(text.startsWith(`${LICENSE_START}\n`)).toBe(true);
    expect(parseLicense(text)).toEqual(t);
  });

  it('accepts CRLF, surrounding whitespace and a payload wrapped over several lines', () => {
    const payload = Buffer.from(JSON.stringify(terms()), 'utf8').toString('base64');
    const wrapped = payload.match(/.{1,64}/g)!.join('\r\n');
    const text = `  \r\n${LICENSE_START}\r\n${wrapped}\r\n${LICENSE_END}\r\n\r\n`;
    expect(parseLicense(text)).toEqual(terms());
  });

  it('defaults optional fields', () => {
    const t = parseLicense(armored(b64(JSON.stringify({
      activation_date: '2025-01-01T00:00:00Z', expiration_date: '2025-02-01T00:00:00Z', shards_limit: 3,
    }))));
    expect(t).toEqual({
      owner: null, cluster_name: null, activation_date: '2025-01-01T00:00:00Z', expiration_date: '2025-02-01T00:00:00Z',
      shards_limit: 3, ram_shards_limit: null, flash_shards_limit: null, features: [], key: '',
    });
  });

  it('refuses to encode invalid terms', () => {
    const e = licenseError(() => encodeLicense(terms({ shards_limit: -1 })));
    expect(e.status).toBe(400);
  });
});

describe('garbage licenses → 400 invalid_license', () => {
  const good = JSON.parse(JSON.stringify(terms())) as Record<string, unknown>;
  const withField = (f: string, v: unknown) => armored(b64(JSON.stringify({ ...good, [f]: v })));
  const cases: Array<[string, string]> = [
    ['empty string', ''],
    ['plain text', 'not a license'],
    ['bare base64, no armor', b64(JSON.stringify(good))],
    ['start armor only', `${LICENSE_START}\n${b64(JSON.stringify(good))}\n`],
    ['wrong end armor', `${LICENSE_START}\n${b64(JSON.stringify(good))}\n----- DEFAULT LICENSE END -----\n`],
    ['empty payload', `${LICENSE_START}\n${LICENSE_END}\n`],
    ['bad base64 characters', armored('@@@@not*base64!!')],
    ['bad base64 length', armored('YWJjZA=')],
    ['base64 of non-JSON', armored(b64('hello world'))],
    ['base64 of invalid UTF-8', armored(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64'))],
    ['JSON array', armored(b64('[1,2,3]'))],
    ['JSON null', armored(b64('null'))],
    ['JSON string', armored(b64('"license"'))],
    ['shards_limit as string', withField('shards_limit', '4')],
    ['shards_limit missing', withField('shards_limit', undefined)],
    ['negative shards_limit', withField('shards_limit', -1)],
    ['fractional shards_limit', withField('shards_limit', 1.5)],
    ['negative ram_shards_limit', withField('ram_shards_limit', -2)],
    ['negative flash_shards_limit', withField('flash_shards_limit', -3)],
    ['features not an array', withField('features', 'bigstore')],
    ['features with a number', withField('features', ['bigstore', 7])],
    ['owner as number', withField('owner', 5)],
    ['cluster_name as object', withField('cluster_name', { name: 'x' })],
    ['key as number', withField('key', 0)],
    ['activation_date missing', withField('activation_date', undefined)],
    ['activation_date not a date', withField('activation_date', 'yesterday')],
    ['activation_date Feb 30', withField('activation_date', '2025-02-30T00:00:00Z')],
    ['activation_date with offset', withField('activation_date', '2025-01-01T00:00:00+02:00')],
    ['expiration before activation', withField('expiration_date', '2024-12-31T00:00:00Z')],
    ['expiration equal to activation', withField('expiration_date', '2025-01-01T00:00:00Z')],
    ['too long', armored('A'.repeat(70_000))],
  ];

  it.each(cases)('%s', (_name, text) => {
    const e = licenseError(() => parseLicense(text));
    expect(e.error_code).toBe('invalid_license');
    expect(e.status).toBe(400);
    expect(e.description).toMatch(/\S/);
    expect(e.error_details.violation_code).toBeUndefined();
    expect(e.toJSON()).toMatchObject({ error_code: 'invalid_license', description: e.description });
  });

  it('rejects a non-string at runtime', () => {
    expect(licenseError(() => parseLicense(42 as unknown as string)).status).toBe(400);
  });

  it.skipIf(!capture)("rejects Redis Ltd.'s encrypted trial license (cannot be verified)", () => {
    const e = licenseError(() => parseLicense(capture!.license as string));
    expect([e.error_code, e.status]).toEqual(['invalid_license', 400]);
  });
});

describe('checkLicenseApplicable → 406 invalid_license with a violation code', () => {
  const violation = (t: LicenseTerms, c: ReturnType<typeof ctx>) => {
    const e = licenseError(() => checkLicenseApplicable(t, c));
    expect(e.error_code).toBe('invalid_license');
    expect(e.status).toBe(406);
    return e.error_details.violation_code;
  };

  it('accepts a license within its terms', () => {
    expect(() => checkLicenseApplicable(terms(), ctx())).not.toThrow();
    expect(() => checkLicenseApplicable(terms(), ctx({ shardsInUse: 10, ramShardsInUse: 8, flashShardsInUse: 2 }))).not.toThrow();
    expect(() => checkLicenseApplicable(terms({ cluster_name: null }), ctx({ clusterName: 'other' }))).not.toThrow();
    expect(() => checkLicenseApplicable(terms(), ctx({ clusterName: 'MyCluster.Local' }))).not.toThrow();
  });

  it('cluster name mismatch', () => {
    expect(violation(terms(), ctx({ clusterName: 'other.local' }))).toBe('cluster_name_mismatch');
  });

  it('expired and not yet active', () => {
    expect(violation(terms(), ctx({ now: new Date('2026-01-01T00:00:00Z') }))).toBe('expired');
    expect(violation(terms(), ctx({ now: new Date('2024-12-31T23:59:59Z') }))).toBe('not_yet_active');
  });

  it('shards in use over the limits', () => {
    expect(violation(terms(), ctx({ shardsInUse: 11 }))).toBe('shards_limit_exceeded');
    expect(violation(terms({ shards_limit: 0 }), ctx({ shardsInUse: 1 }))).toBe('shards_limit_exceeded');
    expect(violation(terms(), ctx({ shardsInUse: 9, ramShardsInUse: 9 }))).toBe('ram_shards_limit_exceeded');
    expect(violation(terms(), ctx({ shardsInUse: 3, flashShardsInUse: 3 }))).toBe('flash_shards_limit_exceeded');
    // null per-type limits leave only the total limit
    const t = terms({ ram_shards_limit: null, flash_shards_limit: null });
    expect(() => checkLicenseApplicable(t, ctx({ shardsInUse: 10, ramShardsInUse: 6, flashShardsInUse: 4 }))).not.toThrow();
  });

  it('flash shards need the bigstore feature', () => {
    expect(violation(terms({ features: [] }), ctx({ shardsInUse: 2, flashShardsInUse: 1 }))).toBe('feature_not_licensed');
  });
});

describe('licenseView', () => {
  const usage = { ram_shards_in_use: 1, flash_shards_in_use: 0 };

  it('carries the license string, terms, usage and expiry', () => {
    const t = terms();
    const text = encodeLicense(t);
    const v = licenseView(text, t, { ram_shards_in_use: 3, flash_shards_in_use: 2 }, new Date('2025-06-01T00:00:00Z'));
    expect(v).toEqual({
      activation_date: '2025-01-01T00:00:00Z', cluster_name: 'mycluster.local', expiration_date: '2026-01-01T00:00:00Z',
      expired: false, features: ['bigstore'], flash_shards_in_use: 2, flash_shards_limit: 2, key: 'k-123',
      license: text, owner: 'Acme', ram_shards_in_use: 3, ram_shards_limit: 8, shards_limit: 10,
    });
  });

  it('reports expired: true once the expiration date has passed', () => {
    const t = terms();
    expect(licenseView('x', t, usage, new Date('2025-12-31T23:59:59Z')).expired).toBe(false);
    expect(licenseView('x', t, usage, new Date('2026-01-01T00:00:00Z')).expired).toBe(true);
    expect(licenseView('x', t, usage, new Date('2030-01-01T00:00:00Z')).expired).toBe(true);
  });

  it.skipIf(!capture)('trial view matches the capture: keys, value types and trial values', () => {
    const c = capture!;
    const activation = new Date(c.activation_date as string);
    const text = generateTrialLicense(activation);
    const v = licenseView(text, parseLicense(text), usage, activation) as unknown as Record<string, unknown>;
    expect(Object.keys(v).sort()).toEqual(Object.keys(c).sort());
    const kind = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
    for (const k of Object.keys(c)) expect([k, kind(v[k])]).toEqual([k, kind(c[k])]);
    // Same trial terms as RS (the license string itself differs: RS's payload is encrypted).
    for (const k of Object.keys(c).filter((k) => k !== 'license')) expect([k, v[k]]).toEqual([k, c[k]]);
    expect((v.license as string).split('\n')[0]).toBe((c.license as string).split('\n')[0]);
    expect((v.license as string).endsWith(`${LICENSE_END}\n`)).toBe((c.license as string).endsWith(`${LICENSE_END}\n`));
  });
});
