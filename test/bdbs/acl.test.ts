/**
 * Database users from roles_permissions, and default_user: users sign in to the endpoint with
 * their name and password and get exactly the role's Redis ACL, applied live from users, roles,
 * ACLs and the bdb. Checked through real clients and inside the shards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-record.js';
import { dbUsersFor } from '../../src/controller/db-users.js';
import { client, createBdb, postOk, shardsOf, waitStatus } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const post = (path: string, body: unknown) => postOk(t, path, body);

/** AUTH with name/password on the endpoint; resolves the error text, or 'OK'. */
async function auth(port: number, username: string, password: string): Promise<string> {
  const c = client(port);
  try {
    await c.connect();
    return String(await c.call('AUTH', username, password));
  } catch (e) {
    return (e as Error).message;
  } finally {
    c.disconnect();
  }
}

/** The ACL users of the database's master shard, as its ACL file has them (openrs runs ACL SAVE after each change). */
async function shardUsers(uid: number): Promise<string[]> {
  const master = (await shardsOf(t, uid)).find((s) => s.role === 'master')!;
  const text = fs.readFileSync(path.join(master.dir, 'users.acl'), 'utf8');
  return text.split('\n').filter((l) => l.startsWith('user ')).map((l) => l.split(' ')[1]!);
}

describe('roles_permissions', () => {
  it('a user with a role mapped to a read-only ACL can read but not write; ACL, password and user changes apply live', async () => {
    const acl = await post('/v1/redis_acls', { name: 'Reads', acl: '+@read ~*' });
    const role = await post('/v1/roles', { name: 'App Readers', management: 'none' });
    const user = await post('/v1/users', { email: 'reader@test.local', name: 'reader', password: 'reader-pass-1', role_uids: [role.uid] });
    const bdb = await createBdb(t, { name: 'db-acl', roles_permissions: [{ role_uid: role.uid, redis_acl_uid: acl.uid }] });
    const port = bdb.endpoints[0].port;

    const seed = client(port);
    await seed.connect();
    await seed.set('k', 'v');
    seed.disconnect();

    const c = client(port, { username: 'reader', password: 'reader-pass-1' });
    await c.connect();
    expect(await c.get('k')).toBe('v');
    await expect(c.set('k', 'w')).rejects.toThrow(/NOPERM/);
    expect(await auth(port, 'reader', 'wrong-password')).toMatch(/WRONGPASS/);
    // The login is the user's name, not its email.
    expect(await auth(port, 'reader@test.local', 'reader-pass-1')).toMatch(/WRONGPASS/);

    // The ACL becomes full access: the same connection may write, without reconnecting.
    expect((await t.req('PUT', `/v1/redis_acls/${acl.uid}`, { body: { acl: '+@all ~*' } })).status).toBe(200);
    await waitFor(async () => (await c.set('k', 'w').catch(() => 'denied')) === 'OK', { what: 'write allowed after the ACL change' });
    expect(await c.get('k')).toBe('w');

    // A second password (POST /v1/users/password) works too; the first keeps working.
    expect((await t.req('POST', '/v1/users/password', { body: { username: 'reader', new_password: 'reader-pass-2' } })).status).toBe(200);
    await waitFor(async () => (await auth(port, 'reader', 'reader-pass-2')) === 'OK', { what: 'second password' });
    expect(await auth(port, 'reader', 'reader-pass-1')).toBe('OK');

    // Deleting the user removes its ACL user: AUTH fails and its open connection is closed.
    expect((await t.req('DELETE', `/v1/users/${user.uid}`)).status).toBe(200);
    await waitFor(async () => /WRONGPASS/.test(await auth(port, 'reader', 'reader-pass-1')), { what: 'AUTH refused after delete' });
    await waitFor(async () => (await c.get('k').catch((e: Error) => e.message)) !== 'w', { what: 'connection of the deleted user closed' });
    c.disconnect();
    expect(await shardUsers(bdb.uid)).not.toContain('reader');
  });

  it('users gain and lose access with their roles; disabled_commands bind them too', async () => {
    const role = await post('/v1/roles', { name: 'App Writers', management: 'none' });
    const other = await post('/v1/roles', { name: 'Other Role', management: 'none' });
    const user = await post('/v1/users', { email: 'writer@test.local', name: 'writer', password: 'writer-pass-1', role_uids: [other.uid] });
    const bdb = await createBdb(t, { name: 'db-acl-roles', disabled_commands: 'flushdb', roles_permissions: [{ role_uid: role.uid, redis_acl_uid: 1 }] });
    const port = bdb.endpoints[0].port;
    expect(await auth(port, 'writer', 'writer-pass-1')).toMatch(/WRONGPASS/);

    // Given the mapped role: full access ("Full Access", uid 1), except the disabled command.
    expect((await t.req('PUT', `/v1/users/${user.uid}`, { body: { role_uids: [other.uid, role.uid] } })).status).toBe(200);
    await waitFor(async () => (await auth(port, 'writer', 'writer-pass-1')) === 'OK', { what: 'access after the role is granted' });
    const c = client(port, { username: 'writer', password: 'writer-pass-1' });
    await c.connect();
    expect(await c.set('x', '1')).toBe('OK');
    await expect(c.flushdb()).rejects.toThrow(/NOPERM/);
    c.disconnect();

    // The mapping is removed from the database: the ACL user goes away.
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { roles_permissions: [] } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => !(await shardUsers(bdb.uid)).includes('writer'), { what: 'ACL user removed' });
    expect(await auth(port, 'writer', 'writer-pass-1')).toMatch(/WRONGPASS/);
  });

  it('a user holding two mapped roles gets what either ACL allows', async () => {
    const keysA = await post('/v1/redis_acls', { name: 'Keys A', acl: '+@all ~a:*' });
    const keysB = await post('/v1/redis_acls', { name: 'Keys B', acl: '+get ~b:*' });
    const ra = await post('/v1/roles', { name: 'Role A', management: 'none' });
    const rb = await post('/v1/roles', { name: 'Role B', management: 'none' });
    await post('/v1/users', { email: 'both@test.local', name: 'both', password: 'both-pass-123', role_uids: [ra.uid, rb.uid] });
    const bdb = await createBdb(t, { name: 'db-acl-union', roles_permissions: [{ role_uid: ra.uid, redis_acl_uid: keysA.uid }, { role_uid: rb.uid, redis_acl_uid: keysB.uid }] });
    const c = client(bdb.endpoints[0].port, { username: 'both', password: 'both-pass-123' });
    await c.connect();
    expect(await c.set('a:1', 'x')).toBe('OK');
    expect(await c.get('b:1')).toBeNull();
    await expect(c.set('b:1', 'x')).rejects.toThrow(/NOPERM/);
    await expect(c.get('c:1')).rejects.toThrow(/NOPERM/);
    c.disconnect();
  });
});

describe('default_user', () => {
  it('default_user: false disables the default user (with or without a password); true brings it back', async () => {
    const bdb = await createBdb(t, { name: 'db-nodefault', authentication_redis_pass: 'default-pass' });
    const port = bdb.endpoints[0].port;
    const open = client(port, { password: 'default-pass' });
    await open.connect();
    expect(await open.ping()).toBe('PONG');

    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { default_user: false } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => /WRONGPASS|disabled/.test(await auth(port, 'default', 'default-pass')), { what: 'default user off' });
    const anon = client(port);
    await anon.connect();
    await expect(anon.get('x')).rejects.toThrow(/NOAUTH/);
    anon.disconnect();
    // Its open connection was closed as well.
    await expect(open.ping()).rejects.toThrow();
    open.disconnect();

    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { default_user: true } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => (await auth(port, 'default', 'default-pass')) === 'OK', { what: 'default user on again' });
  });
});

describe('mask_bdb_credentials', () => {
  it('a GET-then-PUT round trip of the masked object keeps the passwords; a new one still replaces them', async () => {
    const bdb = await createBdb(t, { name: 'db-masked', authentication_redis_pass: 'first-pass' });
    const port = bdb.endpoints[0].port;
    await post(`/v1/bdbs/${bdb.uid}/passwords`, { password: 'second-pass' });
    const admin = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.authentication_admin_pass;
    expect((await t.req('PUT', '/v1/cluster', { body: { mask_bdb_credentials: true } })).status).toBe(200);
    try {
      const shown = (await t.req('GET', `/v1/bdbs/${bdb.uid}?fields=authentication_redis_pass,authentication_admin_pass,maxclients`)).json;
      expect(shown).toEqual({ authentication_redis_pass: '********', authentication_admin_pass: '********', maxclients: 10000 });
      const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { ...shown, maxclients: 900 } });
      expect(r.status, r.text).toBe(200);
      await waitStatus(t, bdb.uid);
      expect(await auth(port, 'default', 'first-pass')).toBe('OK');
      expect(await auth(port, 'default', 'second-pass')).toBe('OK');
      expect(await auth(port, 'default', '********')).toMatch(/WRONGPASS/);
    } finally {
      expect((await t.req('PUT', '/v1/cluster', { body: { mask_bdb_credentials: false } })).status).toBe(200);
    }
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}?fields=authentication_redis_pass,authentication_admin_pass,maxclients`)).json)
      .toEqual({ authentication_redis_pass: 'first-pass', authentication_admin_pass: admin, maxclients: 900 });

    // A new password still replaces them all.
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { authentication_redis_pass: 'third-pass' } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => (await auth(port, 'default', 'third-pass')) === 'OK', { what: 'third-pass' });
    expect(await auth(port, 'default', 'first-pass')).toMatch(/WRONGPASS/);
  });
});

describe('dbUsersFor (which users a database gets)', () => {
  const user = (uid: number, name: string, over: Partial<UserRecord> = {}): UserRecord => ({
    uid, name, email: `${name}@x.test`, role: 'none', role_uids: [10], auth_method: 'regular', status: 'active', email_alerts: false,
    password_issue_date: '', password_hashes: ['scrypt$...'], db_password_sha256: ['a'.repeat(64)], ...over,
  });
  const input = (users: UserRecord[]) => ({ users, acls: [{ uid: 1, acl: '+@all ~*' }, { uid: 2, acl: '+@read ~*' }], reserved: ['default', 'openrs-admin'] });

  it('maps users by role; skips those without a database secret, other auth methods, bad or reserved names', () => {
    const plan = dbUsersFor({ roles_permissions: [{ role_uid: 10, redis_acl_uid: 2 }] }, input([
      user(1, 'ok'), user(2, 'no-secret', { db_password_sha256: undefined }), user(3, 'cert', { auth_method: 'certificate' }),
      user(4, 'has space'), user(5, 'default'), user(6, 'other-role', { role_uids: [11] }), user(7, 'ok', { email: 'dup@x.test' }),
    ]));
    expect([...plan.users.keys()]).toEqual(['ok']);
    expect(plan.users.get('ok')).toContain('+@read');
    expect(plan.skipped.map((s) => s.uid)).toEqual([2, 3, 4, 5, 7]);
    expect(dbUsersFor({}, input([user(1, 'ok')])).users.size).toBe(0);
  });
});
