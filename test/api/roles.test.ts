/** Roles (requests/roles/_index.md, objects/role.md) through real HTTPS on a real node. */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resp } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const events = (type: string) => t.node.composed.events.query({}).filter((e) => e.type === type);
async function user(email: string, role_uids: number[]) {
  const r = await t.req('POST', '/v1/users', { body: { email, password: `${email}-pw`, role_uids } });
  expect(r.status, r.text).toBe(200);
  return { uid: r.json.uid as number, auth: { user: email, pass: `${email}-pw` } };
}

describe('predefined roles', () => {
  it('exist after bootstrap with RS names, uids and management roles', async () => {
    const r = await t.req('GET', '/v1/roles');
    expect(r.status).toBe(200);
    expect(r.json).toEqual([
      { uid: 1, name: 'Admin', management: 'admin' },
      { uid: 2, name: 'Cluster Member', management: 'cluster_member' },
      { uid: 3, name: 'Cluster Viewer', management: 'cluster_viewer' },
      { uid: 4, name: 'DB Member', management: 'db_member' },
      { uid: 5, name: 'DB Viewer', management: 'db_viewer' },
      { uid: 6, name: 'None', management: 'none' },
      { uid: 7, name: 'User Manager', management: 'user_manager' },
    ]);
    expect((await t.req('GET', '/v1/roles/4')).json).toEqual({ uid: 4, name: 'DB Member', management: 'db_member' });
  });

  it('cannot be changed or deleted', async () => {
    expectRsError(await t.req('PUT', '/v1/roles/1', { body: { management: 'db_viewer' } }), 409, 'read_only_object');
    expectRsError(await t.req('DELETE', '/v1/roles/4'), 409, 'read_only_object');
  });

  it('are described by GET /v1/jsonschema?object=role', async () => {
    const schema = (await t.req('GET', '/v1/jsonschema?object=role')).json;
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const r of (await t.req('GET', '/v1/roles')).json) expect(validate(r), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('POST /v1/roles', () => {
  it('creates a role, with db resources for db_member / db_viewer', async () => {
    const r = await t.req('POST', '/v1/roles', { body: { name: 'DBA', management: 'admin' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ uid: 8, name: 'DBA', management: 'admin' });
    const scoped = await t.req('POST', '/v1/roles', { body: { name: 'team-a-dbs', management: 'db_member', resources: [{ type: 'db', uids: ['1', '2'] }] } });
    expect(scoped.json).toMatchObject({ name: 'team-a-dbs', resources: [{ type: 'db', uids: ['1', '2'] }] });
    expect((await t.req('GET', `/v1/roles/${scoped.json.uid}`)).json).toEqual(scoped.json);
    expect(events('role_created').map((e) => e.role_name)).toEqual(['DBA', 'team-a-dbs']);
  });

  it('refuses missing fields, duplicate names, bad values and resources on other roles', async () => {
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'NoMgmt' } }), 400, 'missing_field');
    expectRsError(await t.req('POST', '/v1/roles', { body: { management: 'none' } }), 400, 'missing_field');
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'dba', management: 'none' } }), 400, 'name_already_exists');
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'X', management: 'superuser' } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'bad<name>', management: 'none' } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'Scoped', management: 'cluster_member', resources: [{ type: 'db', uids: ['1'] }] } }), 400, 'invalid_param');
    expectRsError(await t.req('POST', '/v1/roles', { body: { name: 'Scoped', management: 'db_viewer', resources: [{ type: 'node', uids: ['1'] }] } }), 400, 'invalid_schema');
  });

  it('dry_run validates without creating; a given uid is used', async () => {
    const dry = await t.req('POST', '/v1/roles?dry_run=1', { body: { name: 'Dry', management: 'none' } });
    expect(dry.status).toBe(200);
    expect((await t.req('GET', '/v1/roles')).json.map((r: any) => r.name)).not.toContain('Dry');
    const r = await t.req('POST', '/v1/roles', { body: { uid: 17, name: 'Seventeen', management: 'db_viewer' } });
    expect(r.json.uid).toBe(17);
    expectRsError(await t.req('POST', '/v1/roles', { body: { uid: 17, name: 'Again', management: 'db_viewer' } }), 409, 'uid_already_exists');
  });
});

describe('PUT /v1/roles/{uid}', () => {
  it("changing management changes what the role's users may do, at once", async () => {
    const role = (await t.req('POST', '/v1/roles', { body: { name: 'Support', management: 'db_viewer' } })).json;
    const u = await user('support@example.com', [role.uid]);
    expect((await t.req('GET', '/v1/nodes', { auth: u.auth })).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster', { auth: u.auth, body: { email_alerts: false } })).status).toBe(403);
    const r = await t.req('PUT', `/v1/roles/${role.uid}`, { body: { management: 'admin' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ uid: role.uid, name: 'Support', management: 'admin' });
    expect((await t.req('GET', `/v1/users/${u.uid}`)).json.role).toBe('admin');
    expect((await t.req('PUT', '/v1/cluster', { auth: u.auth, body: { email_alerts: false } })).status).toBe(200);
    expect(events('role_updated').some((e) => e.role_uid === role.uid)).toBe(true);
  });

  it('refuses a change that would leave no admin', async () => {
    const boss = (await t.req('POST', '/v1/roles', { body: { name: 'Boss', management: 'admin' } })).json;
    // Make every admin hold its admin role through Boss only.
    const admins = (await t.req('GET', '/v1/users')).json.filter((u: any) => u.role === 'admin');
    for (const a of admins) expect((await t.req('PUT', `/v1/users/${a.uid}`, { body: { role_uids: [boss.uid] } })).status).toBe(200);
    expectRsError(await t.req('PUT', `/v1/roles/${boss.uid}`, { body: { management: 'cluster_member' } }), 406, 'change_last_admin_role_not_allowed');
    expect((await t.req('GET', `/v1/roles/${boss.uid}`)).json.management).toBe('admin');
    for (const a of admins) expect((await t.req('PUT', `/v1/users/${a.uid}`, { body: { role_uids: [1] } })).status).toBe(200);
  });

  it('404 for unknown roles; duplicate names; uid mismatch', async () => {
    expectRsError(await t.req('PUT', '/v1/roles/999', { body: { name: 'x' } }), 404, 'role_not_exist');
    expectRsError(await t.req('GET', '/v1/roles/999'), 404, 'role_not_exist');
    expectRsError(await t.req('PUT', '/v1/roles/8', { body: { name: 'Support' } }), 400, 'name_already_exists');
    expectRsError(await t.req('PUT', '/v1/roles/8', { body: { uid: 9 } }), 400, 'invalid_param');
  });
});

describe('DELETE /v1/roles/{uid}', () => {
  it('refuses roles in use by users, LDAP mappings or databases', async () => {
    const role = (await t.req('POST', '/v1/roles', { body: { name: 'InUse', management: 'db_viewer' } })).json;
    const u = await user('inuse@example.com', [role.uid]);
    const r = await t.req('DELETE', `/v1/roles/${role.uid}`);
    expectRsError(r, 406, 'role_in_use');
    expect(r.json.description).toContain(`users ${u.uid}`);
    await t.req('DELETE', `/v1/users/${u.uid}`);

    const kv = t.node.composed.kv;
    await kv.put('/ldap_mappings/40', { uid: 40, name: 'ops', dn: 'cn=ops,dc=example,dc=com', role_uids: [role.uid] });
    expectRsError(await t.req('DELETE', `/v1/roles/${role.uid}`), 406, 'role_in_use');
    await kv.delete('/ldap_mappings/40');

    await kv.put('/bdbs/7', { uid: 7, name: 'db7', roles_permissions: [{ role_uid: role.uid, redis_acl_uid: 3 }] });
    const b = await t.req('DELETE', `/v1/roles/${role.uid}`);
    expectRsError(b, 406, 'role_in_use');
    expect(b.json.description).toContain('databases 7');
    await kv.delete('/bdbs/7');

    expect((await t.req('DELETE', `/v1/roles/${role.uid}?dry_run=1`)).status).toBe(200);
    expect((await t.req('GET', `/v1/roles/${role.uid}`)).status).toBe(200);
    expect((await t.req('DELETE', `/v1/roles/${role.uid}`)).status).toBe(200);
    expectRsError(await t.req('GET', `/v1/roles/${role.uid}`), 404, 'role_not_exist');
    expect(events('role_deleted').some((e) => e.role_uid === role.uid)).toBe(true);
  });
});

describe('permissions', () => {
  it('every role but none reads roles; only admin and user_manager change them; a user_manager cannot touch admin roles', async () => {
    const viewer = await user('rv@example.com', [5]);
    expect((await t.req('GET', '/v1/roles', { auth: viewer.auth })).status).toBe(200);
    expect((await t.req('GET', '/v1/roles/1', { auth: viewer.auth })).status).toBe(200);
    expectRsError(await t.req('POST', '/v1/roles', { auth: viewer.auth, body: { name: 'V', management: 'none' } }), 403, 'insufficient_permissions');
    const um = await user('rum@example.com', [7]);
    expect((await t.req('POST', '/v1/roles', { auth: um.auth, body: { name: 'ByUm', management: 'cluster_viewer' } })).status).toBe(200);
    expectRsError(await t.req('POST', '/v1/roles', { auth: um.auth, body: { name: 'UmAdmin', management: 'admin' } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('PUT', '/v1/roles/8', { auth: um.auth, body: { name: 'DBA2' } }), 403, 'insufficient_permissions');
    const none = await user('rnone@example.com', [6]);
    expectRsError(await t.req('GET', '/v1/roles', { auth: none.auth }), 403, 'insufficient_permissions');
  });
});

describe('a cluster created before roles existed', () => {
  it('gets the predefined roles and ACLs at start, and its users the role_uids of their role', async () => {
    const old = await startTestNode();
    try {
      const kv = old.node.composed.kv;
      for (const e of [...(await kv.list('/roles/')), ...(await kv.list('/redis_acls/'))]) await kv.delete(e.key);
      await kv.delete('/counters/roles');
      await kv.delete('/counters/redis_acls');
      const admin = (await kv.get<any>('/users/1'))!.value;
      await kv.put('/users/1', { ...admin, role_uids: [] });
      await old.stop();
      const again = await startTestNode({ dataDir: old.dataDir });
      try {
        expect((await again.req('GET', '/v1/roles')).json.map((r: any) => r.name)).toContain('DB Member');
        expect((await again.req('GET', '/v1/redis_acls')).json.map((a: any) => a.name)).toContain('Not Dangerous');
        expect((await again.req('GET', '/v1/users/1')).json.role_uids).toEqual([1]);
      } finally {
        await again.close();
      }
    } finally {
      await old.close().catch(() => undefined);
    }
  });
});
