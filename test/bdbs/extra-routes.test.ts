/**
 * The syncer views, module routes and shard migration (requests/bdbs/peer_stats.md,
 * sync_source_stats.md, syncer_state/, modules/, requests/shards/actions/migrate.md) through real
 * HTTPS on a real single node with one real database: what a plain database, on a cluster without
 * modules or other nodes, truly answers; permission denials; bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCompleted, createBdb } from '../helpers/bdb.js';
import type { Resp } from '../helpers/https-client.js';
import { expectRsError, ok } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
let db: number;
let shard: string;
const users = {} as Record<'none' | 'db_viewer' | 'cluster_viewer' | 'db_member', { user: string; pass: string }>;

beforeAll(async () => {
  t = await startTestNode();
  db = (await createBdb(t, { name: 'extras' })).uid;
  shard = (await ok(t.req('GET', `/v1/bdbs/${db}/shards`)))[0].uid;
  for (const role of ['none', 'db_viewer', 'cluster_viewer', 'db_member'] as const) {
    users[role] = { user: `extras-${role}@test.local`, pass: `Extras-${role}-pass-1` };
    await ok(t.req('POST', '/v1/users', { body: { email: users[role].user, password: users[role].pass, role } }));
  }
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/bdbs/{uid}/peer_stats', () => {
  it('406 bdb_not_crdb for a database that is not Active-Active, listed or by peer', async () => {
    for (const path of [`/v1/bdbs/${db}/peer_stats`, `/v1/bdbs/${db}/peer_stats/3`, `/v1/bdbs/${db}/peer_stats?interval=5min`]) {
      const r = await t.req('GET', path);
      expectRsError(r, 406, 'bdb_not_crdb');
      expect(r.json.description).toMatch(/not a CRDB/);
    }
  });

  it('404 db_not_exist for a database that does not exist', async () => {
    expectRsError(await t.req('GET', '/v1/bdbs/999/peer_stats'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/bdbs/999/peer_stats/3'), 404, 'db_not_exist');
    // The missing database decides, whatever the rest of the path (QA).
    expectRsError(await t.req('GET', '/v1/bdbs/999/peer_stats/abc'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/bdbs/999/sync_source_stats/abc'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/bdbs/abc/peer_stats'), 404, 'db_not_exist');
  });

  it('view_bdb_stats: db_viewer may ask, role none may not', async () => {
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/peer_stats`, { auth: users.db_viewer }), 406, 'bdb_not_crdb');
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/peer_stats`, { auth: users.none }), 403, 'insufficient_permissions');
  });
});

describe('GET /v1/bdbs/{uid}/sync_source_stats', () => {
  it('a database without sync sources: the list, empty', async () => {
    expect(await ok(t.req('GET', `/v1/bdbs/${db}/sync_source_stats`))).toEqual({ sync_source_stats: [] });
    expect(await ok(t.req('GET', `/v1/bdbs/${db}/sync_source_stats?interval=5min&stime=2017-10-22T19:25:00Z`))).toEqual({ sync_source_stats: [] });
    expect(await ok(t.req('GET', `/v1/bdbs/${db}/sync_source_stats`, { auth: users.db_viewer }))).toEqual({ sync_source_stats: [] });
  });

  it('404 sync_source_not_exist for a source the database does not have', async () => {
    const r = await t.req('GET', `/v1/bdbs/${db}/sync_source_stats/1`);
    expectRsError(r, 404, 'sync_source_not_exist');
    expect(r.json.description).toMatch(/no sync sources/);
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/sync_source_stats/x`), 404, 'sync_source_not_exist');
  });

  it('404 db_not_exist; 400 for a bad interval or time; 403 for role none', async () => {
    expectRsError(await t.req('GET', '/v1/bdbs/999/sync_source_stats'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/bdbs/999/sync_source_stats/1'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/sync_source_stats?interval=2min`), 400, 'invalid_param');
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/sync_source_stats?etime=yesterday`), 400, 'invalid_param');
    expectRsError(await t.req('GET', `/v1/bdbs/${db}/sync_source_stats`, { auth: users.none }), 403, 'insufficient_permissions');
  });
});

describe('GET /v1/bdbs/{uid}/syncer_state[/crdt|/replica]', () => {
  it('404 syncer_state_not_exist: no Active-Active syncer, no Replica Of syncer', async () => {
    for (const [path, why] of [['syncer_state', /not a CRDB/], ['syncer_state/crdt', /not a CRDB/], ['syncer_state/replica', /no Replica Of sources/]] as const) {
      const r = await t.req('GET', `/v1/bdbs/${db}/${path}`);
      expectRsError(r, 404, 'syncer_state_not_exist');
      expect(r.json.description).toMatch(why);
      expectRsError(await t.req('GET', `/v1/bdbs/999/${path}`), 404, 'db_not_exist');
      expectRsError(await t.req('GET', `/v1/bdbs/${db}/${path}`, { auth: users.db_viewer }), 404, 'syncer_state_not_exist');
      expectRsError(await t.req('GET', `/v1/bdbs/${db}/${path}`, { auth: users.none }), 403, 'insufficient_permissions');
    }
  });
});

describe('POST /v1/bdbs/{uid}/modules/config', () => {
  const body = { modules: [{ module_name: 'search', module_args: 'MINPREFIX 3 MAXEXPANSIONS 1000' }] };

  it('404 module_not_exist: the database has no such module; nothing changes', async () => {
    const r = await t.req('POST', `/v1/bdbs/${db}/modules/config`, { body });
    expectRsError(r, 404, 'module_not_exist');
    expect(r.json.description).toMatch(/has no module 'search'/);
    expectRsError(await t.req('POST', `/v1/bdbs/${db}/modules/config`, { body, auth: users.db_member }), 404, 'module_not_exist');
    expect((await ok(t.req('GET', `/v1/bdbs/${db}`))).module_list ?? []).toEqual([]);
  });

  it('404 db_not_exist for a database that does not exist', async () => {
    expectRsError(await t.req('POST', '/v1/bdbs/999/modules/config', { body }), 404, 'db_not_exist');
  });

  it('400: missing_field, param_error, invalid_schema as the page lists them', async () => {
    const post = (b?: unknown) => t.req('POST', `/v1/bdbs/${db}/modules/config`, { body: b });
    expectRsError(await post(), 400, 'missing_field');
    expectRsError(await post({}), 400, 'missing_field');
    expectRsError(await post({ modules: [] }), 400, 'missing_field');
    expectRsError(await post({ modules: [{ module_name: 'search' }] }), 400, 'missing_field');
    expectRsError(await post({ modules: [{ module_args: 'X 1' }] }), 400, 'missing_field');
    expectRsError(await post({ modules: [{ module_name: 'search', module_args: 'A & B' }] }), 400, 'param_error');
    expectRsError(await post({ modules: [{ module_name: 'search', module_args: '"x"' }] }), 400, 'param_error');
    expectRsError(await post({ modules: [{ module_name: 5, module_args: 'X' }] }), 400, 'invalid_schema');
    expectRsError(await post({ modules: 'search' }), 400, 'invalid_schema');
    expectRsError(await post([body]), 400, 'invalid_schema');
    expectRsError(await post({ ...body, extra: 1 }), 400, 'invalid_schema');
  });

  it('edit_bdb_module: viewers are refused before the body is looked at', async () => {
    expectRsError(await t.req('POST', `/v1/bdbs/${db}/modules/config`, { body, auth: users.db_viewer }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', `/v1/bdbs/${db}/modules/config`, { body: { modules: 1 }, auth: users.cluster_viewer }), 403, 'insufficient_permissions');
  });
});

describe('POST /v1/bdbs/{uid}/modules/upgrade', () => {
  const body = { modules: [{ module_name: 'ReJson', current_semantic_version: '2.2.1', new_module: 'aa3648d79bd4082d414587c42ea0b234' }], preserve_roles: true, may_discard_data: false };

  it('406 missing_module: the new module is not present in the cluster', async () => {
    const r = await t.req('POST', `/v1/bdbs/${db}/modules/upgrade`, { body });
    expectRsError(r, 406, 'missing_module');
    expect(r.json.description).toMatch(/aa3648d79bd4082d414587c42ea0b234' is not present in the cluster/);
    expectRsError(await t.req('POST', `/v1/bdbs/${db}/modules/upgrade`, { body: { modules: [{ current_module: '1', new_module: '2', new_module_args: '' }] } }), 406, 'missing_module');
  });

  it('404 db_not_exist; 400 for missing or mistyped fields; 403 for a viewer', async () => {
    expectRsError(await t.req('POST', '/v1/bdbs/999/modules/upgrade', { body }), 404, 'db_not_exist');
    const post = (b?: unknown, auth?: { user: string; pass: string }) => t.req('POST', `/v1/bdbs/${db}/modules/upgrade`, { body: b, auth });
    expectRsError(await post(), 400, 'missing_field');
    expectRsError(await post({ modules: [{ module_name: 'ReJson' }] }), 400, 'missing_field');
    expectRsError(await post({ modules: [{ new_module: 'x' }] }), 400, 'missing_field');
    expectRsError(await post({ ...body, preserve_roles: 'yes' }), 400, 'invalid_schema');
    expectRsError(await post(body, users.db_viewer), 403, 'insufficient_permissions');
  });
});

describe('POST /v1/shards/{uid}/actions/migrate', () => {
  it('to the node the shard is on: nothing happens (the page), told by a completed action', async () => {
    const r = await ok(t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: { target_node_uid: 1, override_rack_policy: false, preserve_roles: false } }));
    expect(r.description).toBe(`Shard ${shard} is already on node 1: nothing to migrate`);
    const a = await actionCompleted(t, r.action_uid);
    expect(a).toMatchObject({ status: 'completed', progress: 100, object_name: `bdb:${db}` });
    expect((await ok(t.req('GET', `/v1/shards/${shard}`))).node_uid).toBe('1');

    const dry = await ok(t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: { target_node_uid: 1, dry_run: true } }));
    expect(dry).toEqual({ description: `Dry run: Shard ${shard} is already on node 1; nothing would be migrated` });
    expect((await ok(t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: { target_node_uid: 1 }, auth: users.db_member }))).action_uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('404: the shard, the node, or no target node', async () => {
    expectRsError(await t.req('POST', '/v1/shards/999/actions/migrate', { body: { target_node_uid: 1 } }), 404, 'shard_not_exist');
    expectRsError(await t.req('POST', '/v1/shards/abc/actions/migrate', { body: { target_node_uid: 1 } }), 404, 'shard_not_exist');
    const unknownNode = await t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: { target_node_uid: 9 } });
    expectRsError(unknownNode, 404, 'node_not_found');
    expect(unknownNode.json.description).toBe('Node 9 does not exist');
    expectRsError(await t.req('POST', `/v1/shards/${shard}/actions/migrate`), 404, 'target_node_uid_required');
    expectRsError(await t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: {} }), 404, 'target_node_uid_required');
  });

  it('409 db_busy while another change of the database is open', async () => {
    const actions = t.node.composed.services.actions;
    const { action, op } = actions.create('SMUpdateBDB', `bdb:${db}`);
    await actions.record(op);
    try {
      expectRsError(await t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: { target_node_uid: 1 } }), 409, 'db_busy');
    } finally {
      await actions.transition(action.action_uid, 'completed');
    }
  });

  it('400 for mistyped fields; 403 for roles without migrate_shard', async () => {
    const post = (b: unknown, auth?: { user: string; pass: string }) => t.req('POST', `/v1/shards/${shard}/actions/migrate`, { body: b, auth });
    expectRsError(await post({ target_node_uid: '1' }), 400, 'invalid_schema');
    expectRsError(await post({ target_node_uid: 1, dry_run: 'no' }), 400, 'invalid_schema');
    expectRsError(await post({ target_node_uid: 1, shard_uids: [shard] }), 400, 'invalid_schema');
    for (const role of ['db_viewer', 'cluster_viewer'] as const) expectRsError(await post({ target_node_uid: 1 }, users[role]), 403, 'insufficient_permissions');
  });
});

describe('POST /v1/shards/actions/migrate', () => {
  it('shards already on the target node: a completed action, nothing moved', async () => {
    const r = await ok(t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [shard], target_node_uid: 1, max_concurrent_bdb_migrations: 3 } }));
    expect(r.description).toBe(`Shard ${shard} is already on node 1: nothing to migrate`);
    await actionCompleted(t, r.action_uid);
    expect(await ok(t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [Number(shard)], target_node_uid: 1, dry_run: true } })))
      .toEqual({ description: `Dry run: Shard ${shard} is already on node 1; nothing would be migrated` });
  });

  it('404: no shard list, an unknown shard, an unknown node, no node', async () => {
    expectRsError(await t.req('POST', '/v1/shards/actions/migrate'), 404, 'shard_uids_required');
    expectRsError(await t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [], target_node_uid: 1 } }), 404, 'shard_uids_required');
    expectRsError(await t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [shard, '999'], target_node_uid: 1 } }), 404, 'shard_not_exist');
    expectRsError(await t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [shard], target_node_uid: 2 } }), 404, 'node_not_found');
    expectRsError(await t.req('POST', '/v1/shards/actions/migrate', { body: { shard_uids: [shard] } }), 404, 'target_node_uid_required');
  });

  it('400 for mistyped fields; 403 for roles without migrate_shard', async () => {
    const post = (b: unknown, auth?: { user: string; pass: string }) => t.req('POST', '/v1/shards/actions/migrate', { body: b, auth });
    expectRsError(await post({ shard_uids: shard, target_node_uid: 1 }), 400, 'invalid_schema');
    expectRsError(await post({ shard_uids: [shard], target_node_uid: 1, max_concurrent_bdb_migrations: 0 }), 400, 'invalid_schema');
    expectRsError(await post({ shard_uids: [shard], target_node_uid: 1, nodes: [1] }), 400, 'invalid_schema');
    for (const role of ['db_viewer', 'cluster_viewer'] as const) expectRsError(await post({ shard_uids: [shard], target_node_uid: 1 }, users[role]), 403, 'insufficient_permissions');
  });
});
