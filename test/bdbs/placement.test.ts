/**
 * Shard placement: GET .../actions/optimize_shards_placement, PUT .../actions/rebalance and .../actions/revamp,
 * and `shards_blueprint` with the `cluster-state-id` header in POST / PUT /v1/bdbs, on a single-node cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCompleted, createBdb, shardsOf, waitStatus } from '../helpers/bdb.js';
import { waitInSync } from '../helpers/replication.js';
import { expectRsError } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const MASTER = { node_uid: '1', role: 'master' };
const REPLICA = { node_uid: '1', role: 'slave' };
const ALL = '0-16383';

describe('optimize_shards_placement', () => {
  it('answers the blueprint of the database, or of the settings asked for, with a cluster-state-id', async () => {
    const bdb = await createBdb(t, { name: 'place-a', replication: true });
    const r = await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual([{ nodes: [MASTER, REPLICA], slot_range: ALL }]);
    expect(r.headers['cluster-state-id']).toMatch(/^[0-9]+$/);
    const single = await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement?replication=disabled&memory_size=50000000`);
    expect(single.json).toEqual([{ nodes: [MASTER], slot_range: ALL }]);
    // Nothing changed by asking.
    expect((await shardsOf(t, bdb.uid)).length).toBe(2);

    expectRsError(await t.req('GET', '/v1/bdbs/999/actions/optimize_shards_placement'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement?avoid_nodes=1`), 406, 'insufficient_resources');
    expectRsError(await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement?memory_size=lots`), 400);
    expectRsError(await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement?replication=maybe`), 400);
    const many = await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement?shards_count=3`);
    expect([400, 406]).toContain(many.status);
    expect(many.json.error_code).toBeTruthy();
  });
});

describe('shards_blueprint and cluster-state-id', () => {
  it('a PUT with the blueprint and state id just read is taken; a stale state id is refused with 409', async () => {
    const bdb = await createBdb(t, { name: 'place-b', replication: true });
    const got = await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement`);
    const stateId = got.headers['cluster-state-id'] as string;
    const ok = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { shards_blueprint: got.json }, headers: { 'cluster-state-id': stateId } });
    expect(ok.status).toBe(200);
    await actionCompleted(t, ok.json.action_uid);
    await waitStatus(t, bdb.uid);

    // Another database's shards change the cluster's state: the old id no longer passes, for any change.
    await createBdb(t, { name: 'place-c' });
    const stale = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { shards_blueprint: got.json }, headers: { 'cluster-state-id': stateId } });
    expectRsError(stale, 409, 'wrong_cluster_state_id');
    expectRsError(await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'noeviction' }, headers: { 'cluster-state-id': stateId } }), 409, 'wrong_cluster_state_id');
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.eviction_policy).not.toBe('noeviction');
    const fresh = (await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/optimize_shards_placement`)).headers['cluster-state-id'];
    expect(fresh).not.toBe(stateId);
  });

  it('refuses blueprints that do not fit the database (406 bad_shards_blueprint) or are malformed (400)', async () => {
    const bdb = await createBdb(t, { name: 'place-d', replication: true });
    const bad = async (blueprint: unknown) => t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { shards_blueprint: blueprint } });
    expectRsError(await bad([{ nodes: [MASTER, REPLICA], slot_range: '0-8191' }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [MASTER, REPLICA], slot_range: '0-8191' }, { nodes: [MASTER, REPLICA], slot_range: '8192-16383' }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [MASTER], slot_range: ALL }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [MASTER, { node_uid: '1', role: 'master' }], slot_range: ALL }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [MASTER, { node_uid: '7', role: 'slave' }], slot_range: ALL }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [MASTER, REPLICA], slot_range: 'all' }]), 406, 'bad_shards_blueprint');
    expectRsError(await bad([{ nodes: [{ node_uid: '1', role: 'leader' }], slot_range: ALL }]), 400);
    expectRsError(await bad({ nodes: [] }), 400);
    // A change and the blueprint of its result together: replication off, the blueprint without the replica.
    const off = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: false, shards_blueprint: [{ nodes: [MASTER], slot_range: ALL }] } });
    expect(off.status).toBe(200);
    await actionCompleted(t, off.json.action_uid);
    expect((await shardsOf(t, bdb.uid)).length).toBe(1);
    // Not stored: the object does not have it.
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.shards_blueprint).toBeUndefined();
  });

  it('POST /v1/bdbs takes a fitting blueprint and refuses one that does not fit', async () => {
    expectRsError(await t.req('POST', '/v1/bdbs', { body: { name: 'place-e', memory_size: 100_000_000, shards_blueprint: [{ nodes: [MASTER, REPLICA], slot_range: ALL }] } }), 406, 'bad_shards_blueprint');
    const r = await t.req('POST', '/v1/bdbs', { body: { name: 'place-e', memory_size: 100_000_000, shards_blueprint: [{ nodes: [MASTER], slot_range: ALL }] } });
    expect(r.status).toBe(200);
    await waitStatus(t, r.json.uid);
  });
});

describe('rebalance', () => {
  it('dry run answers the blueprint; a rebalance is an action that completes with the shards where they are', async () => {
    const bdb = await createBdb(t, { name: 'place-f', replication: true });
    const before = await shardsOf(t, bdb.uid);
    const dry = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/rebalance?dry_run=true`);
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual([{ nodes: [MASTER, REPLICA], slot_range: ALL }]);
    expect(dry.headers['cluster-state-id']).toMatch(/^[0-9]+$/);
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/rebalance`);
    expect(r.status).toBe(200);
    const a = await actionCompleted(t, r.json.action_uid);
    expect(a.object_name).toBe(`bdb:${bdb.uid}`);
    expect(await shardsOf(t, bdb.uid)).toEqual(before);
    expectRsError(await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/rebalance?max_operations=2`), 400, 'invalid_param');
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/rebalance?only_failovers=true&max_operations=2&dry_run=true`)).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/bdbs/999/actions/rebalance'), 404, 'db_not_exist');
  });
});

describe('revamp', () => {
  it('dry run shows the new topology without changing anything; the real one adds the replica', async () => {
    const bdb = await createBdb(t, { name: 'place-g' });
    const dry = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/revamp?dry_run=true`, { body: { replication: true } });
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual([{ nodes: [MASTER, REPLICA], slot_range: ALL }]);
    expect((await shardsOf(t, bdb.uid)).length).toBe(1);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.replication).toBe(false);

    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/revamp`, { body: { replication: true, memory_size: 200_000_000 } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['action_uid']);
    await actionCompleted(t, r.json.action_uid);
    await waitInSync(t, bdb.uid);
    const after = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json;
    expect(after.replication).toBe(true);
    expect(after.memory_size).toBe(200_000_000);

    expectRsError(await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/revamp`, { body: { name: 'renamed' } }), 400);
    expectRsError(await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/revamp`, { body: { replication: 'yes' } }), 400);
    const big = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/revamp`, { body: { bigstore_ram_size: 1000 } });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    expectRsError(await t.req('PUT', '/v1/bdbs/999/actions/revamp', { body: {} }), 404, 'db_not_exist');
  });
});
