/**
 * Per-database proxy certificates (openapi.json: /v1/bdbs/certificates, /v1/bdbs/{uid}/certificates):
 * a database's own certificate is what its TLS endpoint presents, instead of the cluster's `proxy`
 * certificate, swapped in and out without restarting the proxy or dropping data; validation as for
 * the cluster certificates; the private key is never shown; the list filters and pages.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import { rsTime } from '../../src/util/clock.js';
import { createBdb, waitStatus } from '../helpers/bdb.js';
import { pairWithDates, peerCert } from '../helpers/certs.js';
import { expectRsError, ok } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

const DAY_MS = 86_400_000;

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const dbPair = (cn: string) => generateSelfSigned({ commonName: cn, altNames: [cn], organizationalUnit: 'own' });
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const clusterProxyCert = async (): Promise<string> => (await ok(t.req('GET', '/v1/cluster/certificates'))).proxy_cert;
const certPath = (uid: number | string) => `/v1/bdbs/${uid}/certificates`;
const setCert = (uid: number, pair: { certificate: string; key: string }, query = '') =>
  t.req('POST', certPath(uid) + query, { body: { cert: pair.certificate, private_key: pair.key } });

const servedBy = (port: number, pem: string) =>
  waitFor(async () => (await peerCert(port)).fingerprint256 === fingerprint(pem), { what: `port ${port} presents ${new X509Certificate(pem).subject}` });

/** One TLS connection kept open, speaking RESP by hand: shows that a certificate swap drops no client. */
async function openTls(port: number): Promise<{ cmd(...args: string[]): Promise<string>; close(): void }> {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
  return {
    cmd: (...args) => new Promise((resolve, reject) => {
      s.once('data', (d) => resolve(d.toString()));
      s.once('error', reject);
      s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    }),
    close: () => s.destroy(),
  };
}

describe('POST, GET, DELETE /v1/bdbs/{uid}/certificates', () => {
  it('a TLS database presents its own certificate, then the cluster one again after DELETE; others keep the cluster one; no client is dropped', async () => {
    const [own, other] = await Promise.all([createBdb(t, { name: 'own-cert', tls_mode: 'enabled' }), createBdb(t, { name: 'cluster-cert', tls_mode: 'enabled' })]);
    const port = own.endpoints[0].port;
    const otherPort = other.endpoints[0].port;
    const cluster = await clusterProxyCert();
    await servedBy(port, cluster);

    const conn = await openTls(port);
    try {
      expect(await conn.cmd('SET', 'kept', 'yes')).toBe('+OK\r\n');
      const pair = await dbPair('own-cert.test.local');
      const r = await setCert(own.uid, pair);
      expect(r.status, r.text).toBe(200);
      const x = new X509Certificate(pair.certificate);
      expect(r.json).toEqual({ bdb_uid: String(own.uid), cert: pair.certificate, not_before: rsTime(new Date(x.validFrom)), not_after: rsTime(new Date(x.validTo)) });
      expect(r.json.not_after).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(await ok(t.req('GET', certPath(own.uid)))).toEqual(r.json);

      await servedBy(port, pair.certificate);
      expect((await peerCert(port)).subject.CN).toBe('own-cert.test.local');
      expect((await peerCert(otherPort)).fingerprint256).toBe(fingerprint(cluster));
      // The connection made before the swap still works, and the data is there.
      expect(await conn.cmd('GET', 'kept')).toBe('$3\r\nyes\r\n');
      await waitStatus(t, own.uid);

      // Replacing it takes effect the same way.
      const next = await dbPair('own-cert-2.test.local');
      expect((await setCert(own.uid, next)).status).toBe(200);
      await servedBy(port, next.certificate);

      const d = await t.req('DELETE', certPath(own.uid));
      expect(d.status, d.text).toBe(200);
      await servedBy(port, cluster);
      expectRsError(await t.req('GET', certPath(own.uid)), 404, 'certificate_not_found');
      expectRsError(await t.req('DELETE', certPath(own.uid)), 404, 'certificate_not_found');
      expect(await conn.cmd('GET', 'kept')).toBe('$3\r\nyes\r\n');
    } finally {
      conn.close();
    }
  });

  it('a rotation of the cluster proxy certificate leaves a database with its own certificate alone', async () => {
    const [own, other] = await Promise.all([createBdb(t, { name: 'rot-own', tls_mode: 'enabled' }), createBdb(t, { name: 'rot-other', tls_mode: 'enabled' })]);
    const pair = await dbPair('rot-own.test.local');
    expect((await setCert(own.uid, pair)).status).toBe(200);
    await servedBy(own.endpoints[0].port, pair.certificate);
    expect((await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'proxy' } })).status).toBe(200);
    const rotated = await clusterProxyCert();
    await servedBy(other.endpoints[0].port, rotated);
    await waitStatus(t, own.uid);
    expect((await peerCert(own.endpoints[0].port)).fingerprint256).toBe(fingerprint(pair.certificate));
    // And the rotated one is what it falls back to.
    expect((await t.req('DELETE', certPath(own.uid))).status).toBe(200);
    await servedBy(own.endpoints[0].port, rotated);
  });

  it('a database without TLS keeps its certificate and presents it once TLS is turned on', async () => {
    const db = await createBdb(t, { name: 'plain-then-tls' });
    const pair = await dbPair('plain-then-tls.test.local');
    expect((await setCert(db.uid, pair)).status).toBe(200);
    expect((await t.req('PUT', `/v1/bdbs/${db.uid}`, { body: { tls_mode: 'enabled' } })).status).toBe(200);
    await waitStatus(t, db.uid);
    await servedBy(db.endpoints[0].port, pair.certificate);
  });

  it('unknown databases: 404 db_not_exist for every method; a database without a certificate: GET 404', async () => {
    const pair = await dbPair('nobody.test.local');
    for (const uid of [999, 'abc']) {
      expectRsError(await t.req('GET', certPath(uid)), 404, 'db_not_exist');
      expectRsError(await t.req('POST', certPath(uid), { body: { cert: pair.certificate, private_key: pair.key } }), 404, 'db_not_exist');
      expectRsError(await t.req('DELETE', certPath(uid)), 404, 'db_not_exist');
    }
    const db = await createBdb(t, { name: 'no-cert' });
    expectRsError(await t.req('GET', certPath(db.uid)), 404, 'certificate_not_found');
  });

  it('validates like PUT /v1/cluster/certificates: 400 for a bad certificate, key or body, 406 for an expired one; nothing is stored', async () => {
    const db = await createBdb(t, { name: 'bad-certs', tls_mode: 'enabled' });
    const [a, b] = await Promise.all([dbPair('a.test.local'), dbPair('b.test.local')]);
    const expired = await pairWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
    const future = await pairWithDates(new Date(Date.now() + DAY_MS), new Date(Date.now() + 400 * DAY_MS));
    const post = (body: unknown) => t.req('POST', certPath(db.uid), { body });
    expectRsError(await post({ cert: 'not a certificate', private_key: a.key }), 400, 'invalid_certificate');
    expectRsError(await post({ cert: a.certificate.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n'), private_key: a.key }), 400, 'invalid_certificate');
    expectRsError(await post({ cert: a.certificate, private_key: b.key }), 400, 'invalid_certificate');
    expectRsError(await post({ cert: a.certificate, private_key: 'not a key' }), 400, 'invalid_certificate');
    expectRsError(await post({ cert: a.certificate + a.key, private_key: a.key }), 400, 'invalid_certificate');
    expectRsError(await post({ cert: a.certificate }), 400);
    expectRsError(await post({ private_key: a.key }), 400);
    expectRsError(await post({ cert: a.certificate, private_key: a.key, bdb_uid: '7' }), 400);
    expectRsError(await post({ cert: expired.certificate, private_key: expired.key }), 406, 'certificate_expired');
    expectRsError(await post({ cert: future.certificate, private_key: future.key }), 406, 'certificate_expired');
    expectRsError(await t.req('GET', certPath(db.uid)), 404, 'certificate_not_found');
  });

  it('dry_run validates and answers the certificate, but stores and serves nothing', async () => {
    const db = await createBdb(t, { name: 'dry-run', tls_mode: 'enabled' });
    const pair = await dbPair('dry.test.local');
    const r = await setCert(db.uid, pair, '?dry_run=true');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ bdb_uid: String(db.uid), cert: pair.certificate });
    expectRsError(await setCert(db.uid, { certificate: pair.certificate, key: (await dbPair('x')).key }, '?dry_run'), 400, 'invalid_certificate');
    expectRsError(await t.req('GET', certPath(db.uid)), 404, 'certificate_not_found');
    expect((await peerCert(db.endpoints[0].port)).fingerprint256).toBe(fingerprint(await clusterProxyCert()));
  });

  it('the private key is kept in the CCS like the cluster keys, and no answer shows it', async () => {
    const db = await createBdb(t, { name: 'key-hidden', tls_mode: 'enabled' });
    const pair = await dbPair('hidden.test.local');
    const answers = [await setCert(db.uid, pair), await t.req('GET', certPath(db.uid)), await t.req('GET', '/v1/bdbs/certificates'), await t.req('GET', `/v1/bdbs/${db.uid}`)];
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('PRIVATE KEY');
      expect(r.text).not.toContain('private_key');
    }
    const stored = (await t.node.composed.kv.list<{ uid: number; certificate: string; key: string }>('/bdb_certificates/')).map((e) => e.value).find((v) => v.uid === db.uid);
    expect(stored).toMatchObject({ certificate: pair.certificate, key: pair.key });
    // The cluster's certificate list is not where they live.
    expect(Object.values(await ok(t.req('GET', '/v1/cluster/certificates')))).not.toContain(pair.certificate);
  });

  it('deleting the database removes its certificate', async () => {
    const db = await createBdb(t, { name: 'goes-away', tls_mode: 'enabled' });
    expect((await setCert(db.uid, await dbPair('goes-away.test.local'))).status).toBe(200);
    expect((await t.req('DELETE', `/v1/bdbs/${db.uid}`)).status).toBe(200);
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/${db.uid}`)).status === 404, { what: 'database gone' });
    expect(await t.node.composed.kv.get(`/bdb_certificates/${db.uid}`)).toBeUndefined();
    expect((await ok(t.req('GET', '/v1/bdbs/certificates'))).map((c: { bdb_uid: string }) => c.bdb_uid)).not.toContain(String(db.uid));
  });
});

describe('GET /v1/bdbs/certificates', () => {
  let uids: { soon: string; late: string; plain: string };
  let all: { bdb_uid: string; not_after: string }[];
  beforeAll(async () => {
    const [soon, late, plain] = await Promise.all([
      createBdb(t, { name: 'list-soon', tls_mode: 'enabled' }),
      createBdb(t, { name: 'list-late', tls_mode: 'enabled' }),
      createBdb(t, { name: 'list-plain' }),
    ]);
    const now = Date.now() - 60_000;
    expect((await setCert(soon.uid, await pairWithDates(new Date(now), new Date(now + 10 * DAY_MS), { cn: 'soon' }))).status).toBe(200);
    expect((await setCert(late.uid, await pairWithDates(new Date(now), new Date(now + 400 * DAY_MS), { cn: 'late' }))).status).toBe(200);
    expect((await setCert(plain.uid, await pairWithDates(new Date(now), new Date(now + 20 * DAY_MS), { cn: 'plain' }))).status).toBe(200);
    uids = { soon: String(soon.uid), late: String(late.uid), plain: String(plain.uid) };
    all = await ok(t.req('GET', '/v1/bdbs/certificates'));
  });
  const listed = async (q: string) => ((await ok(t.req('GET', `/v1/bdbs/certificates${q}`))) as { bdb_uid: string }[]).map((c) => c.bdb_uid);
  const ours = (l: string[]) => l.filter((u) => Object.values(uids).includes(u));

  it('lists every database certificate, by database uid, shaped as GET on one', async () => {
    expect(ours(all.map((c) => c.bdb_uid))).toEqual(Object.values(uids).sort((x, y) => Number(x) - Number(y)));
    expect(all.map((c) => Number(c.bdb_uid))).toEqual([...all.map((c) => Number(c.bdb_uid))].sort((x, y) => x - y));
    for (const c of all) expect(Object.keys(c).sort()).toEqual(['bdb_uid', 'cert', 'not_after', 'not_before']);
    expect(all.find((c) => c.bdb_uid === uids.late)).toEqual(await ok(t.req('GET', certPath(uids.late))));
  });

  it('expires_before: certificates whose not_after is before it', async () => {
    const in30 = new Date(Date.now() + 30 * DAY_MS).toISOString();
    expect(ours(await listed(`?expires_before=${in30}`)).sort()).toEqual([uids.soon, uids.plain].sort());
    const in15 = new Date(Date.now() + 15 * DAY_MS).toISOString();
    expect(ours(await listed(`?expires_before=${encodeURIComponent(in15)}`))).toEqual([uids.soon]);
    expect(ours(await listed(`?expires_before=2000-01-01T00:00:00Z`))).toEqual([]);
  });

  it('tls_mode: by the database tls_mode', async () => {
    expect(ours(await listed('?tls_mode=enabled')).sort()).toEqual([uids.soon, uids.late].sort());
    expect(ours(await listed('?tls_mode=disabled'))).toEqual([uids.plain]);
    expect(ours(await listed('?tls_mode=replica_ssl'))).toEqual([]);
    const in30 = new Date(Date.now() + 30 * DAY_MS).toISOString();
    expect(ours(await listed(`?tls_mode=enabled&expires_before=${in30}`))).toEqual([uids.soon]);
  });

  it('page and page_size: 1-based pages of the filtered list', async () => {
    const uidsAll = all.map((c) => c.bdb_uid);
    expect(await listed('?page=1&page_size=2')).toEqual(uidsAll.slice(0, 2));
    expect(await listed('?page=2&page_size=2')).toEqual(uidsAll.slice(2, 4));
    expect(await listed(`?page=${uidsAll.length + 1}&page_size=1`)).toEqual([]);
    expect(await listed('?page_size=1')).toEqual(uidsAll.slice(0, 1));
    expect(await listed('?page=1')).toEqual(uidsAll);
  });

  it('fields= picks from the certificates like from any answer (QA 13: it was a 500)', async () => {
    const picked = await ok(t.req('GET', '/v1/bdbs/certificates?fields=bdb_uid,not_after'));
    expect(picked).toEqual(all.map((c) => ({ bdb_uid: c.bdb_uid, not_after: c.not_after })));
    expect(await ok(t.req('GET', `${certPath(uids.late)}?fields=bdb_uid`))).toEqual({ bdb_uid: uids.late });
    // The response schema still decides what may be shown: the write-only key cannot be asked for.
    expect(await ok(t.req('GET', `${certPath(uids.late)}?fields=private_key,key`))).toEqual({});
  });

  it('bad filter or paging values → 400', async () => {
    for (const q of ['page=0', 'page=-1', 'page=x', 'page_size=0', 'page_size=1.5', 'tls_mode=on']) {
      expectRsError(await t.req('GET', `/v1/bdbs/certificates?${q}`), 400, 'invalid_schema');
    }
    expectRsError(await t.req('GET', '/v1/bdbs/certificates?expires_before=tomorrow'), 400, 'invalid_param');
  });
});

describe('permissions', () => {
  const viewer = { user: 'dbcertviewer@test.local', pass: 'viewer-pass-1' };
  beforeAll(async () => {
    await ok(t.req('POST', '/v1/users', { body: { email: viewer.user, password: viewer.pass, name: 'dbcertviewer', role: 'cluster_viewer' } }));
  });

  it('a cluster_viewer may read the certificates but not set or delete one', async () => {
    const db = await createBdb(t, { name: 'perm', tls_mode: 'enabled' });
    const pair = await dbPair('perm.test.local');
    expect((await setCert(db.uid, pair)).status).toBe(200);
    expect((await t.req('GET', certPath(db.uid), { auth: viewer })).status).toBe(200);
    expect((await t.req('GET', '/v1/bdbs/certificates', { auth: viewer })).status).toBe(200);
    expectRsError(await t.req('POST', certPath(db.uid), { auth: viewer, body: { cert: pair.certificate, private_key: pair.key } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', certPath(db.uid), { auth: viewer }), 403, 'insufficient_permissions');
    expectRsError(await t.req('GET', certPath(db.uid), { auth: null }), 401, 'unauthorized');
  });

  it('a db_viewer scoped to some databases lists only their certificates, as GET on one refuses the others (QA 13)', async () => {
    const [mine, other] = await Promise.all([createBdb(t, { name: 'scope-mine', tls_mode: 'enabled' }), createBdb(t, { name: 'scope-other', tls_mode: 'enabled' })]);
    expect((await setCert(mine.uid, await dbPair('mine.test.local'))).status).toBe(200);
    expect((await setCert(other.uid, await dbPair('other.test.local'))).status).toBe(200);
    const role = await ok(t.req('POST', '/v1/roles', { body: { name: 'certs-scoped', management: 'db_viewer', resources: [{ type: 'db', uids: [String(mine.uid)] }] } }));
    const scoped = { user: 'dbcertscoped@test.local', pass: 'scoped-pass-1' };
    await ok(t.req('POST', '/v1/users', { body: { email: scoped.user, password: scoped.pass, name: 'dbcertscoped', role_uids: [role.uid] } }));
    expectRsError(await t.req('GET', certPath(other.uid), { auth: scoped }), 403, 'insufficient_permissions');
    expect((await t.req('GET', certPath(mine.uid), { auth: scoped })).status).toBe(200);
    const list = (await ok(t.req('GET', '/v1/bdbs/certificates', { auth: scoped }))) as { bdb_uid: string }[];
    expect(list.map((c) => c.bdb_uid)).toEqual([String(mine.uid)]);
  });
});

describe('across a restart', () => {
  it('a node started again on the same data dir, with the proxy and shards gone too, presents the database its own certificate', async () => {
    const n = await startTestNode();
    let again: TestNode | undefined;
    try {
      const db = await createBdb(n, { name: 'restart-cert', tls_mode: 'enabled' });
      const pair = await dbPair('restart-cert.test.local');
      expect((await n.req('POST', certPath(db.uid), { body: { cert: pair.certificate, private_key: pair.key } })).status).toBe(200);
      await servedBy(db.endpoints[0].port, pair.certificate);
      await n.node.close({ stopDatabases: true });
      again = await startTestNode({ dataDir: n.dataDir });
      await waitStatus(again, db.uid);
      await servedBy(db.endpoints[0].port, pair.certificate);
      expect((await ok(again.req('GET', certPath(db.uid)))).cert).toBe(pair.certificate);
    } finally {
      await (again ?? n).close();
    }
  }, 60_000);
});
