/** The REST conventions of rest-api/_index.md, checked through real HTTPS on a real node. */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConventions, unsafeNumberAt } from '../../src/api/conventions.js';
import { hashPassword } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import { request } from '../helpers/https-client.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});


describe('authentication', () => {
  it('401 with WWW-Authenticate and an error body without credentials', async () => {
    const r = await t.req('GET', '/v1/cluster', { auth: null });
    expectRsError(r, 401, 'unauthorized');
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('401 for a wrong password, an unknown user, and a malformed header', async () => {
    expectRsError(await t.req('GET', '/v1/cluster', { auth: { user: ADMIN.user, pass: 'wrong' } }), 401);
    expectRsError(await t.req('GET', '/v1/cluster', { auth: { user: 'nobody@x', pass: ADMIN.pass } }), 401);
    expectRsError(await t.req('GET', '/v1/cluster', { auth: null, headers: { authorization: 'Basic !!!' } }), 401);
    expectRsError(await t.req('GET', '/v1/cluster', { auth: null, headers: { authorization: 'Bearer x' } }), 401);
  });

  it('accepts the admin by email, case-insensitively', async () => {
    expect((await t.req('GET', '/v1/cluster')).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', { auth: { user: ADMIN.user.toUpperCase(), pass: ADMIN.pass } })).status).toBe(200);
  });
});

describe('permissions', () => {
  beforeAll(async () => {
    const viewer: UserRecord = {
      uid: 50, name: 'viewer', email: 'viewer@test.local', role: 'cluster_viewer', role_uids: [], auth_method: 'regular',
      status: 'active', email_alerts: false, bdbs_email_alerts: [], alert_audit_db_conns: false, alert_bdb_backup: false,
      alert_bdb_crdt_src_syncer: false, password_issue_date: '2026-01-01T00:00:00Z', password_hashes: [await hashPassword('viewer-pass-1')],
    };
    await t.node.composed.kv.put('/users/50', { ...viewer, uid: 50 });
    await t.node.composed.kv.put('/users/51', { ...viewer, uid: 51, name: 'nobody', email: 'none@test.local', role: 'none' });
  });
  const viewer = { user: 'viewer@test.local', pass: 'viewer-pass-1' };

  it('a cluster_viewer can read but not change the cluster (403 before body validation)', async () => {
    expect((await t.req('GET', '/v1/cluster', { auth: viewer })).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/cluster', { auth: viewer, body: { email_alerts: true } }), 403, 'insufficient_permissions');
    // An invalid body still gets 403, not 400: permission is checked first.
    expectRsError(await t.req('PUT', '/v1/cluster', { auth: viewer, body: { nonsense: 1 } }), 403);
    expectRsError(await t.req('PUT', '/v1/license', { auth: viewer, body: { license: 'x' } }), 403);
    expectRsError(await t.req('PUT', '/v1/cluster', { auth: viewer, rawBody: '{"password_expiration_duration": 1e300}', headers: { 'content-type': 'application/json' } }), 403);
  });

  it("role 'none' may not even read", async () => {
    expectRsError(await t.req('GET', '/v1/cluster', { auth: { user: 'none@test.local', pass: 'viewer-pass-1' } }), 403);
  });
});

describe('routing', () => {
  it('unknown route → 404 with an error body; unknown API version → 404', async () => {
    expectRsError(await t.req('GET', '/v1/no_such_thing'), 404, 'not_found');
    expectRsError(await t.req('GET', '/v3/cluster'), 404, 'not_found');
    expectRsError(await t.req('GET', '/'), 404);
  });

  it('wrong method on a known path → 405 with Allow', async () => {
    const r = await t.req('DELETE', '/v1/cluster');
    expectRsError(r, 405, 'method_not_allowed');
    expect(String(r.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD', 'PUT']);
    const r2 = await t.req('POST', '/v1/nodes/1');
    expectRsError(r2, 405);
    expect(r2.headers.allow).toContain('PUT');
  });

  it('PUT on a real database sub-resource → 405 with its Allow, not the action catch-all', async () => {
    // PUT /v1/bdbs/{uid}/{action} takes any last segment; a path that is another route's resource
    // (certificates, shards, availability) must still answer 405 like PATCH does there (QA 13: PUT
    // /v1/bdbs/1/certificates with a certificate body answered 400 "unknown or read-only field 'cert'").
    for (const sub of ['certificates', 'shards', 'availability']) {
      for (const body of [{ cert: 'x', private_key: 'y' }, {}, undefined]) {
        const r = await t.req('PUT', `/v1/bdbs/1/${sub}`, body === undefined ? {} : { body });
        expectRsError(r, 405, 'method_not_allowed');
        expect(r.headers.allow).not.toContain('PUT');
        expect(r.headers.allow).toContain('GET');
      }
    }
    // The known actions and unknown words keep reaching the route.
    expectRsError(await t.req('PUT', '/v1/bdbs/999/flush', { body: {} }), 404, 'db_not_exist');
    expectRsError(await t.req('PUT', '/v1/bdbs/1/explode', { body: {} }), 400, 'unsupported_action');
  });

  it('a trailing slash names the same resource', async () => {
    const r = await t.req('GET', '/v1/cluster/');
    expect(r.status, r.text).toBe(200);
    expect(r.json.name).toBe('cluster.test.local');
    expect((await t.req('GET', '/v1/nodes/1/?fields=uid')).json).toEqual({ uid: 1 });
    // Still 405 for a method the path does not have, with or without the slash.
    expectRsError(await t.req('DELETE', '/v1/cluster/'), 405, 'method_not_allowed');
  });

  it('a URL that does not decode → 400 with an RS error body', async () => {
    const r = await t.req('GET', '/v1/ldap_mappings/%FF');
    expectRsError(r, 400, 'bad_request');
    expect(r.json.code).toBeUndefined();
  });

  it('x-api-version: supported values pass, others → 505', async () => {
    expect((await t.req('GET', '/v1/cluster', { headers: { 'x-api-version': '1' } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', { headers: { 'x-api-version': 'v2' } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', { headers: { 'x-api-version': '9' } }), 505, 'unsupported_api_version');
  });
});

describe('request bodies', () => {
  it('a body that is not application/json → 400', async () => {
    const r = await t.req('PUT', '/v1/cluster', { rawBody: 'email_alerts=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectRsError(r, 400, 'unsupported_content_type');
    expectRsError(await t.req('PUT', '/v1/cluster', { rawBody: '{"email_alerts":true}', headers: { 'content-type': 'text/plain' } }), 400);
  });

  it('malformed JSON → 400 invalid_json_body, and nothing changes', async () => {
    expectRsError(await t.req('PUT', '/v1/cluster', { rawBody: '{"email_alerts": tru', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json_body');
    // Valid JSON naming __proto__ is refused too (prototype poisoning), saying so.
    const proto = await t.req('PUT', '/v1/cluster', { rawBody: '{"__proto__": {"email_alerts": true}}', headers: { 'content-type': 'application/json' } });
    expectRsError(proto, 400, 'invalid_json_body');
    expect(proto.json.description).toMatch(/forbidden property \(__proto__/);
    expect((await t.req('GET', '/v1/cluster')).json.email_alerts).toBe(false);
  });

  it('schema violations → 400 invalid_schema (wrong type, unknown field, out-of-range value)', async () => {
    expectRsError(await t.req('PUT', '/v1/cluster', { body: { email_alerts: 'yes' } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster', { body: { not_a_field: 1 } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster', { body: { password_min_length: 3 } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster', { body: [1, 2] }), 400, 'invalid_schema');
  });

  it('a number JSON cannot carry exactly (beyond 2^53) → 400 invalid_schema naming the field, and nothing changes', async () => {
    // JSON.parse reads 99999999999999999999 as 100000000000000000000: storing it would store another value.
    const r = await t.req('PUT', '/v1/cluster', { rawBody: '{"password_expiration_duration": 99999999999999999999}', headers: { 'content-type': 'application/json' } });
    expectRsError(r, 400, 'invalid_schema');
    expect(r.json.description).toMatch(/^body\.password_expiration_duration: must be between/);
    expect((await t.req('GET', '/v1/cluster')).json.password_expiration_duration).toBe(0);
    // 2^53-1 itself passes this check (the field's own schema decides about it).
    expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: Number.MAX_SAFE_INTEGER } })).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster', { body: { password_expiration_duration: 0 } })).status).toBe(200);
    // Nested and in arrays too; permission still comes first.
    expect(unsafeNumberAt({ a: [1, { b: -1e300 }] }, 'body')).toBe('body.a[1].b');
    expect(unsafeNumberAt({ a: [1, 2.5, Number.MAX_SAFE_INTEGER] }, 'body')).toBeUndefined();
  });

  it('accepts application/json with a charset', async () => {
    const r = await t.req('PUT', '/v1/cm_settings', { rawBody: '{"timezone":"UTC"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(r.status).toBe(200);
  });
});

describe('responses', () => {
  it('are application/json with a correct Content-Length', async () => {
    const r = await t.req('GET', '/v1/cluster');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
  });

  it('fields=a,b returns only those fields, for single objects and lists', async () => {
    const one = await t.req('GET', '/v1/cluster?fields=name,email_alerts');
    expect(one.json).toEqual({ name: 'cluster.test.local', email_alerts: false });
    const list = await t.req('GET', '/v1/nodes?fields=uid,status');
    expect(list.json).toEqual([{ uid: 1, status: 'active' }]);
    const single = await t.req('GET', '/v1/nodes/1?fields=uid,cores');
    expect(Object.keys(single.json).sort()).toEqual(['cores', 'uid']);
    const repeated = await t.req('GET', '/v1/nodes/1?fields=uid&fields=cores');
    expect(Object.keys(repeated.json).sort()).toEqual(['cores', 'uid']);
    const bdbs = await t.req('GET', '/v1/bdbs?fields=uid&fields=name');
    expect(bdbs.status, bdbs.text).toBe(200);
    expect(Array.isArray(bdbs.json)).toBe(true);
  });

  it('fields= names only the object\'s own fields (__proto__, constructor are not fields)', async () => {
    const r = await t.req('GET', '/v1/users/1?fields=__proto__,constructor,toString,uid');
    expect(r.status, r.text).toBe(200);
    expect(r.text).toBe('{"uid":1}');
  });

  it('fields= on a route with a response schema (its fields are required) → the projection, not a 500 (QA 13)', async () => {
    const r = await t.req('GET', '/v1/suffixes?fields=name');
    expect(r.status, r.text).toBe(200);
    expect(r.json.length).toBeGreaterThan(0);
    for (const s of r.json) expect(Object.keys(s)).toEqual(['name']);
    // Fields the schema does not show stay hidden when asked for.
    const bogus = await t.req('GET', '/v1/suffixes?fields=name,nonexistent');
    expect(bogus.json).toEqual(r.json);
  });

  it('fields= leaves error bodies whole', async () => {
    expect((await t.req('GET', '/v1/bdbs/-1')).json.error_code).toBe('db_not_exist');
    for (const path of ['/v1/bdbs/99?fields=uid', '/v1/shards/99?fields=uid', '/v1/nodes/99?fields=error_code']) {
      const r = await t.req('GET', path);
      expect(r.status, path).toBe(404);
      expect(typeof r.json.error_code, path).toBe('string');
      expect(typeof r.json.description, path).toBe('string');
    }
  });
});

describe('before bootstrap', () => {
  let fresh: TestNode;
  beforeAll(async () => {
    fresh = await startTestNode({ bootstrap: false });
  });
  afterAll(async () => {
    await fresh?.close();
  });

  it('every route but bootstrap answers 503 with an error body, even without credentials', async () => {
    for (const p of ['/v1/cluster', '/v1/nodes', '/v1/license', '/v1/cluster/certificates', '/v1/local/node/master_healthcheck']) {
      const r = await request(fresh.port, 'GET', p);
      expectRsError(r, 503, 'node_not_bootstrapped');
    }
    expectRsError(await request(fresh.port, 'PUT', '/v1/cluster', { body: { email_alerts: true } }), 503);
  });

  it('GET /v1/bootstrap needs no authentication', async () => {
    const r = await request(fresh.port, 'GET', '/v1/bootstrap');
    expect(r.status).toBe(200);
    expect(r.json.bootstrap_status).toEqual({ state: 'idle' });
  });
});

describe('route declarations', () => {
  it('a route without a permission cannot be registered', async () => {
    const app = Fastify();
    registerConventions(app, { isBootstrapped: () => true, authenticate: async () => { throw new Error('unused'); }, healthcheckNeedsAuth: async () => true });
    expect(() => app.get('/v1/oops', async () => ({}))).toThrow(/declares no permission/);
    expect(() => app.get('/v1/fine', { config: { permission: 'view_cluster_info' } }, async () => ({}))).not.toThrow();
    await app.close();
  });
});
