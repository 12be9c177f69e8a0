/**
 * Database-scoped roles (objects/role.md `resources`, create-cluster-roles.md) through real HTTPS
 * on a real node with two real databases: a db_member / db_viewer role limited to database A sees
 * and changes A only, whatever route it takes; lists are filtered; unscoped roles see both.
 */
import { ok } from '../helpers/rs-error.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resp } from '../helpers/https-client.js';
import { createBdb, shardsOf } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
let a: number;
let b: number;
let scopedRole: number;
const member = { user: 'scoped-member@test.local', pass: 'Scoped-member-1' };
const viewer = { user: 'scoped-viewer@test.local', pass: 'Scoped-viewer-1' };
const wide = { user: 'wide-member@test.local', pass: 'Wide-member-1' };

const expect403 = (r: Resp) => {
  expect({ status: r.status, code: r.json?.error_code }, r.text).toEqual({ status: 403, code: 'insufficient_permissions' });
};
beforeAll(async () => {
  t = await startTestNode();
  a = (await createBdb(t, { name: 'scope-a', authentication_redis_pass: 'Scope-a-pass' })).uid;
  b = (await createBdb(t, { name: 'scope-b' })).uid;
  scopedRole = (await ok(t.req('POST', '/v1/roles', { body: { name: 'team-a', management: 'db_member', resources: [{ type: 'db', uids: [String(a)] }] } }))).uid;
  const viewRole = (await ok(t.req('POST', '/v1/roles', { body: { name: 'team-a-view', management: 'db_viewer', resources: [{ type: 'db', uids: [String(a)] }] } }))).uid;
  await ok(t.req('POST', '/v1/users', { body: { email: member.user, password: member.pass, role_uids: [scopedRole] } }));
  await ok(t.req('POST', '/v1/users', { body: { email: viewer.user, password: viewer.pass, role_uids: [viewRole] } }));
  await ok(t.req('POST', '/v1/users', { body: { email: wide.user, password: wide.pass, role: 'db_member' } }));
}, 90_000);
afterAll(async () => {
  await t?.close();
});

describe('a role limited to database A', () => {
  it('lists only A (also with fields=), and reads A but not B', async () => {
    for (const auth of [member, viewer]) {
      expect((await ok(t.req('GET', '/v1/bdbs', { auth }))).map((x: any) => x.uid)).toEqual([a]);
      expect(await ok(t.req('GET', '/v1/bdbs?fields=name', { auth }))).toEqual([{ name: 'scope-a' }]);
      expect((await ok(t.req('GET', `/v1/bdbs/${a}`, { auth }))).name).toBe('scope-a');
      expect403(await t.req('GET', `/v1/bdbs/${b}`, { auth }));
      expect403(await t.req('GET', `/v1/bdbs/${b}/shards`, { auth }));
      expect403(await t.req('GET', `/v1/actions/bdb/${b}`, { auth }));
      expect403(await t.req('GET', '/v1/bdbs/nonsense', { auth }));
      expect(await ok(t.req('GET', `/v1/bdbs/${a}/shards`, { auth }))).toHaveLength(1);
      expect(Array.isArray(await ok(t.req('GET', `/v1/actions/bdb/${a}`, { auth })))).toBe(true);
    }
  });

  it('shows the database password only to roles with view_redis_pass (permissions.md)', async () => {
    // db_viewer lacks view_redis_pass; db_member has it.
    expect((await ok(t.req('GET', `/v1/bdbs/${a}`, { auth: viewer }))).authentication_redis_pass).toBe('********');
    expect(await ok(t.req('GET', '/v1/bdbs?fields=authentication_redis_pass', { auth: viewer }))).toEqual([{ authentication_redis_pass: '********' }]);
    expect((await ok(t.req('GET', `/v1/bdbs/${a}`, { auth: member }))).authentication_redis_pass).toBe('Scope-a-pass');
    expect((await ok(t.req('GET', `/v1/bdbs/${a}?fields=authentication_redis_pass`))).authentication_redis_pass).toBe('Scope-a-pass');
  });

  it('changes A but not B; cannot create databases', async () => {
    expect((await ok(t.req('PUT', `/v1/bdbs/${a}?dry_run=1`, { auth: member, body: { memory_size: 200 * 1024 * 1024 } }))).uid).toBe(a);
    expect403(await t.req('PUT', `/v1/bdbs/${b}?dry_run=1`, { auth: member, body: { memory_size: 200 * 1024 * 1024 } }));
    expect403(await t.req('DELETE', `/v1/bdbs/${b}`, { auth: member }));
    expect403(await t.req('POST', `/v1/bdbs/${b}/actions/stop_traffic`, { auth: member }));
    expect403(await t.req('POST', `/v1/bdbs/${b}/command`, { auth: member, body: { command: 'PING' } }));
    expect((await ok(t.req('POST', `/v1/bdbs/${a}/command`, { auth: member, body: { command: 'PING' } }))).response).toBe(true);
    expect403(await t.req('POST', '/v1/bdbs?dry_run=1', { auth: member, body: { name: 'scope-c', memory_size: 100 * 1024 * 1024 } }));
    // The viewer's own permission still applies first.
    expect403(await t.req('PUT', `/v1/bdbs/${a}?dry_run=1`, { auth: viewer, body: { memory_size: 200 * 1024 * 1024 } }));
  });

  it('sees only A in shard and action lists, and only A\'s shards one by one', async () => {
    const [shardA] = await shardsOf(t, a);
    const [shardB] = await shardsOf(t, b);
    expect((await ok(t.req('GET', '/v1/shards', { auth: member }))).map((s: any) => Number(s.bdb_uid))).toEqual([a]);
    expect((await ok(t.req('GET', `/v1/shards/${shardA!.uid}`, { auth: member }))).uid).toBeDefined();
    expect403(await t.req('GET', `/v1/shards/${shardB!.uid}`, { auth: member }));
    expect403(await t.req('POST', `/v1/shards/${shardB!.uid}/actions/failover`, { auth: member }));
    expect403(await t.req('POST', '/v1/shards/actions/failover', { auth: member, body: { shard_uids: [String(shardA!.uid)] } }));

    const v2 = await ok(t.req('GET', '/v2/actions', { auth: member }));
    expect(v2.map((x: any) => x.object_name)).toContain(`bdb:${a}`);
    expect(v2.map((x: any) => x.object_name)).not.toContain(`bdb:${b}`);
    const v1 = await ok(t.req('GET', '/v1/actions', { auth: member }));
    expect(v1['state-machines'].map((x: any) => x.object_name)).not.toContain(`bdb:${b}`);
    const actionB = (await ok(t.req('GET', '/v2/actions'))).find((x: any) => x.object_name === `bdb:${b}`);
    expect403(await t.req('GET', `/v2/actions/${actionB.action_uid}`, { auth: member }));
  });

  it('sees the metrics of A only (stats lists and maps keyed by uid)', async () => {
    const all = await t.req('GET', '/v1/bdbs/stats/last');
    if (all.status !== 200) return; // stats not collected on this node
    expect(Object.keys(all.json).sort()).toEqual([String(a), String(b)].sort());
    expect(Object.keys(await ok(t.req('GET', '/v1/bdbs/stats/last', { auth: member })))).toEqual([String(a)]);
    expect((await ok(t.req('GET', '/v1/bdbs/stats', { auth: member }))).map((x: any) => String(x.uid))).toEqual([String(a)]);
    expect403(await t.req('GET', `/v1/bdbs/stats/last/${b}`, { auth: member }));
  });

  it('sees the events of A only in the event log, with full pages (create-cluster-roles.md: "event logs")', async () => {
    const bdbOf = (e: any) => (e.bdb_uid === undefined ? undefined : Number(e.bdb_uid));
    const all = await ok(t.req('GET', '/v1/logs'));
    expect(all.some((e: any) => bdbOf(e) === b)).toBe(true);
    const mine = await ok(t.req('GET', '/v1/logs', { auth: member }));
    expect(mine.some((e: any) => bdbOf(e) === a)).toBe(true);
    expect(mine.filter((e: any) => bdbOf(e) === b)).toEqual([]);
    // Events that name no database stay; limit/offset page the events the caller may see.
    expect(mine.some((e: any) => e.type === 'user_created' && e.user_email === member.user)).toBe(true);
    expect(await ok(t.req('GET', '/v1/logs?offset=1&limit=2', { auth: member }))).toEqual(mine.slice(1, 3));
  });

  it('works the same with a JWT', async () => {
    const token = (await ok(t.req('POST', '/v1/users/authorize', { auth: member }))).access_token;
    const jwt = { auth: null, headers: { authorization: `JWT ${token}` } };
    expect((await ok(t.req('GET', '/v1/bdbs', jwt))).map((x: any) => x.uid)).toEqual([a]);
    expect403(await t.req('GET', `/v1/bdbs/${b}`, jwt));
  });
});

describe('unscoped roles and scope changes', () => {
  it('an unscoped db_member and the admin see both databases', async () => {
    expect((await ok(t.req('GET', '/v1/bdbs', { auth: wide }))).map((x: any) => x.uid)).toEqual([a, b]);
    expect((await ok(t.req('GET', `/v1/bdbs/${b}`, { auth: wide }))).uid).toBe(b);
    expect((await ok(t.req('GET', '/v1/bdbs'))).map((x: any) => x.uid)).toEqual([a, b]);
  });

  it('a change of the role\'s resources applies at the next request', async () => {
    await ok(t.req('PUT', `/v1/roles/${scopedRole}`, { body: { resources: [{ type: 'db', uids: [String(b)] }] } }));
    expect((await ok(t.req('GET', '/v1/bdbs', { auth: member }))).map((x: any) => x.uid)).toEqual([b]);
    expect403(await t.req('GET', `/v1/bdbs/${a}`, { auth: member }));
    await ok(t.req('PUT', `/v1/roles/${scopedRole}`, { body: { resources: [] } }));
    expect((await ok(t.req('GET', '/v1/bdbs', { auth: member }))).map((x: any) => x.uid)).toEqual([a, b]);
    expect((await ok(t.req('GET', `/v1/bdbs/${a}`, { auth: member }))).uid).toBe(a);
  });
});
