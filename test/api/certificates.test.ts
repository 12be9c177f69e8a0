/**
 * Cluster certificates (requests/cluster/certificates/{_index,rotate}.md, objects/certificates.md),
 * checked through real HTTPS on a real node: what GET lists, what the listener actually serves,
 * rotation and replacement without a restart, validation statuses, and persistence across a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import { DEFAULT_ORGANIZATION, generateSelfSigned, parseCertificate, validatePair } from '../../src/certs/x509.js';
import { pairWithDates as datedPair } from '../helpers/certs.js';
import { request, type Resp } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

const CLUSTER = 'cluster.test.local';
const DAY_MS = 86_400_000;
const GENERATED = ['api', 'cm', 'proxy', 'syncer', 'metrics_exporter', 'ccs_internode_encryption', 'data_internode_encryption'];
const INTERNAL = ['ccs_internode_encryption', 'data_internode_encryption'];

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** The certificate a fresh TLS connection is served, as a PEM-comparable DER buffer. */
async function served(t: TestNode): Promise<{ raw: Buffer; fingerprint256: string }> {
  const r = await request(t.port, 'GET', '/v1/bootstrap', { auth: null });
  expect(r.peerCert).toBeDefined();
  return { raw: r.peerCert!.raw, fingerprint256: r.peerCert!.fingerprint256 };
}

async function expectServed(t: TestNode, pem: string): Promise<void> {
  const s = await served(t);
  expect(s.fingerprint256).toBe(fingerprint(pem));
  expect(s.raw.equals(new X509Certificate(pem).raw)).toBe(true);
}

async function certs(t: TestNode): Promise<Record<string, string>> {
  const r = await t.req('GET', '/v1/cluster/certificates');
  expect(r.status).toBe(200);
  return r.json;
}

/** A self-signed RSA pair with arbitrary validity dates (generateSelfSigned only makes current ones), for the cluster's name by default. */
const pairWithDates = (notBefore: Date, notAfter: Date, opts: { cn?: string; modulusLength?: number } = {}) =>
  datedPair(notBefore, notAfter, { cn: CLUSTER, ...opts });

const freshPair = (ou = 'test') => generateSelfSigned({ commonName: CLUSTER, altNames: [CLUSTER, `*.${CLUSTER}`], ipAddresses: ['127.0.0.1'], organizationalUnit: ou });

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/cluster/certificates', () => {
  it('lists <name>_cert and <name>_key for every generated certificate and nothing else', async () => {
    const c = await certs(t);
    const expected = GENERATED.flatMap((n) => [`${n}_cert`, `${n}_key`]).sort();
    expect(Object.keys(c).sort()).toEqual(expected);
    for (const optional of ['ldap_client', 'mtls_trusted_ca', 'sso_service', 'sso_issuer']) {
      expect(c).not.toHaveProperty(`${optional}_cert`);
      expect(c).not.toHaveProperty(`${optional}_key`);
    }
  });

  it('every pair is a valid, matching PEM pair shaped as RS generates it', async () => {
    const c = await certs(t);
    const fps = new Set<string>();
    for (const n of GENERATED) {
      expect(c[`${n}_cert`]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      expect(c[`${n}_key`]).toMatch(/^-----BEGIN (RSA )?PRIVATE KEY-----\n/);
      const p = validatePair(c[`${n}_cert`], c[`${n}_key`]);
      fps.add(p.fingerprint_sha256);
      const ou = { proxy: 'redisdb', syncer: 'syncer', api: 'api', cm: 'cm' }[n as 'api'] ?? n;
      expect(p.subject).toBe(`CN=${CLUSTER}, OU=${ou}, O=${DEFAULT_ORGANIZATION}`);
      expect(p.san).toEqual(expect.arrayContaining([CLUSTER, `*.${CLUSTER}`]));
      const days = (Date.parse(p.not_after) - Date.parse(p.not_before)) / DAY_MS;
      expect(days).toBe(INTERNAL.includes(n) ? 90 : 365);
      expect(Date.parse(p.not_before)).toBeLessThanOrEqual(Date.now());
    }
    // Seven distinct certificates, not one copied seven times.
    expect(fps.size).toBe(GENERATED.length);
  });

  it('the certificate the HTTPS listener presents is api_cert', async () => {
    const c = await certs(t);
    await expectServed(t, c.api_cert);
    // And it is not, say, the proxy certificate.
    expect((await served(t)).fingerprint256).not.toBe(fingerprint(c.proxy_cert));
  });

  it('/v1/cluster proxy_certificate and syncer_certificate are the same PEMs', async () => {
    const c = await certs(t);
    const cl = (await t.req('GET', '/v1/cluster')).json;
    expect(cl.proxy_certificate).toBe(c.proxy_cert);
    expect(cl.syncer_certificate).toBe(c.syncer_cert);
  });

  it('needs credentials', async () => {
    expectRsError(await t.req('GET', '/v1/cluster/certificates', { auth: null }), 401, 'unauthorized');
  });
});

describe('permissions', () => {
  const viewer = { user: 'certviewer@test.local', pass: 'viewer-pass-1' };
  beforeAll(async () => {
    const rec: UserRecord = {
      uid: 60, name: 'certviewer', email: viewer.user, role: 'cluster_viewer', role_uids: [], auth_method: 'regular',
      status: 'active', email_alerts: false, bdbs_email_alerts: [], alert_audit_db_conns: false, alert_bdb_backup: false,
      alert_bdb_crdt_src_syncer: false, password_issue_date: '2026-01-01T00:00:00Z', password_hashes: [await hashPassword(viewer.pass)],
    };
    await t.node.composed.kv.put('/users/60', rec);
  });

  it('a cluster_viewer may list (without private keys) but not change, rotate or delete certificates', async () => {
    const before = await certs(t);
    const seen = await t.req('GET', '/v1/cluster/certificates', { auth: viewer });
    expect(seen.status).toBe(200);
    // Keys need view_cluster_keys (permissions.md: admin, cluster_member, user_manager).
    expect(Object.keys(seen.json).filter((k) => k.endsWith('_key'))).toEqual([]);
    expect(Object.keys(seen.json).sort()).toEqual(Object.keys(before).filter((k) => k.endsWith('_cert')).sort());
    const pair = await freshPair();
    expectRsError(await t.req('PUT', '/v1/cluster/certificates', { auth: viewer, body: { certificates: [{ name: 'proxy', ...pair }] } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('PUT', '/v1/cluster/update_cert', { auth: viewer, body: { name: 'proxy', ...pair } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { auth: viewer, body: { name: 'api' } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { auth: viewer }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', '/v1/cluster/certificates/ldap_client', { auth: viewer }), 403, 'insufficient_permissions');
    expect(await certs(t)).toEqual(before);
  });
});

describe('POST /v1/cluster/certificates/rotate', () => {
  it('{"name":"api"} changes the served certificate without a restart', async () => {
    const before = await certs(t);
    await expectServed(t, before.api_cert);
    const r = await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api' } });
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.api_cert).not.toBe(before.api_cert);
    expect(after.api_key).not.toBe(before.api_key);
    validatePair(after.api_cert, after.api_key);
    expect(parseCertificate(after.api_cert).subject).toBe(`CN=${CLUSTER}, OU=api, O=${DEFAULT_ORGANIZATION}`);
    // Same listener, same port, a new TLS connection: it presents the new certificate.
    expect(t.node.port).toBe(t.port);
    await expectServed(t, after.api_cert);
    // Nothing else was rotated.
    for (const n of GENERATED.filter((x) => x !== 'api')) expect(after[`${n}_cert`]).toBe(before[`${n}_cert`]);
  });

  it('concurrent api rotations and replacements leave the served certificate equal to api_cert', async () => {
    const pairs = await Promise.all([freshPair('api'), freshPair('api')]);
    const rs = await Promise.all([
      t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api' } }),
      t.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'api', ...pairs[0] }] } }),
      t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api' } }),
      t.req('PUT', '/v1/cluster/update_cert', { body: { name: 'api', ...pairs[1] } }),
      t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api' } }),
    ]);
    for (const r of rs) expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    validatePair(after.api_cert, after.api_key);
    await expectServed(t, after.api_cert);
  });

  it('{"name":"proxy"} changes proxy_cert and /v1/cluster proxy_certificate, nothing else', async () => {
    const before = await certs(t);
    const servedBefore = await served(t);
    const r = await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'proxy' } });
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.proxy_cert).not.toBe(before.proxy_cert);
    expect(after.proxy_key).not.toBe(before.proxy_key);
    validatePair(after.proxy_cert, after.proxy_key);
    expect(parseCertificate(after.proxy_cert).subject).toBe(`CN=${CLUSTER}, OU=redisdb, O=${DEFAULT_ORGANIZATION}`);
    expect((await t.req('GET', '/v1/cluster')).json.proxy_certificate).toBe(after.proxy_cert);
    for (const n of GENERATED.filter((x) => x !== 'proxy')) expect(after[`${n}_cert`]).toBe(before[`${n}_cert`]);
    expect((await served(t)).fingerprint256).toBe(servedBefore.fingerprint256);
  });

  it('every other generated certificate can be rotated by name', async () => {
    for (const n of ['cm', 'syncer', 'metrics_exporter', 'ccs_internode_encryption']) {
      const before = await certs(t);
      const r = await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: n } });
      expect(r.status, `${n}: ${r.text}`).toBe(200);
      const after = await certs(t);
      expect(after[`${n}_cert`], n).not.toBe(before[`${n}_cert`]);
      validatePair(after[`${n}_cert`], after[`${n}_key`]);
      for (const o of GENERATED.filter((x) => x !== n)) expect(after[`${o}_cert`], `${o} after rotating ${n}`).toBe(before[`${o}_cert`]);
    }
  });

  it('without a body rotates the two internode certificates only', async () => {
    const before = await certs(t);
    const r = await t.req('POST', '/v1/cluster/certificates/rotate');
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    for (const n of GENERATED) {
      if (INTERNAL.includes(n)) {
        expect(after[`${n}_cert`], n).not.toBe(before[`${n}_cert`]);
        validatePair(after[`${n}_cert`], after[`${n}_key`]);
      } else {
        expect(after[`${n}_cert`], n).toBe(before[`${n}_cert`]);
      }
    }
    await expectServed(t, after.api_cert);
  });

  it('an empty JSON body, {} and an empty body with a JSON content type also mean "the internal ones"', async () => {
    for (const opts of [{ body: {} }, { rawBody: '', headers: { 'content-type': 'application/json' } }]) {
      const before = await certs(t);
      const r = await t.req('POST', '/v1/cluster/certificates/rotate', opts);
      expect(r.status, r.text).toBe(200);
      const after = await certs(t);
      for (const n of GENERATED) {
        if (INTERNAL.includes(n)) expect(after[`${n}_cert`]).not.toBe(before[`${n}_cert`]);
        else expect(after[`${n}_cert`]).toBe(before[`${n}_cert`]);
      }
    }
  });

  it('a certificate the cluster does not generate → 403, nothing rotated', async () => {
    const before = await certs(t);
    for (const name of ['ldap_client', 'mtls_trusted_ca', 'sso_service', 'sso_issuer', 'no_such_cert']) {
      expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name } }), 403, 'unsupported_rotation');
    }
    expect(await certs(t)).toEqual(before);
  });

  it('a malformed body → 400, nothing rotated', async () => {
    const before = await certs(t);
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api', extra: 1 } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 7 } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { body: ['api'] }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { body: null }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/cluster/certificates/rotate', { rawBody: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json_body');
    expect(await certs(t)).toEqual(before);
  });
});

describe('PUT /v1/cluster/certificates', () => {
  const put = (certificates: unknown) => t.req('PUT', '/v1/cluster/certificates', { body: { certificates } });

  it('replaces proxy with a valid pair; GET and /v1/cluster show it', async () => {
    const pair = await freshPair('redisdb');
    const before = await certs(t);
    const r = await put([{ name: 'proxy', ...pair }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.proxy_cert).toBe(pair.certificate);
    expect(after.proxy_key).toBe(pair.key);
    expect((await t.req('GET', '/v1/cluster')).json.proxy_certificate).toBe(pair.certificate);
    for (const n of GENERATED.filter((x) => x !== 'proxy')) expect(after[`${n}_cert`]).toBe(before[`${n}_cert`]);
  });

  it('replaces api with a valid pair and serves it without a restart', async () => {
    const pair = await freshPair('api');
    const r = await put([{ name: 'api', ...pair }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.api_cert).toBe(pair.certificate);
    expect(after.api_key).toBe(pair.key);
    await expectServed(t, pair.certificate);
  });

  it('replaces several certificates in one request, as in the spec example', async () => {
    const proxy = await freshPair('redisdb');
    const api = await freshPair('api');
    const r = await put([{ name: 'proxy', ...proxy }, { name: 'api', ...api }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.proxy_cert).toBe(proxy.certificate);
    expect(after.api_cert).toBe(api.certificate);
    await expectServed(t, api.certificate);
  });

  it('accepts a chain (leaf first) and a PKCS#1 RSA key', async () => {
    const leaf = await freshPair('syncer');
    const other = await freshPair('ca');
    const chain = leaf.certificate + other.certificate;
    const pkcs1 = createPrivateKey(leaf.key).export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const r = await put([{ name: 'syncer', certificate: chain, key: pkcs1 }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.syncer_cert).toBe(chain);
    expect(after.syncer_key).toBe(pkcs1);
    expect((await t.req('GET', '/v1/cluster')).json.syncer_certificate).toBe(chain);
  });

  it('a key that does not match the certificate → 400, nothing changes', async () => {
    const before = await certs(t);
    const a = await freshPair();
    const b = await freshPair();
    expectRsError(await put([{ name: 'proxy', certificate: a.certificate, key: b.key }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'api', certificate: a.certificate, key: b.key }]), 400, 'invalid_certificate');
    expect(await certs(t)).toEqual(before);
    await expectServed(t, before.api_cert);
  });

  it('an expired certificate → 406; a not-yet-valid one → 406', async () => {
    const before = await certs(t);
    const expired = await pairWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
    const future = await pairWithDates(new Date(Date.now() + DAY_MS), new Date(Date.now() + 400 * DAY_MS));
    expectRsError(await put([{ name: 'proxy', ...expired }]), 406, 'certificate_expired');
    expectRsError(await put([{ name: 'api', ...expired }]), 406, 'certificate_expired');
    expectRsError(await put([{ name: 'cm', ...future }]), 406, 'certificate_expired');
    expect(await certs(t)).toEqual(before);
    await expectServed(t, before.api_cert);
  });

  it('an unknown certificate name → 403', async () => {
    const before = await certs(t);
    const pair = await freshPair();
    const r = await put([{ name: 'not_a_cert', ...pair }]);
    expectRsError(r, 403, 'unknown_certificate');
    expect(r.json.description).toContain('not_a_cert');
    expect(await certs(t)).toEqual(before);
  });

  it('garbage PEM, a garbage key, or a missing key → 400', async () => {
    const before = await certs(t);
    const pair = await freshPair();
    expectRsError(await put([{ name: 'proxy', certificate: 'not a certificate', key: pair.key }]), 400, 'invalid_certificate');
    const mangled = pair.certificate.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expectRsError(await put([{ name: 'proxy', certificate: mangled, key: pair.key }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', certificate: `-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n`, key: pair.key }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', certificate: pair.certificate, key: 'not a key' }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', certificate: pair.certificate, key: '-----BEGIN PRIVATE KEY-----\nZm9v\n-----END PRIVATE KEY-----\n' }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', certificate: pair.certificate }]), 400, 'invalid_certificate');
    // A combined PEM: the key must not end up in proxy_cert (and /v1/cluster proxy_certificate).
    expectRsError(await put([{ name: 'proxy', certificate: pair.certificate + pair.key, key: pair.key }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'mtls_trusted_ca', certificate: pair.key + pair.certificate }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'ldap_client', certificate: pair.certificate }]), 400, 'invalid_certificate');
    expect(await certs(t)).toEqual(before);
  });

  it('a key OpenSSL refuses to serve (RSA-512) → 400, not a 500, and the listener keeps its certificate', async () => {
    const before = await certs(t);
    const weak = await pairWithDates(new Date(Date.now() - DAY_MS), new Date(Date.now() + 30 * DAY_MS), { modulusLength: 512 });
    expectRsError(await put([{ name: 'api', ...weak }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', ...weak }]), 400, 'invalid_certificate');
    expect(await certs(t)).toEqual(before);
    await expectServed(t, before.api_cert);
  });

  it('a batch with one bad entry changes nothing (all or nothing)', async () => {
    const before = await certs(t);
    const good = await freshPair('redisdb');
    const goodApi = await freshPair('api');
    const expired = await pairWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
    const other = await freshPair();
    // The bad entry last, so that a handler that applies as it validates would have applied the good one.
    expectRsError(await put([{ name: 'proxy', ...good }, { name: 'api', ...goodApi }, { name: 'syncer', ...expired }]), 406, 'certificate_expired');
    expectRsError(await put([{ name: 'proxy', ...good }, { name: 'api', ...goodApi }, { name: 'cm', certificate: good.certificate, key: other.key }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', ...good }, { name: 'api', ...goodApi }, { name: 'bogus', ...other }]), 403, 'unknown_certificate');
    expectRsError(await put([{ name: 'proxy', ...good }, { name: 'proxy', ...other }]), 400, 'invalid_certificate');
    expectRsError(await put([{ name: 'proxy', ...good }, { name: 'api', ...goodApi }, { name: 'cm', ...good, extra: 1 }]), 400, 'invalid_schema');
    expect(await certs(t)).toEqual(before);
    await expectServed(t, before.api_cert);
  });

  it('mtls_trusted_ca is certificate-only: a key → 400; without one it is stored with no _key', async () => {
    const ca = await freshPair('ca');
    expectRsError(await put([{ name: 'mtls_trusted_ca', certificate: ca.certificate, key: ca.key }]), 400, 'invalid_certificate');
    expect(await certs(t)).not.toHaveProperty('mtls_trusted_ca_cert');
    const expired = await pairWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
    expectRsError(await put([{ name: 'mtls_trusted_ca', certificate: expired.certificate }]), 406, 'certificate_expired');
    const future = await pairWithDates(new Date(Date.now() + DAY_MS), new Date(Date.now() + 400 * DAY_MS));
    expectRsError(await put([{ name: 'mtls_trusted_ca', certificate: future.certificate }]), 406, 'certificate_expired');
    expectRsError(await put([{ name: 'mtls_trusted_ca', certificate: 'garbage' }]), 400, 'invalid_certificate');
    expect(await certs(t)).not.toHaveProperty('mtls_trusted_ca_cert');

    const r = await put([{ name: 'mtls_trusted_ca', certificate: ca.certificate }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.mtls_trusted_ca_cert).toBe(ca.certificate);
    expect(after).not.toHaveProperty('mtls_trusted_ca_key');
  });

  it('an optional certificate with a key (ldap_client) is listed as _cert and _key', async () => {
    const pair = await freshPair('ldap');
    const r = await put([{ name: 'ldap_client', ...pair }]);
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after.ldap_client_cert).toBe(pair.certificate);
    expect(after.ldap_client_key).toBe(pair.key);
  });

  it('schema violations → 400 invalid_schema', async () => {
    const before = await certs(t);
    const pair = await freshPair();
    expectRsError(await put([]), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster/certificates', { body: {} }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster/certificates', { body: { name: 'proxy', ...pair } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'proxy', ...pair }], extra: true } }), 400, 'invalid_schema');
    expectRsError(await put([{ name: 'proxy', certificate: 5, key: pair.key }]), 400, 'invalid_schema');
    expectRsError(await put([{ certificate: pair.certificate, key: pair.key }]), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster/certificates', { rawBody: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json_body');
    expect(await certs(t)).toEqual(before);
  });
});

describe('DELETE /v1/cluster/certificates/{name}', () => {
  it('a required (generated) certificate → 403, still there', async () => {
    const before = await certs(t);
    for (const n of GENERATED) expectRsError(await t.req('DELETE', `/v1/cluster/certificates/${n}`), 403, 'required_certificate');
    expect(await certs(t)).toEqual(before);
  });

  it('an optional certificate after PUT → 200 and gone from GET', async () => {
    const pair = await freshPair('sso');
    expect((await t.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'sso_service', ...pair }] } })).status).toBe(200);
    const ca = await freshPair('idp');
    expect((await t.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'sso_issuer', certificate: ca.certificate }] } })).status).toBe(200);
    const mid = await certs(t);
    expect(mid.sso_service_cert).toBe(pair.certificate);
    expect(mid.sso_issuer_cert).toBe(ca.certificate);
    expect(mid).not.toHaveProperty('sso_issuer_key');

    const r = await t.req('DELETE', '/v1/cluster/certificates/sso_service');
    expect(r.status, r.text).toBe(200);
    const after = await certs(t);
    expect(after).not.toHaveProperty('sso_service_cert');
    expect(after).not.toHaveProperty('sso_service_key');
    expect(after.sso_issuer_cert).toBe(ca.certificate);

    expect((await t.req('DELETE', '/v1/cluster/certificates/sso_issuer')).status).toBe(200);
    expect(await certs(t)).not.toHaveProperty('sso_issuer_cert');
    // Every generated one survives.
    expect(Object.keys(await certs(t))).toEqual(expect.arrayContaining(GENERATED.map((n) => `${n}_cert`)));
  });

  it('an optional certificate that is not set → 200 (idempotent)', async () => {
    await t.req('DELETE', '/v1/cluster/certificates/sso_service');
    const r = await t.req('DELETE', '/v1/cluster/certificates/sso_service');
    expect(r.status, r.text).toBe(200);
  });

  it('an unknown name → 404', async () => {
    const before = await certs(t);
    expectRsError(await t.req('DELETE', '/v1/cluster/certificates/no_such_cert'), 404, 'certificate_not_found');
    expectRsError(await t.req('DELETE', '/v1/cluster/certificates/api_cert'), 404, 'certificate_not_found');
    expect(await certs(t)).toEqual(before);
  });
});

describe('PUT /v1/cluster/update_cert (deprecated)', () => {
  const put = (body: unknown) => t.req('PUT', '/v1/cluster/update_cert', { body });

  it('replaces one certificate; api is served without a restart', async () => {
    const proxy = await freshPair('redisdb');
    const r = await put({ name: 'proxy', ...proxy });
    expect(r.status, r.text).toBe(200);
    expect((await certs(t)).proxy_cert).toBe(proxy.certificate);
    expect((await t.req('GET', '/v1/cluster')).json.proxy_certificate).toBe(proxy.certificate);

    const api = await freshPair('api');
    expect((await put({ name: 'api', key: api.key, certificate: api.certificate })).status).toBe(200);
    expect((await certs(t)).api_key).toBe(api.key);
    await expectServed(t, api.certificate);
  });

  it('rejects like PUT /v1/cluster/certificates: 400 invalid, 403 unknown, 406 expired; nothing changes', async () => {
    const before = await certs(t);
    const a = await freshPair();
    const b = await freshPair();
    const expired = await pairWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
    expectRsError(await put({ name: 'proxy', certificate: a.certificate, key: b.key }), 400, 'invalid_certificate');
    expectRsError(await put({ name: 'proxy', certificate: 'garbage', key: a.key }), 400, 'invalid_certificate');
    expectRsError(await put({ name: 'certificate1', ...a }), 403, 'unknown_certificate');
    expectRsError(await put({ name: 'api', ...expired }), 406, 'certificate_expired');
    expectRsError(await put({ certificates: [{ name: 'proxy', ...a }] }), 400, 'invalid_schema');
    expect(await certs(t)).toEqual(before);
    await expectServed(t, before.api_cert);
  });
});

describe('restart on the same data dir', () => {
  let first: TestNode;
  let later: TestNode | undefined;
  beforeAll(async () => {
    first = await startTestNode();
  });
  afterAll(async () => {
    await later?.stop();
    await first?.close();
  });

  it('serves the rotated api certificate after a restart', async () => {
    const original = await certs(first);
    expect((await first.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'api' } })).status).toBe(200);
    const rotated = await certs(first);
    expect(rotated.api_cert).not.toBe(original.api_cert);
    await expectServed(first, rotated.api_cert);
    await first.stop();

    later = await startTestNode({ dataDir: first.dataDir });
    expect(await certs(later)).toEqual(rotated);
    await expectServed(later, rotated.api_cert);
  });

  it('serves the CCS copy of api even when the local TLS files are stale', async () => {
    const pair = await freshPair('api');
    expect((await later!.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'api', ...pair }] } })).status).toBe(200);
    await expectServed(later!, pair.certificate);
    await later!.stop();
    // As if the certificate had been replaced (by another node) while this one was down.
    const stale = await freshPair('stale');
    fs.writeFileSync(path.join(first.dataDir, 'tls', 'api_cert.pem'), stale.certificate);
    fs.writeFileSync(path.join(first.dataDir, 'tls', 'api_key.pem'), stale.key);

    later = await startTestNode({ dataDir: first.dataDir });
    expect((await certs(later)).api_cert).toBe(pair.certificate);
    await expectServed(later, pair.certificate);
  });
});
