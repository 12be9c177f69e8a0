/**
 * GET/PUT /v1/license (requests/license/_index.md) through real HTTPS on a real node, against the
 * real capture (fixtures/redis-enterprise-rs/license.json) for the body's shape.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import {
  DEFAULT_LICENSE_START,
  LICENSE_END,
  LICENSE_START,
  TRIAL_DAYS,
  encodeLicense,
  formatLicenseDate,
  type LicenseTerms,
} from '../../src/services/license-rules.js';
import type { Resp } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

const CLUSTER = 'cluster.test.local';
const DAY_MS = 86_400_000;
const capture = JSON.parse(fs.readFileSync(new URL('../../../shared/fixtures/redis-enterprise-rs/license.json', import.meta.url), 'utf8')) as Record<string, unknown>;


/** JSON type of a value, telling null and arrays apart from objects. */
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const date = (offsetDays: number) => formatLicenseDate(new Date(Math.floor(Date.now() / 1000) * 1000 + offsetDays * DAY_MS));

const terms = (over: Partial<LicenseTerms> = {}): LicenseTerms => ({
  owner: 'Acme Corp',
  cluster_name: CLUSTER,
  activation_date: date(-1),
  expiration_date: date(365),
  shards_limit: 100,
  ram_shards_limit: 80,
  flash_shards_limit: 20,
  features: ['bigstore'],
  key: 'acme-key-0001',
  ...over,
});

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const getLicense = async () => {
  const r = await t.req('GET', '/v1/license');
  expect(r.status, r.text).toBe(200);
  return r.json;
};
const putLicense = (license: unknown) => t.req('PUT', '/v1/license', { body: { license } });

describe('GET /v1/license on a new cluster: the trial license', () => {
  it('has exactly the capture\'s keys, with the same JSON types', async () => {
    const l = await getLicense();
    expect(Object.keys(l).sort()).toEqual(Object.keys(capture).sort());
    for (const k of Object.keys(capture)) expect(jsonType(l[k]), k).toBe(jsonType(capture[k]));
  });

  it('is a 30-day, 4-shard trial, not expired, like RS\'s default license', async () => {
    const l = await getLicense();
    expect(l.shards_limit).toBe(4);
    expect(l.features).toContain('trial');
    expect(l.features).toEqual(capture.features);
    expect(l.expired).toBe(false);
    expect(l.owner).toBeNull();
    expect(l.cluster_name).toBeNull();
    expect(l.key).toBe('');
    expect(l.ram_shards_limit).toBeNull();
    expect(l.flash_shards_limit).toBeNull();
    expect(l.ram_shards_in_use).toBe(0);
    expect(l.flash_shards_in_use).toBe(0);
    expect(l.activation_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(l.expiration_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(l.expiration_date) - Date.parse(l.activation_date)).toBe(TRIAL_DAYS * DAY_MS);
    expect(TRIAL_DAYS).toBe(30);
    // Activated when the cluster was created, moments ago.
    expect(Math.abs(Date.now() - Date.parse(l.activation_date))).toBeLessThan(5 * 60_000);
    // The capture's armor: a DEFAULT LICENSE START line and a plain END line.
    expect(l.license.startsWith(`${DEFAULT_LICENSE_START}\n`)).toBe(true);
    expect(l.license.trimEnd().endsWith(LICENSE_END)).toBe(true);
    expect((capture.license as string).startsWith(`${DEFAULT_LICENSE_START}\n`)).toBe(true);
  });

  it('needs credentials', async () => {
    expectRsError(await t.req('GET', '/v1/license', { auth: null }), 401, 'unauthorized');
  });
});

describe('PUT /v1/license', () => {
  it('garbage → 400 invalid_license with error_details, and the license stays', async () => {
    const before = await getLicense();
    for (const bad of [
      'garbage',
      '',
      `${LICENSE_START}\n!!!not base64!!!\n${LICENSE_END}\n`,
      `${LICENSE_START}\n${Buffer.from('not json').toString('base64')}\n${LICENSE_END}\n`,
      `${LICENSE_START}\n${Buffer.from(JSON.stringify({ shards_limit: 'many' })).toString('base64')}\n${LICENSE_END}\n`,
      // A real RS license: its payload is encrypted, so openrs cannot read its terms.
      capture.license as string,
    ]) {
      const r = await putLicense(bad);
      expectRsError(r, 400, 'invalid_license');
      expect(typeof r.json.error_details?.message, bad).toBe('string');
      expect(r.json.error_details).not.toHaveProperty('violation_code');
    }
    expect(await getLicense()).toEqual(before);
  });

  it('a valid license → 200, and GET shows its terms', async () => {
    const tm = terms();
    const text = encodeLicense(tm);
    const r = await putLicense(text);
    expect(r.status, r.text).toBe(200);
    const l = await getLicense();
    expect(l).toEqual({
      license: text,
      owner: tm.owner,
      cluster_name: CLUSTER,
      activation_date: tm.activation_date,
      expiration_date: tm.expiration_date,
      expired: false,
      shards_limit: 100,
      ram_shards_limit: 80,
      flash_shards_limit: 20,
      features: ['bigstore'],
      key: 'acme-key-0001',
      ram_shards_in_use: 0,
      flash_shards_in_use: 0,
    });
    expect(Object.keys(l).sort()).toEqual(Object.keys(capture).sort());
  });

  it('a license bound to no cluster, or to this one in other letter case, installs', async () => {
    const anyCluster = encodeLicense(terms({ cluster_name: null, owner: 'Anyone', shards_limit: 7 }));
    expect((await putLicense(anyCluster)).status).toBe(200);
    expect((await getLicense()).shards_limit).toBe(7);
    const upper = encodeLicense(terms({ cluster_name: CLUSTER.toUpperCase(), shards_limit: 9 }));
    expect((await putLicense(upper)).status).toBe(200);
    const l = await getLicense();
    expect(l.shards_limit).toBe(9);
    expect(l.license).toBe(upper);
  });

  it('a license for another cluster → 406, the installed one stays', async () => {
    const before = await getLicense();
    const r = await putLicense(encodeLicense(terms({ cluster_name: 'other.cluster.local' })));
    expectRsError(r, 406, 'invalid_license');
    expect(r.json.error_details.violation_code).toBe('cluster_name_mismatch');
    expect(r.json.description).toContain('other.cluster.local');
    expect(await getLicense()).toEqual(before);
  });

  it('an expired license → 406, the installed one stays', async () => {
    const before = await getLicense();
    const expired = encodeLicense(terms({ activation_date: date(-400), expiration_date: date(-1), shards_limit: 500 }));
    const r = await putLicense(expired);
    expectRsError(r, 406, 'invalid_license');
    expect(r.json.error_details.violation_code).toBe('expired');
    const after = await getLicense();
    expect(after).toEqual(before);
    expect(after.license).not.toBe(expired);
    expect(after.expired).toBe(false);
  });

  it('a license not active yet → 406, the installed one stays', async () => {
    const before = await getLicense();
    const r = await putLicense(encodeLicense(terms({ activation_date: date(2), expiration_date: date(300) })));
    expectRsError(r, 406, 'invalid_license');
    expect(r.json.error_details.violation_code).toBe('not_yet_active');
    expect(await getLicense()).toEqual(before);
  });

  it('shards in use count in GET, and a license with too few shards → 406', async () => {
    const kv = t.node.composed.kv;
    await kv.put('/shards/901', { uid: 901, node_uid: 1, role: 'master', bdb_uid: 90 });
    await kv.put('/shards/902', { uid: 902, node_uid: 1, role: 'slave', bdb_uid: 90 });
    await kv.put('/shards/903', { uid: 903, node_uid: 1, role: 'master', bdb_uid: 91, flash: true });
    try {
      const before = await getLicense();
      expect(before.ram_shards_in_use).toBe(2);
      expect(before.flash_shards_in_use).toBe(1);

      let r = await putLicense(encodeLicense(terms({ shards_limit: 2, ram_shards_limit: null, flash_shards_limit: null })));
      expectRsError(r, 406, 'invalid_license');
      expect(r.json.error_details.violation_code).toBe('shards_limit_exceeded');
      r = await putLicense(encodeLicense(terms({ shards_limit: 10, ram_shards_limit: 1 })));
      expect(r.json.error_details?.violation_code).toBe('ram_shards_limit_exceeded');
      r = await putLicense(encodeLicense(terms({ shards_limit: 10, features: [] })));
      expect(r.json.error_details?.violation_code).toBe('feature_not_licensed');
      expect(await getLicense()).toEqual(before);

      r = await putLicense(encodeLicense(terms({ shards_limit: 3, ram_shards_limit: 2, flash_shards_limit: 1 })));
      expect(r.status, r.text).toBe(200);
      expect((await getLicense()).shards_limit).toBe(3);
    } finally {
      for (const uid of [901, 902, 903]) await kv.delete(`/shards/${uid}`);
    }
    expect((await getLicense()).ram_shards_in_use).toBe(0);
  });

  it('a body without `license`, with extra fields, or of the wrong type → 400, the license stays', async () => {
    const before = await getLicense();
    const valid = encodeLicense(terms({ shards_limit: 42 }));
    expectRsError(await t.req('PUT', '/v1/license', { body: {} }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license', { body: { key: valid } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license', { body: { license: valid, extra: true } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license', { body: { license: 42 } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license', { body: { license: null } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license', { body: [valid] }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/license'), 400);
    expectRsError(await t.req('PUT', '/v1/license', { rawBody: `{"license": "${LICENSE_START}`, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json_body');
    expectRsError(await t.req('PUT', '/v1/license', { rawBody: valid, headers: { 'content-type': 'text/plain' } }), 400, 'unsupported_content_type');
    expect(await getLicense()).toEqual(before);
  });

  it('permissions: a cluster_viewer may read but not install a license', async () => {
    const viewer = { user: 'licviewer@test.local', pass: 'viewer-pass-1' };
    const rec: UserRecord = {
      uid: 70, name: 'licviewer', email: viewer.user, role: 'cluster_viewer', role_uids: [], auth_method: 'regular',
      status: 'active', email_alerts: false, bdbs_email_alerts: [], alert_audit_db_conns: false, alert_bdb_backup: false,
      alert_bdb_crdt_src_syncer: false, password_issue_date: '2026-01-01T00:00:00Z', password_hashes: [await hashPassword(viewer.pass)],
    };
    await t.node.composed.kv.put('/users/70', rec);
    const before = await getLicense();
    const r = await t.req('GET', '/v1/license', { auth: viewer });
    expect(r.status).toBe(200);
    expect(r.json).toEqual(before);
    expectRsError(await t.req('PUT', '/v1/license', { auth: viewer, body: { license: encodeLicense(terms({ shards_limit: 1 })) } }), 403, 'insufficient_permissions');
    expect(await getLicense()).toEqual(before);
  });
});

describe('persistence', () => {
  let first: TestNode;
  let later: TestNode | undefined;
  beforeAll(async () => {
    first = await startTestNode();
  });
  afterAll(async () => {
    await later?.stop();
    await first?.close();
  });

  it('an installed license survives a restart', async () => {
    const text = encodeLicense(terms({ owner: 'Persisted Ltd', shards_limit: 12 }));
    expect((await first.req('PUT', '/v1/license', { body: { license: text } })).status).toBe(200);
    await first.stop();
    later = await startTestNode({ dataDir: first.dataDir });
    const r = await later.req('GET', '/v1/license');
    expect(r.status).toBe(200);
    expect(r.json.license).toBe(text);
    expect(r.json.owner).toBe('Persisted Ltd');
    expect(r.json.shards_limit).toBe(12);
  });

  it('no license installed → GET 404 with an error body; PUT installs one again', async () => {
    await later!.node.composed.kv.delete('/license');
    const r = await later!.req('GET', '/v1/license');
    expectRsError(r, 404);
    const text = encodeLicense(terms({ owner: 'Reinstalled' }));
    expect((await later!.req('PUT', '/v1/license', { body: { license: text } })).status).toBe(200);
    const again = await later!.req('GET', '/v1/license');
    expect(again.status).toBe(200);
    expect(again.json.owner).toBe('Reinstalled');
  });
});
