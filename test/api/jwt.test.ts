/**
 * JWT authentication (requests/users/authorize.md, refresh_jwt.md, objects/jwt_authorize.md)
 * through real HTTPS on a real node: issuing, both header forms, forged / expired / foreign-key
 * tokens, refresh, key rotation, per-use re-checks of the user record, and the signing key's
 * absence from every response.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_KEY, JwtAuth, type JwtSigningKey } from '../../src/auth/jwt.js';
import { hashPassword } from '../../src/auth/password.js';
import { USERS_PREFIX, type UserRecord } from '../../src/auth/user-record.js';
import { Collection, Singleton } from '../../src/store/object-store.js';
import type { Resp } from '../helpers/https-client.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectRsError } from '../helpers/rs-error.js';


const PASS = 'user-pass-123';
const login = (email: string) => ({ user: email, pass: PASS });
const withJwt = (token: string) => ({ auth: null, headers: { authorization: `JWT ${token}` } });
const withBearer = (token: string) => ({ auth: null, headers: { authorization: `Bearer ${token}` } });
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

let t: TestNode;
let hash: string;
const user = (uid: number, name: string, role: UserRecord['role'], status: UserRecord['status'] = 'active'): UserRecord => ({
  uid, name, email: `${name}@test.local`, role, role_uids: [], auth_method: 'regular', status, email_alerts: false,
  bdbs_email_alerts: [], alert_audit_db_conns: false, alert_bdb_backup: false, alert_bdb_crdt_src_syncer: false,
  password_issue_date: '2026-01-01T00:00:00Z', password_hashes: [hash],
});
const putUser = (u: UserRecord) => t.node.composed.kv.put(`/users/${u.uid}`, u);

/** POST /v1/users/authorize with Basic credentials; returns the token. */
async function authorize(auth: { user: string; pass: string } = ADMIN, body?: unknown): Promise<string> {
  const r = await t.req('POST', '/v1/users/authorize', { auth, body });
  expect(r.status, r.text).toBe(200);
  return r.json.access_token;
}

beforeAll(async () => {
  t = await startTestNode();
  hash = await hashPassword(PASS);
  await putUser(user(50, 'viewer', 'cluster_viewer'));
  await putUser(user(51, 'nobody', 'none'));
});
afterAll(async () => {
  await t?.close();
});

describe('POST /v1/users/authorize', () => {
  it('returns exactly {access_token}, an HS256 JWT naming the user, valid 300 s by default', async () => {
    const r = await t.req('POST', '/v1/users/authorize');
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(r.json)).toEqual(['access_token']);
    const token: string = r.json.access_token;
    expect(token.split('.')).toHaveLength(3);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const c = claims(token);
    expect(c.uid).toBe('1');
    expect(c.exp - c.iat).toBe(300);
    expect(Math.abs(c.iat - Date.now() / 1000)).toBeLessThan(30);
  });

  it('honours ttl within 1..86400 and rejects anything else with 400', async () => {
    expect(claims(await authorize(ADMIN, { ttl: 86400 })).exp - claims(await authorize(ADMIN, { ttl: 86400 })).iat).toBe(86400);
    const one = claims(await authorize(ADMIN, { ttl: 1 }));
    expect(one.exp - one.iat).toBe(1);
    for (const ttl of [0, -5, 86401, 1.5, '60', null]) {
      expectRsError(await t.req('POST', '/v1/users/authorize', { body: { ttl } }), 400, 'invalid_schema');
    }
    expectRsError(await t.req('POST', '/v1/users/authorize', { body: { ttl: 60, extra: true } }), 400, 'invalid_schema');
  });

  it('the token works as `JWT <t>` and as `Bearer <t>`', async () => {
    const token = await authorize();
    const a = await t.req('GET', '/v1/cluster', withJwt(token));
    expect(a.status, a.text).toBe(200);
    expect(a.json.name).toBe('cluster.test.local');
    expect((await t.req('GET', '/v1/cluster', withBearer(token))).status).toBe(200);
    expect((await t.req('GET', '/v1/nodes', { auth: null, headers: { authorization: `jwt ${token}` } })).status).toBe(200);
  });

  it('needs valid credentials: none, a wrong password, or a token alone → 401', async () => {
    const none = await t.req('POST', '/v1/users/authorize', { auth: null });
    expectRsError(none, 401, 'unauthorized');
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: { user: ADMIN.user, pass: 'wrong' } }), 401);
    expectRsError(await t.req('POST', '/v1/users/authorize', withJwt(await authorize())), 401, 'unauthorized');
  });

  it('accepts the credentials in the body instead (objects/jwt_authorize.md)', async () => {
    const r = await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: 'viewer@test.local', password: PASS, ttl: 120 } });
    expect(r.status, r.text).toBe(200);
    expect(claims(r.json.access_token)).toMatchObject({ uid: '50' });
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: 'viewer@test.local', password: 'nope' } }), 401);
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: 'viewer@test.local' } }), 401);
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: null, body: { ttl: 60 } }), 401);
    // Header and body naming different users → 401; the same user twice is fine.
    expectRsError(await t.req('POST', '/v1/users/authorize', { body: { username: 'viewer@test.local', password: PASS } }), 401);
    expect((await t.req('POST', '/v1/users/authorize', { body: { username: ADMIN.user, password: ADMIN.pass } })).status).toBe(200);
  });

  it('only users stored in the cluster get a token (an LDAP caller has no record to re-check)', async () => {
    const jwt = t.node.composed.services.jwt;
    await expect(jwt.issue({ uid: 0, name: 'ldap-user', email: 'ldap@test.local', role: 'admin' })).rejects.toMatchObject({ statusCode: 401 });
    // A caller whose uid collides with a local user's but is someone else: refused too.
    await expect(jwt.issue({ uid: 1, name: 'ldap-user', email: 'ldap@test.local', role: 'admin' })).rejects.toMatchObject({ statusCode: 401 });
  });

  it("role 'none' has no REST API access, so no token either (403)", async () => {
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: login('nobody@test.local') }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/users/authorize', { auth: null, body: { username: 'nobody@test.local', password: PASS } }), 403);
  });
});

describe('bad tokens → 401 with an RS error body', () => {
  it('tampered payload or signature', async () => {
    const token = await authorize(login('viewer@test.local'));
    const [h, p, s] = token.split('.') as [string, string, string];
    // Same signature, payload claiming the admin's uid.
    const forged = Buffer.from(JSON.stringify({ ...claims(token), uid: '1' })).toString('base64url');
    const r = await t.req('GET', '/v1/cluster', withJwt(`${h}.${forged}.${s}`));
    expectRsError(r, 401, 'invalid_token');
    expect(r.headers['www-authenticate']).toBeDefined();
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(`${h}.${p}.${flipped}`)), 401, 'invalid_token');
  });

  it('malformed tokens and alg=none', async () => {
    for (const bad of ['abc', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..', 'x'.repeat(5000)]) {
      expectRsError(await t.req('GET', '/v1/cluster', withJwt(bad)), 401, 'invalid_token');
    }
    const token = await authorize();
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`;
    expectRsError(await t.req('GET', '/v1/cluster', withBearer(none)), 401, 'invalid_token');
  });

  it('signed with another key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ uid: '1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new Uint8Array(randomBytes(32)));
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(foreign)), 401, 'invalid_token');
  });

  it('expired: signed with the real key an hour ago, and a real 1-second token after it lapses', async () => {
    const kv = t.node.composed.kv;
    const pastClock = { now: () => new Date(Date.now() - 3_600_000) };
    const past = new JwtAuth(new Singleton<JwtSigningKey>(kv, JWT_KEY), new Collection<UserRecord>(kv, USERS_PREFIX), pastClock);
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(await past.sign(1, 300))), 401, 'token_expired');

    const short = await authorize(ADMIN, { ttl: 1 });
    await waitFor(async () => (await t.req('GET', '/v1/cluster', withJwt(short))).status === 401, { timeoutMs: 5000, intervalMs: 200, what: 'the 1 s token to expire' });
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(short)), 401, 'token_expired');
  });
});

describe('POST /v1/users/refresh_jwt', () => {
  it('takes a valid token and returns a different, working one', async () => {
    const first = await authorize(login('viewer@test.local'));
    const r = await t.req('POST', '/v1/users/refresh_jwt', withJwt(first));
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.json)).toEqual(['access_token']);
    const second: string = r.json.access_token;
    expect(second).not.toBe(first);
    expect(claims(second).uid).toBe('50');
    expect(claims(second).exp - claims(second).iat).toBe(300);
    expect((await t.req('GET', '/v1/cluster', withBearer(second))).status).toBe(200);
  });

  it('honours ttl, validated like authorize', async () => {
    const token = await authorize();
    const r = await t.req('POST', '/v1/users/refresh_jwt', { ...withJwt(token), body: { ttl: 42 } });
    expect(r.status, r.text).toBe(200);
    expect(claims(r.json.access_token).exp - claims(r.json.access_token).iat).toBe(42);
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', { ...withJwt(token), body: { ttl: 86401 } }), 400, 'invalid_schema');
  });

  it('without a valid token → 401 (Basic, nothing, forged)', async () => {
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt'), 401, 'unauthorized');
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', { auth: null }), 401);
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', withJwt('a.b.c')), 401, 'invalid_token');
  });
});

describe('the token is re-checked against the user record at every use', () => {
  it("a deleted user's token does not work for a new user given the same uid (QA)", async () => {
    const create = (email: string, role: string) => t.req('POST', '/v1/users', { body: { uid: 71, email, name: email.split('@')[0], password: PASS, role } });
    expect((await create('first71@test.local', 'db_viewer')).status).toBe(200);
    const token = await authorize(login('first71@test.local'));
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
    expect((await t.req('DELETE', '/v1/users/71')).status).toBe(200);
    expect((await create('second71@test.local', 'user_manager')).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/users', withJwt(token)), 401, 'unauthorized');
    // The new user's own token works.
    expect((await t.req('GET', '/v1/users', withJwt(await authorize(login('second71@test.local'))))).status).toBe(200);
    expect((await t.req('DELETE', '/v1/users/71')).status).toBe(200);
  });

  it('a deleted user → 401', async () => {
    await putUser(user(60, 'leaver', 'admin'));
    const token = await authorize(login('leaver@test.local'));
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
    await t.node.composed.kv.delete('/users/60');
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(token)), 401, 'unauthorized');
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', withJwt(token)), 401);
  });

  it('a locked user → 401, and back once unlocked; password_expired → 401 password_expired', async () => {
    await putUser(user(61, 'locky', 'cluster_viewer'));
    const token = await authorize(login('locky@test.local'));
    await putUser(user(61, 'locky', 'cluster_viewer', 'locked'));
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(token)), 401, 'unauthorized');
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', withJwt(token)), 401);
    // Expiry is computed from password_issue_date and the policy (the stored status is only a hint).
    await putUser({ ...user(61, 'locky', 'cluster_viewer', 'password_expired'), password_issue_date: '2000-01-01T00:00:00Z' });
    expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 30 } })).status).toBe(200);
    try {
      expectRsError(await t.req('GET', '/v1/cluster', withJwt(token)), 401, 'password_expired');
    } finally {
      expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 0 } })).status).toBe(200);
    }
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
    await putUser(user(61, 'locky', 'cluster_viewer'));
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
  });

  it('sees time-based status changes without any write: a password that expires, a lock that runs out', async () => {
    const now = Date.now();
    // Issued 29.99 days ago under a 30-day policy: valid now, expired once the clock passes 30 days.
    await putUser({ ...user(63, 'ager', 'cluster_viewer'), password_issue_date: new Date(now - 30 * 86_400_000 + 60_000).toISOString() });
    const token = await authorize(login('ager@test.local'));
    expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 30 } })).status).toBe(200);
    try {
      expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
      // The stored record still says 'active'; only the time changes (a 29-day policy = 1 day later).
      expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 29 } })).status).toBe(200);
      expect((await t.node.composed.kv.get<UserRecord>('/users/63'))?.value.status).toBe('active');
      expectRsError(await t.req('GET', '/v1/cluster', withJwt(token)), 401, 'password_expired');
    } finally {
      expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 0 } })).status).toBe(200);
    }

    // Locked by failed logins 10 minutes ago, with a 30-minute lock: refused; a 5-minute lock has run out.
    const lockedToken = token;
    await putUser({ ...user(63, 'ager', 'cluster_viewer', 'locked'), failed_logins: 5, last_failed_login: now - 600_000, locked_at: now - 600_000 });
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(lockedToken)), 401, 'unauthorized');
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { login_lockout_duration: 300 } })).status).toBe(200);
    try {
      expect((await t.req('GET', '/v1/cluster', withJwt(lockedToken))).status).toBe(200);
    } finally {
      expect((await t.req('PUT', '/v1/cluster/policy', { body: { login_lockout_duration: 1800 } })).status).toBe(200);
    }
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(lockedToken)), 401, 'unauthorized');
  });

  it("a cluster_viewer's token gets 403 on PUT /v1/cluster; role changes apply at once", async () => {
    await putUser(user(62, 'mover', 'cluster_viewer'));
    const token = await authorize(login('mover@test.local'));
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/cluster', { ...withJwt(token), body: { email_alerts: false } }), 403, 'insufficient_permissions');
    await putUser(user(62, 'mover', 'admin'));
    expect((await t.req('PUT', '/v1/cluster', { ...withJwt(token), body: { email_alerts: false } })).status).toBe(200);
    await putUser(user(62, 'mover', 'none'));
    expectRsError(await t.req('GET', '/v1/cluster', withJwt(token)), 403);
    expectRsError(await t.req('POST', '/v1/users/refresh_jwt', withJwt(token)), 403);
  });
});

describe('signing key', () => {
  it('is kept in the CCS and never appears in a response', async () => {
    const token = await authorize();
    const key = (await t.node.composed.kv.get<JwtSigningKey>(JWT_KEY))?.value;
    expect(key?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const secretBase64 = Buffer.from(key!.secret, 'base64url').toString('base64');
    for (const p of ['/v1/cluster', '/v1/cluster/certificates', '/v1/cluster/policy', '/v1/cm_settings', '/v1/nodes', '/v1/license', '/v1/jsonschema', '/v1/bootstrap']) {
      for (const auth of [{}, withJwt(token)]) {
        const r = await t.req('GET', p, auth);
        expect(r.status, `${p}: ${r.text}`).toBeLessThan(500);
        expect(r.text).not.toContain(key!.secret);
        expect(r.text).not.toContain(secretBase64);
        expect(r.text).not.toContain('jwt_signing_key');
      }
    }
    expect(token).not.toContain(key!.secret);
  });

  it('rotateKey(): every earlier token → 401, new tokens work', async () => {
    const admin = await authorize();
    const viewer = await authorize(login('viewer@test.local'));
    const before = (await t.node.composed.kv.get<JwtSigningKey>(JWT_KEY))?.value;
    await t.node.composed.services.jwt.rotateKey();
    const after = (await t.node.composed.kv.get<JwtSigningKey>(JWT_KEY))?.value;
    expect(after?.secret).not.toBe(before?.secret);
    for (const old of [admin, viewer]) {
      expectRsError(await t.req('GET', '/v1/cluster', withJwt(old)), 401, 'invalid_token');
      expectRsError(await t.req('POST', '/v1/users/refresh_jwt', withJwt(old)), 401, 'invalid_token');
    }
    expect((await t.req('GET', '/v1/cluster', withJwt(await authorize()))).status).toBe(200);
  });

  it('survives a restart: a token issued before still works after', async () => {
    const token = await authorize();
    await t.stop();
    t = await startTestNode({ dataDir: t.dataDir });
    expect((await t.req('GET', '/v1/cluster', withJwt(token))).status).toBe(200);
  });
});
