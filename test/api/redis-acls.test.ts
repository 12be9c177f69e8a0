/** Redis ACLs (requests/redis_acls/_index.md, objects/redis_acl.md) through real HTTPS on a real node. */
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

describe('predefined Redis ACLs', () => {
  it('Full Access, Read Only and Not Dangerous exist after bootstrap', async () => {
    const r = await t.req('GET', '/v1/redis_acls');
    expect(r.status).toBe(200);
    expect(r.json).toEqual([
      { uid: 1, name: 'Full Access', acl: '+@all ~* &*' },
      { uid: 2, name: 'Read Only', acl: '+@read ~*' },
      { uid: 3, name: 'Not Dangerous', acl: '+@all -@dangerous ~*' },
    ]);
    expect((await t.req('GET', '/v1/redis_acls/3?fields=name')).json).toEqual({ name: 'Not Dangerous' });
  });

  it('Full Access is read-only; the others can be edited', async () => {
    expectRsError(await t.req('PUT', '/v1/redis_acls/1', { body: { acl: '+@read ~*' } }), 409, 'read_only_object');
    expectRsError(await t.req('DELETE', '/v1/redis_acls/1'), 409, 'read_only_object');
    const r = await t.req('PUT', '/v1/redis_acls/2', { body: { acl: '+@read ~* -keys' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ uid: 2, name: 'Read Only', acl: '+@read ~* -keys' });
  });
});

describe('create, update, delete', () => {
  it('creates, reads, updates and deletes an ACL, with events', async () => {
    const c = await t.req('POST', '/v1/redis_acls', { body: { name: 'Geo', acl: '~* +@geo' } });
    expect(c.status, c.text).toBe(200);
    expect(c.json).toEqual({ uid: 4, name: 'Geo', acl: '~* +@geo' });
    const u = await t.req('PUT', `/v1/redis_acls/${c.json.uid}`, { body: { acl: '~* +@geo -@dangerous' } });
    expect(u.json.acl).toBe('~* +@geo -@dangerous');
    expect((await t.req('GET', `/v1/redis_acls/${c.json.uid}`)).json).toEqual(u.json);
    expect((await t.req('DELETE', `/v1/redis_acls/${c.json.uid}`)).status).toBe(200);
    expectRsError(await t.req('GET', `/v1/redis_acls/${c.json.uid}`), 404, 'redis_acl_not_exist');
    for (const type of ['redis_acl_created', 'redis_acl_updated', 'redis_acl_deleted']) {
      expect(events(type).some((e) => e.redis_acl_uid === c.json.uid), type).toBe(true);
    }
  });

  it('accepts the documented examples (module commands, key permissions, channels, selectors)', async () => {
    for (const acl of ['+@read +FT.INFO +FT.SEARCH', '~app1* %R~app2*', 'resetchannels &channel1 &channel2', '+GET ~key1 (+SET ~key2)', '+@all -@dangerous ~*']) {
      const r = await t.req('POST', '/v1/redis_acls/validate', { body: { acl } });
      expect(r.status, `${acl}: ${r.text}`).toBe(200);
    }
  });

  it('refuses what ACL SETUSER refuses, and what Redis Software does not support, with 400 invalid_param', async () => {
    const bad: [string, RegExp][] = [
      ['+nosuchcommand ~*', /Unknown command/],
      ['+@nosuchcategory', /Unknown command or category/],
      ['allkeys ~foo', /Adding a pattern after the \*/],
      ['(+get ~x', /Unmatched parenthesis/],
      ['+select|', /Syntax error/],
      ['whatever', /Syntax error/],
      ['on >secret ~* +@all', /Password rules are not supported/],
      ['~key(1)', /may not contain/],
      ['+GET ~key1 (+SET (+SET ~key2) ~key3)', /Nested selectors/],
      ['   ', /at least one rule/],
    ];
    for (const [acl, msg] of bad) {
      const r = await t.req('POST', '/v1/redis_acls', { body: { name: 'Bad', acl } });
      expectRsError(r, 400, 'invalid_param');
      expect(r.json.description, acl).toMatch(msg);
    }
    expect((await t.req('GET', '/v1/redis_acls')).json.map((a: any) => a.name)).not.toContain('Bad');
    // A refused password rule is not echoed back.
    expect((await t.req('POST', '/v1/redis_acls/validate', { body: { acl: '~* >hunter2' } })).text).not.toContain('hunter2');
    expectRsError(await t.req('PUT', '/v1/redis_acls/3', { body: { acl: '+nosuch' } }), 400, 'invalid_param');
  });

  it('missing fields, duplicate names, unknown ACLs, dry_run', async () => {
    expectRsError(await t.req('POST', '/v1/redis_acls', { body: { name: 'NoAcl' } }), 400, 'missing_field');
    expectRsError(await t.req('POST', '/v1/redis_acls', { body: { acl: '+@read' } }), 400, 'missing_field');
    expectRsError(await t.req('POST', '/v1/redis_acls', { body: { name: 'read only', acl: '+@read' } }), 400, 'name_already_exists');
    expectRsError(await t.req('PUT', '/v1/redis_acls/3', { body: { name: 'READ ONLY' } }), 400, 'name_already_exists');
    expectRsError(await t.req('PUT', '/v1/redis_acls/99', { body: { acl: '+@read' } }), 404, 'redis_acl_not_exist');
    expectRsError(await t.req('POST', '/v1/redis_acls', { body: { name: 'X', acl: '+@read', min_version: '7.2' } }), 400, 'invalid_schema');
    expect((await t.req('POST', '/v1/redis_acls?dry_run=1', { body: { name: 'Dry', acl: '+@read ~*' } })).status).toBe(200);
    expect((await t.req('GET', '/v1/redis_acls')).json.map((a: any) => a.name)).not.toContain('Dry');
  });

  it('follows the cluster pub/sub default: with allchannels, a channel needs resetchannels first', async () => {
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { acl_pubsub_default: 'allchannels' } })).status).toBe(200);
    expectRsError(await t.req('POST', '/v1/redis_acls/validate', { body: { acl: '+@pubsub &news' } }), 400, 'invalid_param');
    expect((await t.req('POST', '/v1/redis_acls/validate', { body: { acl: '+@pubsub resetchannels &news' } })).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster/policy', { body: { acl_pubsub_default: 'resetchannels' } })).status).toBe(200);
    expect((await t.req('POST', '/v1/redis_acls/validate', { body: { acl: '+@pubsub &news' } })).status).toBe(200);
  });

  it('an ACL used by a database (roles_permissions) cannot be deleted', async () => {
    const a = (await t.req('POST', '/v1/redis_acls', { body: { name: 'Used', acl: '+@read ~*' } })).json;
    await t.node.composed.kv.put('/bdbs/3', { uid: 3, name: 'db3', roles_permissions: [{ role_uid: 4, redis_acl_uid: a.uid }] });
    const r = await t.req('DELETE', `/v1/redis_acls/${a.uid}`);
    expectRsError(r, 406, 'redis_acl_in_use');
    expect(r.json.description).toContain('databases 3');
    await t.node.composed.kv.delete('/bdbs/3');
    expect((await t.req('DELETE', `/v1/redis_acls/${a.uid}`)).status).toBe(200);
  });
});

describe('permissions', () => {
  it('viewers read ACLs; only admin and user_manager change them', async () => {
    const body = { email: 'aclv@example.com', password: 'aclv-password', role_uids: [3] };
    expect((await t.req('POST', '/v1/users', { body })).status).toBe(200);
    const auth = { user: body.email, pass: body.password };
    expect((await t.req('GET', '/v1/redis_acls', { auth })).status).toBe(200);
    expect((await t.req('GET', '/v1/redis_acls/1', { auth })).status).toBe(200);
    expectRsError(await t.req('POST', '/v1/redis_acls', { auth, body: { name: 'V', acl: '+@read' } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/redis_acls/validate', { auth, body: { acl: '+@read' } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', '/v1/redis_acls/3', { auth }), 403, 'insufficient_permissions');
  });
});
