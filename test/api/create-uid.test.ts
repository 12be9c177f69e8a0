/**
 * A uid given on create (bdbs, users, roles, redis_acls) must name an object the API can reach
 * afterwards: `{int: uid}` path segments read at most 9 digits (api/params.ts), so a larger uid would create an
 * object no GET, PUT or DELETE could ever address (a database stuck with its port and memory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UID } from '../../src/schemas/common.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError, ok } from '../helpers/rs-error.js';
import { waitStatus } from '../helpers/bdb.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const bodies: Record<string, Record<string, unknown>> = {
  '/v1/roles': { name: 'far role', management: 'none' },
  '/v1/redis_acls': { name: 'far acl', acl: '+get ~*' },
  '/v1/users': { email: 'far@test.local', password: 'far-user-pass-1', role_uids: [6] },
};

describe('a uid given on create', () => {
  it.each(Object.keys(bodies))('%s: one past the largest addressable uid is refused (400); the largest is created and reachable', async (path) => {
    expectRsError(await t.req('POST', path, { body: { ...bodies[path], uid: MAX_UID + 1 } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', path, { body: { ...bodies[path], uid: 2 ** 31 } }), 400, 'invalid_schema');
    expect((await ok(t.req('POST', path, { body: { ...bodies[path], uid: MAX_UID } }))).uid).toBe(MAX_UID);
    expect((await ok(t.req('GET', `${path}/${MAX_UID}`))).uid).toBe(MAX_UID);
    await ok(t.req('DELETE', `${path}/${MAX_UID}`));
    expectRsError(await t.req('GET', `${path}/${MAX_UID}`), 404);
  });

  it('/v1/bdbs: refused past the largest addressable uid (v1, v2, dry run); at it, the database is reachable and deletable', async () => {
    const bdb = { name: 'far-db', memory_size: 64 * 1024 * 1024 };
    expectRsError(await t.req('POST', '/v1/bdbs', { body: { ...bdb, uid: MAX_UID + 1 } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/bdbs?dry_run=1', { body: { ...bdb, uid: 2 ** 31 - 1 } }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v2/bdbs', { body: { bdb: { ...bdb, uid: MAX_UID + 1 } } }), 400, 'invalid_schema');
    expect((await ok(t.req('GET', '/v1/bdbs?fields=name'))).map((b: { name: string }) => b.name)).not.toContain('far-db');

    await ok(t.req('POST', '/v1/bdbs', { body: { ...bdb, uid: MAX_UID } }));
    await waitStatus(t, MAX_UID);
    await ok(t.req('DELETE', `/v1/bdbs/${MAX_UID}`));
  });
});
