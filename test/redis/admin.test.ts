import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardAdmin, parseInfo, parseRole, waitForSync } from '../../src/redis/admin.js';
import type { ShardHandle, ShardSupervisor } from '../../src/redis/supervisor.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { ADMIN, shardHarness } from './harness.js';

const h = shardHarness();
let sup: ShardSupervisor;
let shard: ShardHandle;
let admin: ShardAdmin;

beforeAll(async () => {
  sup = h.supervisor();
  shard = h.track(await sup.start(await h.spec()));
  admin = sup.admin(shard);
});
afterAll(() => admin.close());

describe('ShardAdmin on a live shard', () => {
  it('configSet then CONFIG GET; configGetAll; an unknown directive is undefined; a bad value rejects', async () => {
    await admin.configSet('maxmemory', '104857600');
    expect(await admin.configGet('maxmemory')).toBe('104857600');
    await admin.configSet('maxmemory', '100mb');
    expect(await admin.configGet('maxmemory')).toBe('104857600');
    expect(await admin.configGetAll('maxmemory*')).toMatchObject({ maxmemory: '104857600', 'maxmemory-policy': 'noeviction' });
    expect(await admin.configGet('no-such-directive')).toBeUndefined();
    await expect(admin.configSet('maxmemory-policy', 'allkeys-lrm')).rejects.toThrow(/must be one of/);
    await admin.configRewrite();
  });

  it('aclSetUser → a fresh client authenticates as that user; allowed and denied commands', async () => {
    await admin.aclSetUser('app', ['reset', 'on', '>app-pass', '~app:*', '&*', '+@read', '+@write', '-flushall']);
    expect(await admin.aclUsers()).toContain('app');
    expect((await admin.aclList()).find((l) => l.startsWith('user app '))).toMatch(/~app:\*/);

    const app = h.client(shard.port, { username: 'app', password: 'app-pass' });
    await app.connect();
    expect(await app.set('app:1', 'x')).toBe('OK');
    expect(await app.get('app:1')).toBe('x');
    await expect(app.get('other:1')).rejects.toThrow(/NOPERM/); // key pattern
    await expect(app.flushall()).rejects.toThrow(/NOPERM/); // command
    await expect(app.config('GET', 'maxmemory')).rejects.toThrow(/NOPERM/); // not in its categories

    const anon = h.client(shard.port);
    await anon.connect();
    await expect(anon.call('AUTH', 'app', 'nope')).rejects.toThrow(/WRONGPASS/);

    expect(await admin.aclDelUser('app')).toBe(1);
    expect(await admin.aclDelUser('app')).toBe(0);
    expect(await admin.aclUsers()).not.toContain('app');
  });

  it('info() parses sections; dbsize, flushAll, bgsave, lastSave, command()', async () => {
    const info = await admin.info();
    expect(info.server?.tcp_port).toBe(String(shard.port));
    expect(info.server?.process_id).toBe(String(shard.pid));
    expect(info.replication?.role).toBe('master');
    expect(Object.keys(await admin.info('memory'))).toEqual(['memory']);

    await admin.command('MSET', ['a', 1, 'b', 2]);
    expect(await admin.dbsize()).toBeGreaterThanOrEqual(2);
    expect(await admin.command('MGET', ['a', 'b'])).toEqual(['1', '2']);
    await expect(admin.command('NOSUCHCMD')).rejects.toThrow(/unknown command/);

    const before = await admin.lastSave();
    await admin.bgsave();
    await waitFor(async () => (await admin.info('persistence')).persistence?.rdb_bgsave_in_progress === '0' && (await admin.lastSave()) >= before);
    await admin.flushAll();
    expect(await admin.dbsize()).toBe(0);
    expect(await admin.role()).toEqual({ role: 'master', offset: expect.any(Number), replicas: [] });
  });

  it('reconnects after its connection is dropped, and times out (not hangs) on a port with nothing', async () => {
    await admin.command('CLIENT', ['KILL', 'TYPE', 'normal', 'SKIPME', 'no']);
    await expect(admin.ping()).resolves.toBe(true); // idempotent: retried once on a new connection
    await admin.command('CLIENT', ['KILL', 'TYPE', 'normal', 'SKIPME', 'no']);
    // A generic command is never re-sent: it either failed on the dead connection or ran exactly once.
    const first = await admin.command('INCR', ['counter']).catch((e: Error) => e);
    expect(await admin.command('GET', ['counter'])).toBe(first instanceof Error ? null : '1');

    const nobody = new ShardAdmin({ port: await freePort(), commandTimeoutMs: 300 });
    const t0 = Date.now();
    await expect(nobody.ping()).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
    nobody.close();
  });
});

describe('replication', () => {
  it('replica via directives syncs; keys read from the replica; replicaOfNoOne promotes', async () => {
    const masterSpec = await h.spec();
    const master = h.track(await sup.start(masterSpec));
    const m = sup.admin(master);
    // The database's users must not matter to replication: the replica authenticates as the admin user.
    await m.aclSetUser('default', ['reset', 'on', '>db-pass', '~*', '&*', '+@all']);
    for (let i = 0; i < 100; i++) await m.command('SET', [`k${i}`, `v${i}`]);

    const replica = h.track(await sup.start(await h.spec({ replicaof: `127.0.0.1 ${master.port}`, 'replica-read-only': 'yes' })));
    const r = sup.admin(replica);
    const t0 = Date.now();
    await waitForSync(r, { timeoutMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(2000); // diskless, no delay
    expect(await r.command('GET', ['k42'])).toBe('v42');
    expect(await r.dbsize()).toBe(100);
    await expect(r.command('SET', ['x', '1'])).rejects.toThrow(/READONLY/);

    const role = await r.role();
    expect(role).toMatchObject({ role: 'slave', masterHost: '127.0.0.1', masterPort: master.port, state: 'connected' });
    await waitFor(async () => {
      const mr = await m.role();
      return mr.role === 'master' && mr.replicas.some((x) => x.port === replica.port);
    });

    await m.command('SET', ['late', 'yes']);
    await waitFor(async () => (await r.command('GET', ['late'])) === 'yes');

    await r.replicaOfNoOne();
    expect((await r.role()).role).toBe('master');
    await r.command('SET', ['after-promotion', '1']);
    expect(await r.dbsize()).toBe(102);
    m.close();
    r.close();
  });

  it('replicaOf() at runtime, and a failover: the old master becomes a replica of the promoted one', async () => {
    const a = h.track(await sup.start(await h.spec()));
    const b = h.track(await sup.start(await h.spec()));
    const aa = sup.admin(a);
    const bb = sup.admin(b);
    await aa.command('SET', ['x', 'from-a']);
    await bb.replicaOf('127.0.0.1', a.port);
    await waitForSync(bb);
    expect(await bb.command('GET', ['x'])).toBe('from-a');

    await bb.replicaOfNoOne();
    await bb.command('SET', ['y', 'from-b']);
    await aa.replicaOf('127.0.0.1', b.port);
    await waitForSync(aa);
    expect(await aa.command('GET', ['y'])).toBe('from-b');
    aa.close();
    bb.close();
  });

  it('waitForSync rejects with the link state when the master is unreachable', async () => {
    const lonely = h.track(await sup.start(await h.spec({ replicaof: `127.0.0.1 ${await freePort()}` })));
    const l = sup.admin(lonely);
    await expect(waitForSync(l, { timeoutMs: 300 })).rejects.toThrow(/did not sync in time \(role=slave master_link_status=down/);
    l.close();
  });
});

describe('parsers', () => {
  it('parseInfo and parseRole', () => {
    expect(parseInfo('# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n')).toEqual({
      server: { redis_version: '7.0.15' },
      keyspace: { db0: 'keys=1,expires=0,avg_ttl=0' },
    });
    expect(parseRole(['master', 10, [['127.0.0.1', '6380', '10']]])).toEqual({ role: 'master', offset: 10, replicas: [{ host: '127.0.0.1', port: 6380, offset: 10 }] });
    expect(parseRole(['slave', '127.0.0.1', 6379, 'connect', -1])).toEqual({ role: 'slave', masterHost: '127.0.0.1', masterPort: 6379, state: 'connect', offset: -1 });
    expect(parseRole(['sentinel', []])).toEqual({ role: 'other', name: 'sentinel' });
  });

  it('authenticates explicitly: wrong admin credentials fail instead of falling back to `default`', async () => {
    const bad = new ShardAdmin({ port: shard.port, user: ADMIN.user, password: 'wrong' });
    await expect(bad.configGet('maxmemory')).rejects.toThrow(/WRONGPASS/);
    bad.close();
  });
});
