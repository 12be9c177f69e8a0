/**
 * replication: a replica shard per master, in sync, persisting in the master's stead; turned on
 * and off live with the data kept; availability checks (with the lag-aware variant).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb, pidOf, shardAdmin, shardsOf, waitStatus } from '../helpers/bdb.js';
import { shardClient, waitInSync } from '../helpers/replication.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
beforeAll(async () => {
  // A SIGSTOPped shard without replica stays stopped here while availability is checked (by default the
  // watchdog restarts it after ~1 s: test/bdbs/shard-health.test.ts).
  t = await startTestNode({ watchdog: { stoppedChecks: 6000 } });
});
afterAll(async () => {
  await t?.close();
});

describe('replication', () => {
  it('true: a master and a replica in sync; data written at the endpoint is on the replica; only the replica persists', async () => {
    const bdb = await createBdb(t, { name: 'db-repl', replication: true, data_persistence: 'aof' });
    expect(bdb.shard_list).toHaveLength(2);
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    for (let i = 0; i < 100; i++) await c.set(`key:${i}`, `value-${i}`);
    c.disconnect();
    const { master, replica } = await waitInSync(t, bdb.uid);
    const r = shardClient(replica.port);
    await r.connect();
    expect(await r.get('key:42')).toBe('value-42');
    expect(await r.dbsize()).toBe(100);
    const ra = await shardAdmin(t, replica.port);
    expect(await ra.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    ra.disconnect();
    r.disconnect();
    const m = await shardAdmin(t, master.port);
    expect(await m.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    m.disconnect();
  });

  it('turning replication off removes the replica, on adds one back; the data stays', async () => {
    const bdb = await createBdb(t, { name: 'db-repl-toggle' });
    const port = bdb.endpoints[0].port;
    const c = client(port);
    await c.connect();
    await c.set('stay', 'here');

    let r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: true } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, bdb.uid);
    const { replica } = await waitInSync(t, bdb.uid);
    const rc = shardClient(replica.port);
    await rc.connect();
    expect(await rc.get('stay')).toBe('here');
    rc.disconnect();
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.shard_list).toHaveLength(2);

    r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: false } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => (await shardsOf(t, bdb.uid)).length === 1, { what: 'replica removed' });
    await waitFor(async () => (await shardClient(replica.port).connect().then(() => false, () => true)), { what: 'replica process gone' });
    const after = client(port);
    await after.connect();
    expect(await after.get('stay')).toBe('here');
    after.disconnect();
    c.disconnect();
  });

  it('database users exist on the replica too (ready for a failover)', async () => {
    const role = (await t.req('POST', '/v1/roles', { body: { name: 'Repl Users', management: 'none' } })).json;
    await t.req('POST', '/v1/users', { body: { email: 'repl@test.local', name: 'repluser', password: 'repl-pass-123', role_uids: [role.uid] } });
    const bdb = await createBdb(t, { name: 'db-repl-acl', replication: true, roles_permissions: [{ role_uid: role.uid, redis_acl_uid: 2 }] });
    const { replica } = await waitInSync(t, bdb.uid);
    const rc = new Redis({ host: '127.0.0.1', port: replica.port, username: 'repluser', password: 'repl-pass-123', lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null }).on('error', () => undefined);
    await rc.connect();
    expect(await rc.get('anything')).toBeNull();
    rc.disconnect();
  });
});

describe('shard objects with extra_info_keys (requests/shards, requests/bdbs/shards.md)', () => {
  it('redis_info holds the INFO keys asked for, typed as INFO numbers or strings, from the shard itself', async () => {
    const bdb = await createBdb(t, { name: 'db-extra-info', replication: true });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    await c.set('a', 'x'.repeat(1000));
    await c.set('b', 'y');
    const { master, replica } = await waitInSync(t, bdb.uid);
    const keys = 'extra_info_keys=db0&extra_info_keys=used_memory_rss&extra_info_keys=role&extra_info_keys=redis_version&extra_info_keys=connected_clients&extra_info_keys=no_such_key';
    // INFO is what the stats sampler collected last (every second): the new keys show within a few samples.
    const one = await waitFor(async () => {
      const r = await t.req('GET', `/v1/shards/${master.uid}?${keys}`);
      return r.json?.redis_info?.db0?.startsWith('keys=2,') ? r.json : undefined;
    }, { what: 'redis_info with the two keys' });
    const admin = await shardAdmin(t, master.port);
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))![1];
    admin.disconnect();
    expect(one.redis_info).toMatchObject({ role: 'master', redis_version: version });
    expect(typeof one.redis_info.used_memory_rss).toBe('number');
    expect(one.redis_info.used_memory_rss).toBeGreaterThan(0);
    expect(Number.isInteger(one.redis_info.connected_clients)).toBe(true);
    expect(Object.keys(one.redis_info).sort()).toEqual(['connected_clients', 'db0', 'redis_version', 'role', 'used_memory_rss']);
    expect(Date.parse(one.report_timestamp)).toBeGreaterThan(Date.now() - 60_000);
    // The database's shard list and the cluster's: each shard its own INFO; one key alone is a plain string.
    const listed = (await t.req('GET', `/v1/bdbs/${bdb.uid}/shards?extra_info_keys=role`)).json as { uid: string; redis_info: unknown }[];
    expect(listed.map((s) => [s.uid, s.redis_info]).sort()).toEqual([[String(master.uid), { role: 'master' }], [String(replica.uid), { role: 'slave' }]].sort());
    const all = (await t.req('GET', '/v1/shards?extra_info_keys=role')).json as { uid: string; redis_info: unknown }[];
    expect(all.find((s) => s.uid === String(replica.uid))?.redis_info).toEqual({ role: 'slave' });
    // Without the parameter, redis_info is empty, as in the real capture.
    expect((await t.req('GET', `/v1/shards/${master.uid}`)).json.redis_info).toEqual({});
    c.disconnect();
  });
});

describe('availability', () => {
  it('200 when the endpoint and master answer; the lag check passes for an in-sync replica; 404 db_not_found; 400 on bad input', async () => {
    const bdb = await createBdb(t, { name: 'db-avail', replication: true });
    await waitInSync(t, bdb.uid);
    for (const path of [`/v1/bdbs/${bdb.uid}/availability`, `/v1/local/bdbs/${bdb.uid}/endpoint/availability`]) {
      const ok = await t.req('GET', path);
      expect(ok.status, ok.text).toBe(200);
      expect((await t.req('GET', `${path}?extend_check=lag`)).status).toBe(200);
      expect((await t.req('GET', `${path}?extend_check=lag&availability_lag_tolerance_ms=500`)).status).toBe(200);
      const bad = await t.req('GET', `${path}?extend_check=nonsense`);
      expect([bad.status, bad.json.error_code]).toEqual([400, 'invalid_schema']);
      const badTol = await t.req('GET', `${path}?extend_check=lag&availability_lag_tolerance_ms=-3`);
      expect([badTol.status, badTol.json.error_code]).toEqual([400, 'invalid_schema']);
    }
    const missing = await t.req('GET', '/v1/bdbs/9999/availability');
    expect([missing.status, missing.json.error_code]).toEqual([404, 'db_not_found']);
    const missingLocal = await t.req('GET', '/v1/local/bdbs/9999/endpoint/availability');
    expect([missingLocal.status, missingLocal.json.error_code]).toEqual([404, 'db_not_found']);
  });

  it('503 with the reason when the master shard does not answer', async () => {
    const bdb = await createBdb(t, { name: 'db-avail-down' });
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    process.kill(pid, 'SIGSTOP');
    try {
      const r = await t.req('GET', `/v1/bdbs/${bdb.uid}/availability`);
      expect(r.status).toBe(503);
      expect(r.json.error_code).toBe('bdb_unavailable_shard_unreachable');
      expect(r.json.description).toMatch(/^Endpoint error status: shard unreachable/);
      const local = await t.req('GET', `/v1/local/bdbs/${bdb.uid}/endpoint/availability`);
      expect([local.status, local.json.error_code]).toEqual([503, 'bdb_endpoint_unavailable']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/${bdb.uid}/availability`)).status === 200, { what: 'available again' });
  });

  it('503 while traffic is stopped (stop_traffic): the endpoint refuses every client; 200 again after resume_traffic', async () => {
    const bdb = await createBdb(t, { name: 'db-avail-stopped' });
    const paths = [`/v1/bdbs/${bdb.uid}/availability`, `/v1/local/bdbs/${bdb.uid}/endpoint/availability`];
    for (const p of paths) expect((await t.req('GET', p)).status).toBe(200);
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/stop_traffic`)).status).toBe(200);
    await waitStatus(t, bdb.uid, 'active');
    const r = await t.req('GET', paths[0]!);
    expect([r.status, r.json.error_code]).toEqual([503, 'bdb_unavailable']);
    expect(r.json.description).toMatch(/stop_traffic/);
    const local = await t.req('GET', paths[1]!);
    expect([local.status, local.json.error_code]).toEqual([503, 'bdb_endpoint_unavailable']);
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/resume_traffic`)).status).toBe(200);
    await waitStatus(t, bdb.uid, 'active');
    for (const p of paths) await waitFor(async () => (await t.req('GET', p)).status === 200, { what: `${p} available again` });
  });
});
