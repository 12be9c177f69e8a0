import { createHash } from 'node:crypto';
/**
 * Users, passwords, the password and login policy, and the hashing algorithm, through real HTTPS
 * on a real node (requests/users/_index.md, password.md, objects/user.md,
 * requests/cluster/change_password_hashing_algorithm.md, security/access-control/manage-*).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-record.js';
import { loadConfig } from '../../src/config.js';
import { startNode } from '../../src/node-runtime.js';
import { REDACT } from '../../src/util/logger.js';
import { request, type Resp } from '../helpers/https-client.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectRsError } from '../helpers/rs-error.js';

const SHARED = new URL('../../../shared/', import.meta.url);
const CAPTURE = JSON.parse(fs.readFileSync(fileURLToPath(new URL('fixtures/redis-enterprise-rs/user_single.json', SHARED)), 'utf8')) as Record<string, unknown>;

let t: TestNode;
/** Every response body seen, to check that none carries a password or a hash. */
const seen: string[] = [];
/** Every password the tests use. */
const PASSWORDS = new Set<string>([ADMIN.pass]);

type Auth = { user: string; pass: string } | null;
async function req(method: string, path: string, opts: { body?: unknown; auth?: Auth } = {}): Promise<Resp> {
  const r = await t.req(method, path, opts);
  seen.push(r.text);
  return r;
}
const pw = (p: string) => {
  PASSWORDS.add(p);
  return p;
};
const record = async (uid: number) => (await t.node.composed.kv.get<UserRecord>(`/users/${uid}`))?.value;
const events = (type?: string) => t.node.composed.events.query({}).filter((e) => !type || e.type === type);

/** Create a user as the admin; returns its uid. */
async function createUser(email: string, password: string, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await req('POST', '/v1/users', { body: { email, password: pw(password), name: email.split('@')[0], ...extra } });
  expect(r.status, r.text).toBe(200);
  return r.json.uid;
}

beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

describe('the bootstrap admin', () => {
  it('has the shape of the capture user_single.json, with the Admin role in role_uids', async () => {
    const r = await req('GET', '/v1/users/1');
    expect(r.status).toBe(200);
    // The capture's fields, plus last_login (objects/user.md) once the admin has signed in.
    expect(Object.keys(r.json).filter((k) => k !== 'last_login')).toEqual(Object.keys(CAPTURE).sort());
    expect(r.json).toMatchObject({ uid: 1, name: 'Administrator', email: ADMIN.user, role: 'admin', role_uids: [1], auth_method: 'regular', status: 'active', certificate_subject_line: '', email_alerts: true });
    expect(r.json.password_issue_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const list = await req('GET', '/v1/users');
    expect(list.json).toEqual([r.json]);
  });

  it('is described by GET /v1/jsonschema?object=user', async () => {
    const schema = (await req('GET', '/v1/jsonschema?object=user')).json;
    const validate = new Ajv({ strict: false }).compile(schema);
    const body = (await req('GET', '/v1/users/1')).json;
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(body).filter((k) => !(k in schema.properties))).toEqual([]);
  });
});

describe('POST /v1/users', () => {
  it('creates a user from role_uids, from role, or with the default role db_viewer', async () => {
    const a = await req('POST', '/v1/users', { body: { email: 'pat@example.com', password: pw('my-password'), name: 'Pat Doe', email_alerts: true, bdbs_email_alerts: ['1', '2'], role_uids: [4], auth_method: 'regular' } });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({ email: 'pat@example.com', name: 'Pat Doe', role: 'db_member', role_uids: [4], bdbs_email_alerts: ['1', '2'], status: 'active', auth_method: 'regular' });
    const b = await req('POST', '/v1/users', { body: { email: 'cv@example.com', password: pw('cv-password'), role: 'cluster_viewer' } });
    expect(b.json).toMatchObject({ role: 'cluster_viewer', role_uids: [3], name: 'cv@example.com' });
    const c = await req('POST', '/v1/users', { body: { email: 'dv@example.com', password: pw('dv-password') } });
    expect(c.json).toMatchObject({ role: 'db_viewer', role_uids: [5], email_alerts: true });
    expect((await req('GET', `/v1/users/${a.json.uid}`)).json).toEqual(a.json);
    expect(events('user_created').map((e) => e.user_email)).toEqual(expect.arrayContaining(['pat@example.com', 'cv@example.com', 'dv@example.com']));
  });

  it('several roles: the effective role is the highest management role', async () => {
    const r = await req('POST', '/v1/users', { body: { email: 'multi@example.com', password: pw('multi-password'), role_uids: [6, 5, 2] } });
    expect(r.json).toMatchObject({ role: 'cluster_member', role_uids: [6, 5, 2] });
  });

  it('refuses missing fields, duplicates, unknown roles and unknown fields', async () => {
    // Only the email is named: the name defaults to it.
    expect((await req('POST', '/v1/users', { body: { password: 'x-password' } })).json).toMatchObject({ error_code: 'missing_field', description: 'Missing field(s): email' });
    expectRsError(await req('POST', '/v1/users', { body: { email: 'nopass@example.com' } }), 400, 'missing_field');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'PAT@example.com', password: 'other-pass' } }), 409, 'email_already_exists');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new1@example.com', name: 'Pat Doe', password: 'other-pass' } }), 409, 'name_already_exists');
    // A name may not be another user's email either: both are logins.
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new2@example.com', name: 'pat@example.com', password: 'other-pass' } }), 409, 'name_already_exists');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new3@example.com', password: 'other-pass', role_uids: [99] } }), 400, 'invalid_param');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new4@example.com', password: 'other-pass', role: 'admin', role_uids: [5] } }), 400, 'invalid_param');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new5@example.com', password: 'other-pass', colour: 'red' } }), 400, 'invalid_schema');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'not an email', password: 'other-pass' } }), 400, 'invalid_schema');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new6@example.com', password: 'other-pass', name: 'a<b' } }), 400, 'invalid_schema');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'new7@example.com', password: 'other-pass', role_uids: [] } }), 400, 'invalid_schema');
    expect((await req('GET', '/v1/users')).json.map((u: any) => u.email)).not.toContain('new1@example.com');
  });

  it('password_hash_method 1: the password arrives as SHA-256 of username:clustername:password and logs in', async () => {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const plain = 'pre-hashed-secret-1';
    const cluster = 'cluster.test.local';
    // By email, as RS users log in.
    const r = await req('POST', '/v1/users', { body: { email: 'pre@example.com', name: 'pre', password: sha(`pre@example.com:${cluster}:${plain}`), password_hash_method: '1' } });
    expect(r.status, r.text).toBe(200);
    expect(r.text).not.toContain(sha(`pre@example.com:${cluster}:${plain}`));
    PASSWORDS.add(plain);
    expect((await req('GET', '/v1/cluster', { auth: { user: 'pre@example.com', pass: plain } })).status).toBe(200);
    expect((await req('GET', '/v1/cluster', { auth: { user: 'pre@example.com', pass: 'wrong-one-1' } })).status).toBe(401);
    // After the first login the stored entry is an ordinary salted hash: the SHA-256 form is gone.
    const stored = (await t.node.composed.kv.get<any>(`/users/${r.json.uid}`))!.value;
    expect(stored.password_hashes.some((h: string) => h.startsWith('prehash-'))).toBe(false);
    expect((await req('GET', '/v1/cluster', { auth: { user: 'pre@example.com', pass: plain } })).status).toBe(200);
    // By name works too (the docs do not say which "username" means); and on update.
    const u = await req('PUT', `/v1/users/${r.json.uid}`, { body: { password: sha(`pre:${cluster}:other-pre-secret-2`), password_hash_method: 1 } });
    expect(u.status, u.text).toBe(200);
    PASSWORDS.add('other-pre-secret-2');
    expect((await req('GET', '/v1/cluster', { auth: { user: 'pre', pass: 'other-pre-secret-2' } })).status).toBe(200);
    // A value that is not a SHA-256 is refused, and nothing is created.
    expectRsError(await req('POST', '/v1/users', { body: { email: 'pre2@example.com', password: 'abc', password_hash_method: '1' } }), 400, 'invalid_schema');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'pre3@example.com', password_hash_method: '1' } }), 400, 'missing_field');
    expect((await req('GET', '/v1/users')).json.map((x: any) => x.email)).not.toContain('pre2@example.com');
  });

  it('dry_run validates without creating', async () => {
    const r = await req('POST', '/v1/users?dry_run=1', { body: { email: 'dry@example.com', password: pw('dry-password') } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.email).toBe('dry@example.com');
    expect((await req('GET', '/v1/users')).json.map((u: any) => u.email)).not.toContain('dry@example.com');
    expectRsError(await req('POST', '/v1/users?dry_run=1', { body: { email: 'pat@example.com', password: 'x-password' } }), 409, 'email_already_exists');
  });

  it('stores only hashes; a new user signs in by email or name', async () => {
    const uid = await createUser('hash@example.com', 'hash-password-1');
    const rec = await record(uid);
    expect(rec!.password_hashes).toHaveLength(1);
    expect(rec!.password_hashes[0]).toMatch(/^scrypt\$/);
    expect(JSON.stringify(rec)).not.toContain('hash-password-1');
    expect((await req('GET', `/v1/users/${uid}`, { auth: { user: 'hash@example.com', pass: 'hash-password-1' } })).status).toBe(200);
    expect((await req('GET', `/v1/users/${uid}`, { auth: { user: 'HASH', pass: 'hash-password-1' } })).status).toBe(200);
  });

  it('certificate users need a subject line and take no password', async () => {
    const r = await req('POST', '/v1/users', { body: { auth_method: 'certificate', certificate_subject_line: 'CN=svc,O=Example', name: 'svc-cert', email: '' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ auth_method: 'certificate', certificate_subject_line: 'CN=svc,O=Example' });
    expectRsError(await req('POST', '/v1/users', { body: { auth_method: 'certificate', name: 'svc2' } }), 400, 'missing_field');
    expectRsError(await req('POST', '/v1/users', { body: { auth_method: 'certificate', certificate_subject_line: 'CN=x', name: 'svc3', password: 'p' } }), 400, 'invalid_param');
  });
});

describe('permissions and self-service', () => {
  const viewer = { user: 'self@example.com', pass: 'self-password-1' };
  let uid: number;
  let otherUid: number;
  beforeAll(async () => {
    uid = await createUser(viewer.user, viewer.pass, { role_uids: [5] });
    otherUid = await createUser('other@example.com', 'other-password-1');
  });

  it('a db_viewer may read and change only its own user, and only name, password and alerts', async () => {
    expectRsError(await req('GET', '/v1/users', { auth: viewer }), 403, 'insufficient_permissions');
    expectRsError(await req('GET', `/v1/users/${otherUid}`, { auth: viewer }), 403, 'insufficient_permissions');
    expect((await req('GET', `/v1/users/${uid}`, { auth: viewer })).json.email).toBe(viewer.user);
    const r = await req('PUT', `/v1/users/${uid}`, { auth: viewer, body: { name: 'Self Renamed', email_alerts: false } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ name: 'Self Renamed', email_alerts: false });
    expectRsError(await req('PUT', `/v1/users/${uid}`, { auth: viewer, body: { role_uids: [1] } }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', `/v1/users/${uid}`, { auth: viewer, body: { email: 'x@example.com' } }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', `/v1/users/${otherUid}`, { auth: viewer, body: { name: 'hijack' } }), 403, 'insufficient_permissions');
    expectRsError(await req('POST', '/v1/users', { auth: viewer, body: { email: 'z@example.com', password: 'z' } }), 403, 'insufficient_permissions');
    expectRsError(await req('DELETE', `/v1/users/${otherUid}`, { auth: viewer }), 403, 'insufficient_permissions');
  });

  it('a user changes its own password through PUT /v1/users/{uid}', async () => {
    const r = await req('PUT', `/v1/users/${uid}`, { auth: viewer, body: { password: pw('self-password-2') } });
    expect(r.status, r.text).toBe(200);
    expect((await req('GET', `/v1/users/${uid}`, { auth: viewer })).status).toBe(401);
    viewer.pass = 'self-password-2';
    expect((await req('GET', `/v1/users/${uid}`, { auth: viewer })).status).toBe(200);
    expectRsError(await req('PUT', `/v1/users/${uid}`, { auth: viewer, body: { password: 'self-password-2' } }), 400, 'new_password_same_as_current');
  });

  it("role 'none' has no REST API access, not even to itself", async () => {
    const none = { user: 'none@example.com', pass: 'none-password-1' };
    const noneUid = await createUser(none.user, none.pass, { role_uids: [6] });
    expectRsError(await req('GET', `/v1/users/${noneUid}`, { auth: none }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', '/v1/users/password', { auth: none, body: { new_password: 'x-new-pass' } }), 403, 'insufficient_permissions');
  });

  it('a user_manager manages users but cannot create, change or delete admins', async () => {
    const um = { user: 'um@example.com', pass: 'um-password-1' };
    await createUser(um.user, um.pass, { role_uids: [7] });
    const created = await req('POST', '/v1/users', { auth: um, body: { email: 'byum@example.com', password: pw('byum-password'), role_uids: [4] } });
    expect(created.status, created.text).toBe(200);
    expect((await req('PUT', `/v1/users/${created.json.uid}`, { auth: um, body: { role_uids: [3] } })).json.role).toBe('cluster_viewer');
    expectRsError(await req('POST', '/v1/users', { auth: um, body: { email: 'boss@example.com', password: 'boss-pass', role_uids: [1] } }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', `/v1/users/${created.json.uid}`, { auth: um, body: { role_uids: [1] } }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', '/v1/users/1', { auth: um, body: { password: 'steal-admin-1' } }), 403, 'insufficient_permissions');
    expectRsError(await req('DELETE', '/v1/users/1', { auth: um }), 403, 'insufficient_permissions');
    expectRsError(await req('PUT', '/v1/users/password', { auth: um, body: { username: ADMIN.user, new_password: 'steal-admin-2' } }), 403, 'unauthorized_action');
    expect((await req('DELETE', `/v1/users/${created.json.uid}`, { auth: um })).status).toBe(200);
  });
});

describe('PUT and DELETE /v1/users/{uid}', () => {
  it('updates fields and role_uids; refuses read-only fields; 404 for unknown users', async () => {
    const uid = await createUser('upd@example.com', 'upd-password-1');
    const r = await req('PUT', `/v1/users/${uid}`, { body: { email_alerts: false, role_uids: [2, 4] } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ email_alerts: false, role_uids: [2, 4], role: 'cluster_member' });
    expect((await req('PUT', `/v1/users/${uid}`, { body: { role: 'db_viewer' } })).json).toMatchObject({ role: 'db_viewer', role_uids: [5] });
    expectRsError(await req('PUT', `/v1/users/${uid}`, { body: { status: 'active' } }), 400, 'read_only_field');
    // PUT's page documents 400/404/406, no 409 (POST's does): a taken email or name → 400.
    expectRsError(await req('PUT', `/v1/users/${uid}`, { body: { email: ADMIN.user } }), 400, 'email_already_exists');
    expectRsError(await req('PUT', `/v1/users/${uid}`, { body: { name: 'Administrator' } }), 400, 'name_already_exists');
    expectRsError(await req('PUT', '/v1/users/9999', { body: { email_alerts: true } }), 404, 'user_not_exist');
    expectRsError(await req('GET', '/v1/users/9999'), 404, 'user_not_exist');
    expectRsError(await req('GET', '/v1/users/abc'), 404, 'user_not_exist');
    const dry = await req('PUT', `/v1/users/${uid}?dry_run=true`, { body: { name: 'Dry Name' } });
    expect(dry.json.name).toBe('Dry Name');
    expect((await req('GET', `/v1/users/${uid}`)).json.name).toBe('upd');
    expect(events('user_updated').some((e) => e.user_uid === uid && (e.changed as string[]).includes('role_uids'))).toBe(true);
  });

  it('refuses an empty email as POST does; an empty Basic username signs in as nobody', async () => {
    const a = await createUser('blank-a@example.com', 'blank-a-password');
    const b = await createUser('blank-b@example.com', 'blank-b-password');
    for (const uid of [a, b]) expectRsError(await req('PUT', `/v1/users/${uid}`, { body: { email: '' } }), 400, 'missing_field');
    expect((await record(a))!.email).toBe('blank-a@example.com');
    // A record left with an empty email (as the API used to allow) is not found by an empty login.
    await t.node.composed.kv.put(`/users/${b}`, { ...(await record(b))!, email: '' });
    expect((await req('GET', '/v1/cluster', { auth: { user: '', pass: 'blank-b-password' } })).status).toBe(401);
    expect((await req('GET', '/v1/cluster', { auth: { user: 'blank-b', pass: 'blank-b-password' } })).status).toBe(200);
  });

  it('the last admin can be neither demoted nor deleted', async () => {
    expectRsError(await req('PUT', '/v1/users/1', { body: { role_uids: [5] } }), 406, 'change_last_admin_role_not_allowed');
    expectRsError(await req('DELETE', '/v1/users/1'), 406, 'delete_last_admin_not_allowed');
    const second = await createUser('admin2@example.com', 'admin2-password', { role_uids: [1] });
    expect((await req('DELETE', `/v1/users/${second}`)).status).toBe(200);
    expectRsError(await req('DELETE', '/v1/users/1'), 406, 'delete_last_admin_not_allowed');
  });

  it('parallel requests cannot make duplicate users or leave no admin (QA)', async () => {
    // 12 creates of one email at once: exactly one user.
    const creates = await Promise.all(Array.from({ length: 12 }, () => req('POST', '/v1/users', { body: { email: 'race@example.com', password: pw('race-password-1'), role: 'db_viewer' } })));
    expect(creates.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of creates.filter((x) => x.status !== 200)) expectRsError(r, 409, 'email_already_exists');
    expect(((await req('GET', '/v1/users')).json as any[]).filter((u) => u.email === 'race@example.com')).toHaveLength(1);
    // The only two admins demoting each other at once (with a password change, which takes a while): one
    // of them is refused, and an admin remains.
    const a2 = await createUser('race-admin2@example.com', 'race-admin2-pw', { role_uids: [1] });
    const a3 = await createUser('race-admin3@example.com', 'race-admin3-pw', { role_uids: [1] });
    const as2 = { user: 'race-admin2@example.com', pass: 'race-admin2-pw' };
    const as3 = { user: 'race-admin3@example.com', pass: 'race-admin3-pw' };
    expect((await req('PUT', '/v1/users/1', { auth: as2, body: { role_uids: [5] } })).status).toBe(200);
    const [r2, r3] = await Promise.all([
      req('PUT', `/v1/users/${a2}`, { auth: as3, body: { role_uids: [5], password: pw('demoted-pw-22') } }),
      req('PUT', `/v1/users/${a3}`, { auth: as2, body: { role_uids: [5], password: pw('demoted-pw-33') } }),
    ]);
    // The other: 406 (the last admin), or 409 when its sign-in (last_login) changed the record it was changing.
    expect([r2.status, r3.status].filter((x) => x === 200)).toHaveLength(1);
    expect([406, 409]).toContain(r2.status === 200 ? r3.status : r2.status);
    const admins = ((await req('GET', '/v1/users', { auth: r2.status === 200 ? as3 : as2 })).json as any[]).filter((u) => u.role === 'admin');
    expect(admins).toHaveLength(1);
    const survivor = r2.status === 200 ? as3 : as2;
    expect((await req('PUT', '/v1/users/1', { auth: survivor, body: { role_uids: [1] } })).status).toBe(200);
    for (const uid of [a2, a3]) expect((await req('DELETE', `/v1/users/${uid}`)).status).toBe(200);
  });

  it('deletes a user: it can no longer sign in, GET answers 404, and an event is logged', async () => {
    const uid = await createUser('gone@example.com', 'gone-password-1');
    const del = await req('DELETE', `/v1/users/${uid}`);
    expect(del.status).toBe(200);
    expectRsError(await req('GET', `/v1/users/${uid}`), 404, 'user_not_exist');
    expect((await req('GET', '/v1/cluster', { auth: { user: 'gone@example.com', pass: 'gone-password-1' } })).status).toBe(401);
    expectRsError(await req('DELETE', `/v1/users/${uid}`), 404, 'user_not_exist');
    expect(events('user_deleted').some((e) => e.user_uid === uid)).toBe(true);
  });
});

describe('/v1/users/password', () => {
  const u = { user: 'rot@example.com', pass: 'rot-password-1' };
  let uid: number;
  beforeAll(async () => {
    uid = await createUser(u.user, u.pass, { role_uids: [4] });
  });
  const canLogin = async (pass: string) => (await req('GET', '/v1/cluster', { auth: { user: u.user, pass } })).status === 200;

  it('POST adds a password: both work; DELETE removes one; the last one stays', async () => {
    expect((await req('POST', '/v1/users/password', { auth: u, body: { new_password: pw('rot-password-2') } })).status).toBe(200);
    expect(await canLogin('rot-password-1')).toBe(true);
    expect(await canLogin('rot-password-2')).toBe(true);
    expect((await record(uid))!.password_hashes).toHaveLength(2);
    expectRsError(await req('POST', '/v1/users/password', { auth: u, body: { new_password: 'rot-password-2' } }), 400, 'new_password_same_as_current');
    expectRsError(await req('DELETE', '/v1/users/password', { auth: u, body: { old_password: 'not-mine' } }), 400, 'invalid_param');
    expect((await req('DELETE', '/v1/users/password', { auth: u, body: { old_password: 'rot-password-1' } })).status).toBe(200);
    expect(await canLogin('rot-password-1')).toBe(false);
    expect(await canLogin('rot-password-2')).toBe(true);
    expectRsError(await req('DELETE', '/v1/users/password', { auth: { user: u.user, pass: 'rot-password-2' }, body: { old_password: 'rot-password-2' } }), 400, 'cannot_delete_last_password');
  });

  it('PUT replaces every password with one; an admin may do it for any user by username', async () => {
    await req('POST', '/v1/users/password', { body: { username: u.user, new_password: pw('rot-password-3') } });
    expect((await req('PUT', '/v1/users/password', { body: { username: u.user, new_password: pw('rot-password-4') } })).status).toBe(200);
    expect(await canLogin('rot-password-2')).toBe(false);
    expect(await canLogin('rot-password-3')).toBe(false);
    expect(await canLogin('rot-password-4')).toBe(true);
    expect((await record(uid))!.password_hashes).toHaveLength(1);
  });

  it('non-admins may change only their own passwords; unknown users → 404; bad bodies → 400', async () => {
    const me = { user: u.user, pass: 'rot-password-4' };
    expectRsError(await req('PUT', '/v1/users/password', { auth: me, body: { username: 'other@example.com', new_password: 'x-password-9' } }), 403, 'unauthorized_action');
    // Whether the account exists or not: the same answer to a non-admin.
    expectRsError(await req('PUT', '/v1/users/password', { auth: me, body: { username: 'ghost@example.com', new_password: 'x-password-9' } }), 403, 'unauthorized_action');
    expectRsError(await req('PUT', '/v1/users/password', { body: { username: 'nobody@example.com', new_password: 'x-password-9' } }), 404, 'user_not_exist');
    expectRsError(await req('PUT', '/v1/users/password', { body: { username: u.user } }), 400, 'invalid_schema');
    expectRsError(await req('POST', '/v1/users/password', { body: { new_password: 'x', password_hash_method: 1 } }), 400, 'unsupported_option');
    expectRsError(await req('PUT', '/v1/users/password', { body: { username: u.user, new_password: 'rot-password-4' } }), 400, 'new_password_same_as_current');
    expect((await req('PUT', '/v1/users/password', { auth: null, body: { new_password: 'x-password-9' } })).status).toBe(401);
    expect(events('user_updated').some((e) => e.user_uid === uid && e.password_change === 'added')).toBe(true);
  });
});

describe('password complexity', () => {
  afterAll(async () => {
    await req('PUT', '/v1/cluster', { body: { password_complexity: false, password_min_length: 8 } });
  });

  it('applies to new users and to every password change while password_complexity is on', async () => {
    expect((await req('PUT', '/v1/cluster', { body: { password_complexity: true, password_min_length: 12 } })).status).toBe(200);
    const weak = ['Sh0rt!pass', 'alllowercase1!x', 'ALLUPPERCASE1!X', 'NoDigitsHere!!x', 'NoSpecials123xy', 'Paaaass1!word'];
    for (const p of weak) expectRsError(await req('POST', '/v1/users', { body: { email: 'cx@example.com', password: p } }), 400, 'password_not_complex');
    // Neither the email nor its reverse.
    expectRsError(await req('POST', '/v1/users', { body: { email: 'cx@example.com', password: 'Xcx@example.com1' } }), 400, 'password_not_complex');
    expectRsError(await req('POST', '/v1/users', { body: { email: 'cx@example.com', password: 'X' + [...'cx@example.com'].reverse().join('') + '1' } }), 400, 'password_not_complex');
    const uid = await createUser('cx@example.com', 'Str0ng!Passw0rd');
    expectRsError(await req('PUT', `/v1/users/${uid}`, { body: { password: 'weak' } }), 400, 'password_not_complex');
    expectRsError(await req('POST', '/v1/users/password', { body: { username: 'cx@example.com', new_password: 'weakweakweak' } }), 400, 'password_not_complex');
    expect((await req('POST', '/v1/users/password', { body: { username: 'cx@example.com', new_password: pw('An0ther!Passw0rd') } })).status).toBe(200);
  });
});

describe('login lockout', () => {
  const setPolicy = (p: Record<string, number>) => req('PUT', '/v1/cluster/policy', { body: p });
  afterAll(async () => {
    await setPolicy({ login_lockout_threshold: 5, login_lockout_duration: 1800, login_lockout_counter_reset_after: 900 });
  });

  it('locks after login_lockout_threshold failures and unlocks by itself after login_lockout_duration', async () => {
    await setPolicy({ login_lockout_threshold: 3, login_lockout_duration: 2, login_lockout_counter_reset_after: 900 });
    const u = { user: 'lock@example.com', pass: 'lock-password-1' };
    const uid = await createUser(u.user, u.pass);
    for (let i = 0; i < 3; i++) expectRsError(await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } }), 401, 'unauthorized');
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('locked');
    const locked = await req('GET', '/v1/cluster', { auth: u });
    expectRsError(locked, 401, 'unauthorized');
    expect(locked.json.description).toMatch(/locked/);
    // While locked, a wrong password gets the very same answer as the right one: the answer tells a guesser nothing
    // about the password (before, only the right one was told about the lock), and no guess is checked.
    const wrong = await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } });
    expect([wrong.status, wrong.json]).toEqual([locked.status, locked.json]);
    expect(events('user_locked').some((e) => e.user_uid === uid)).toBe(true);
    await waitFor(async () => (await req('GET', '/v1/cluster', { auth: u })).status === 200, { timeoutMs: 5000, intervalMs: 250 });
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('active');
    expect((await record(uid))!.failed_logins).toBeUndefined();
  });

  it('parallel guesses are checked one at a time: no more than login_lockout_threshold are ever checked', async () => {
    await setPolicy({ login_lockout_threshold: 3, login_lockout_duration: 1800, login_lockout_counter_reset_after: 900 });
    const u = { user: 'burst@example.com', pass: 'burst-password-1' };
    const uid = await createUser(u.user, u.pass);
    // Before, all 12 read the account unlocked and all were checked (QA: 30 of 30 with a threshold of 3).
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => req('GET', '/v1/cluster', { auth: { user: u.user, pass: `wrong-${i}` } })));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    const failed = events('user_login_failed').filter((e) => e.user_uid === uid);
    expect(failed.filter((e) => e.reason === 'invalid_password')).toHaveLength(3);
    expect(failed.filter((e) => e.reason === 'locked')).toHaveLength(9);
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('locked');
    expect((await req('GET', '/v1/cluster', { auth: u })).json.description).toMatch(/locked/);
  });

  it('with login_lockout_duration 0 only an admin password reset unlocks', async () => {
    await setPolicy({ login_lockout_threshold: 2, login_lockout_duration: 0 });
    const u = { user: 'lock0@example.com', pass: 'lock0-password-1' };
    const uid = await createUser(u.user, u.pass);
    for (let i = 0; i < 2; i++) await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } });
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(401);
    expect((await req('GET', '/v1/users')).json.find((x: any) => x.uid === uid).status).toBe('locked');
    expect((await req('PUT', `/v1/users/${uid}`, { body: { password: pw('lock0-password-2') } })).status).toBe(200);
    expect((await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'lock0-password-2' } })).status).toBe(200);
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('active');
    expect(events('user_unlocked').some((e) => e.user_uid === uid)).toBe(true);
  });

  it('the failure count restarts after login_lockout_counter_reset_after; a threshold of 0 turns lockout off', async () => {
    await setPolicy({ login_lockout_threshold: 2, login_lockout_duration: 1800, login_lockout_counter_reset_after: 1 });
    const u = { user: 'reset@example.com', pass: 'reset-password-1' };
    const uid = await createUser(u.user, u.pass);
    await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } });
    await new Promise((r) => setTimeout(r, 1200));
    await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } });
    expect((await record(uid))!.failed_logins).toBe(1);
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
    await setPolicy({ login_lockout_threshold: 0 });
    for (let i = 0; i < 4; i++) await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'wrong' } });
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
  });
});

describe('password expiration', () => {
  afterAll(async () => {
    await req('PUT', '/v1/cluster', { body: { password_expiration_duration: 0 } });
  });

  it('an expired password gets 401 password_expired, except to replace it with PUT /v1/users/password', async () => {
    const u = { user: 'old@example.com', pass: 'old-password-1' };
    const uid = await createUser(u.user, u.pass, { role_uids: [4] });
    const rec = (await t.node.composed.kv.get<UserRecord>(`/users/${uid}`))!;
    await t.node.composed.kv.put(`/users/${uid}`, { ...rec.value, password_issue_date: '2020-01-01T00:00:00Z' });
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
    await req('PUT', '/v1/cluster', { body: { password_expiration_duration: 30 } });
    const r = await req('GET', '/v1/cluster', { auth: u });
    expectRsError(r, 401, 'password_expired');
    expect(r.json.description).toMatch(/expired/);
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('password_expired');
    // The expired password still allows replacing it, and nothing else.
    expectRsError(await req('POST', '/v1/users/password', { auth: u, body: { new_password: 'x-password-1' } }), 401, 'password_expired');
    expect((await req('PUT', '/v1/users/password', { auth: u, body: { new_password: pw('old-password-2') } })).status).toBe(200);
    expect((await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'old-password-2' } })).status).toBe(200);
    expect((await req('GET', `/v1/users/${uid}`)).json.status).toBe('active');
  });
});

describe('PATCH /v1/cluster/change_password_hashing_algorithm', () => {
  it('switches new hashes to PBKDF2 and converts stored ones at the next login', async () => {
    expect((await req('GET', '/v1/cluster')).json.password_hashing_algorithm).toBe('SHA-256');
    const u = { user: 'algo@example.com', pass: 'algo-password-1' };
    const uid = await createUser(u.user, u.pass);
    expect((await record(uid))!.password_hashes[0]).toMatch(/^scrypt\$/);
    expect((await req('PATCH', '/v1/cluster/change_password_hashing_algorithm', { body: { algorithm: 'PBKDF2' } })).status).toBe(200);
    expect((await req('GET', '/v1/cluster')).json.password_hashing_algorithm).toBe('PBKDF2');
    expectRsError(await req('PATCH', '/v1/cluster/change_password_hashing_algorithm', { body: { algorithm: 'PBKDF2' } }), 400, 'password_hashing_algorithm_already_set');
    expectRsError(await req('PATCH', '/v1/cluster/change_password_hashing_algorithm', { body: { algorithm: 'MD5' } }), 400, 'invalid_schema');
    expectRsError(await req('PUT', '/v1/cluster', { body: { password_hashing_algorithm: 'SHA-256' } }), 400, 'read_only_field');

    const fresh = await createUser('algo2@example.com', 'algo2-password-1');
    expect((await record(fresh))!.password_hashes[0]).toMatch(/^pbkdf2-sha256\$600000\$/);
    expect((await req('GET', '/v1/cluster', { auth: { user: 'algo2@example.com', pass: 'algo2-password-1' } })).status).toBe(200);
    // The old user's scrypt hash is replaced by a PBKDF2 one once they log in, and still works.
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
    expect((await record(uid))!.password_hashes[0]).toMatch(/^pbkdf2-sha256\$/);
    expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
    expect((await req('PATCH', '/v1/cluster/change_password_hashing_algorithm', { body: { algorithm: 'SHA-256' } })).status).toBe(200);
    expect(events('cluster_updated').some((e) => e.password_hashing_algorithm === 'PBKDF2')).toBe(true);
  });

  it('needs update_cluster', async () => {
    await createUser('cm@example.com', 'cm-password-1', { role_uids: [2] });
    expectRsError(await req('PATCH', '/v1/cluster/change_password_hashing_algorithm', { auth: { user: 'cm@example.com', pass: 'cm-password-1' }, body: { algorithm: 'PBKDF2' } }), 403, 'insufficient_permissions');
  });
});

describe('login events', () => {
  it('a successful login is logged once per verification window, failures every time, unknown logins too', async () => {
    const u = { user: 'ev@example.com', pass: 'ev-password-1' };
    const uid = await createUser(u.user, u.pass, { role_uids: [3] });
    for (let i = 0; i < 5; i++) expect((await req('GET', '/v1/cluster', { auth: u })).status).toBe(200);
    expect(events('user_login_succeeded').filter((e) => e.user_uid === uid)).toHaveLength(1);
    for (let i = 0; i < 2; i++) await req('GET', '/v1/cluster', { auth: { user: u.user, pass: 'bad' } });
    expect(events('user_login_failed').filter((e) => e.user_uid === uid)).toHaveLength(2);
    await req('GET', '/v1/cluster', { auth: { user: 'ghost@example.com', pass: 'bad' } });
    expect(events('user_login_failed').some((e) => e.login === 'ghost@example.com' && e.reason === 'unknown_user')).toBe(true);
    expect((await record(uid))!.last_login).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});

describe('secrets', () => {
  it('no response body and no event carries a password or a hash', async () => {
    const texts = [...seen, ...events().map((e) => JSON.stringify(e))];
    expect(texts.length).toBeGreaterThan(100);
    for (const text of texts) {
      expect(text).not.toMatch(/scrypt\$|pbkdf2-sha256\$|password_hashes/);
      for (const p of PASSWORDS) expect(text.includes(p), `${p} in ${text.slice(0, 200)}`).toBe(false);
    }
  });
});

describe('logs', () => {
  it('no log line at debug level carries a password or a hash', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const logger = pino({ level: 'debug', redact: { paths: REDACT, censor: '[redacted]' } }, sink);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-logs-'));
    const admin = { user: 'logs-admin@example.com', pass: 'logs-admin-secret-1' };
    const config = loadConfig({
      OPENRS_DATA_DIR: dataDir, OPENRS_API_ADDR: '127.0.0.1', OPENRS_API_PORT: '0', OPENRS_LOG_LEVEL: 'debug',
      OPENRS_ADMIN_USER: admin.user, OPENRS_ADMIN_PASSWORD: admin.pass, OPENRS_CLUSTER_NAME: 'logs.test.local',
    }, []);
    const node = await startNode(config, logger, { print: () => undefined });
    try {
      const r = (method: string, p: string, body?: unknown, auth: { user: string; pass: string } = admin) => request(node.port, method, p, { body, auth });
      const secrets = ['logs-user-secret-1', 'logs-user-secret-2', 'logs-user-secret-3', 'logs-wrong-secret'];
      const uid = (await r('POST', '/v1/users', { email: 'logs@example.com', password: secrets[0] })).json.uid;
      await r('GET', '/v1/cluster', undefined, { user: 'logs@example.com', pass: secrets[3]! });
      await r('GET', '/v1/cluster', undefined, { user: 'nobody@example.com', pass: secrets[3]! });
      await r('PUT', `/v1/users/${uid}`, { password: secrets[1] });
      await r('POST', '/v1/users/password', { username: 'logs@example.com', new_password: secrets[2] });
      await r('DELETE', '/v1/users/password', { username: 'logs@example.com', old_password: secrets[1] });
      await r('POST', '/v1/users', { email: 'weak@example.com', password: secrets[0], password_hash_method: 1 });
      await r('PATCH', '/v1/cluster/change_password_hashing_algorithm', { algorithm: 'PBKDF2' });
      await r('GET', '/v1/cluster', undefined, { user: 'logs@example.com', pass: secrets[2]! });
      await r('POST', '/v1/redis_acls/validate', { acl: `>${secrets[3]}` });
      expect(lines.length).toBeGreaterThan(10);
      const all = lines.join('');
      expect(all).toContain('authentication failed');
      for (const p of [admin.pass, ...secrets]) expect(all.includes(p), p).toBe(false);
      expect(all).not.toMatch(/scrypt\$|pbkdf2-sha256\$|password_hashes/);
    } finally {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
