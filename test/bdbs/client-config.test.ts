/**
 * CONFIG GET / SET / REWRITE from a database's clients, as RS allows them
 * (references/compatibility/config-settings.md): only the listed settings, within RS's limits, as the
 * caller's ACL allows; a value set reaches every shard and survives a failover and a restart.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCompleted, client, createBdb, pidOf, postOk, shardAdmin, shardsOf, waitStatus } from '../helpers/bdb.js';
import { waitInSync } from '../helpers/replication.js';
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

/** The reply or the error text of one command. */
async function tryCall(c: ReturnType<typeof client>, ...args: string[]): Promise<unknown> {
  try {
    return await c.call(args[0]!, ...args.slice(1));
  } catch (e) {
    return (e as Error).message;
  }
}

/** CONFIG GET `name` on each shard of the database, as the manager's admin user reads it. */
async function onShards(uid: number, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of await shardsOf(t, uid)) {
    const a = await shardAdmin(t, s.port);
    out.push(((await a.config('GET', name)) as string[])[1]!);
    a.disconnect();
  }
  return out;
}

/** Send commands (RESP arrays of their space-separated words) on a raw connection; resolves what came back once `done` says so. */
const resp = (words: string[]) => `*${words.length}\r\n${words.map((w) => `$${w.length}\r\n${w}\r\n`).join('')}`;

function raw(port: number, lines: string[], done: (s: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(lines.map((l) => resp(l.split(' '))).join('')));
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer: ${JSON.stringify(got)}`));
    }, 5000);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (done(got)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
  });
}

describe('CONFIG from clients', () => {
  it('SET reaches every shard, GET shows only the allowed settings, and a failover and a restart keep the value', async () => {
    const bdb = await createBdb(t, { name: 'db-config', replication: true });
    const port = bdb.endpoints[0].port;
    await waitInSync(t, bdb.uid);
    const c = client(port);
    await c.connect();
    // As Spring Session does for its expiry events.
    expect(await c.config('SET', 'notify-keyspace-events', 'Egx')).toBe('OK');
    expect(await c.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', 'gxE']);
    await waitFor(async () => (await onShards(bdb.uid, 'notify-keyspace-events')).every((v) => v === 'gxE'), { what: 'the setting on the replica' });
    // Several at once, an alias among them; values within RS's limits.
    expect(await c.call('CONFIG', 'SET', 'slowlog-max-len', '512', 'hash-max-ziplist-entries', '64')).toBe('OK');
    expect(await c.config('GET', 'hash-max-listpack-entries')).toEqual(['hash-max-listpack-entries', '64']);
    // A pattern matches only what clients may see: no dir, no masterauth, no maxmemory.
    const all = (await c.config('GET', '*')) as string[];
    const names = all.filter((_, i) => i % 2 === 0);
    expect(names).toContain('slowlog-max-len');
    expect(names).toContain('notify-keyspace-events');
    for (const hidden of ['dir', 'masterauth', 'maxmemory', 'requirepass', 'save']) expect(names).not.toContain(hidden);
    expect(await c.config('GET', 'maxmemory')).toEqual([]);
    // Commands sent after it in one pipeline are answered in order.
    const replies = await c.pipeline().set('a', '1').config('SET', 'list-compress-depth', '2').get('a').exec();
    expect(replies!.map(([e, v]) => e?.message ?? v)).toEqual(['OK', 'OK', '1']);
    expect(await c.call('CONFIG', 'REWRITE')).toBe('OK');

    // Failover: the new master has the value, and so does the replica rebuilt from the old master.
    const master = (await shardsOf(t, bdb.uid)).find((s) => s.role === 'master')!;
    await actionCompleted(t, (await t.req('POST', `/v1/shards/${master.uid}/actions/failover`)).json.action_uid);
    await waitInSync(t, bdb.uid);
    expect(await onShards(bdb.uid, 'notify-keyspace-events')).toEqual(['gxE', 'gxE']);
    // A restart of every shard (redis.conf): still there.
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { replication: false } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, bdb.uid);
    const [only] = await shardsOf(t, bdb.uid);
    const pid = pidOf(only!.dir);
    const a = await shardAdmin(t, only!.port);
    await a.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    a.disconnect();
    c.disconnect();
    await waitFor(async () => pidOf(only!.dir) !== pid && (await onShards(bdb.uid, 'slowlog-max-len').catch(() => [])).length === 1, { what: 'the shard back', timeoutMs: 15_000 });
    const d = client(port);
    await d.connect();
    expect(await onShards(bdb.uid, 'slowlog-max-len')).toEqual(['512']);
    expect(await d.config('GET', 'list-compress-depth')).toEqual(['list-compress-depth', '2']);
    d.disconnect();
    // Not in the bdb object.
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).not.toHaveProperty('redis_config');
  });

  it('refuses other settings, values outside RS limits, and what Redis refuses; nothing changes', async () => {
    const bdb = await createBdb(t, { name: 'db-config-bad' });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    expect(await tryCall(c, 'CONFIG', 'SET', 'maxmemory', '1')).toBe('ERR Unsupported CONFIG parameter: maxmemory');
    expect(await tryCall(c, 'CONFIG', 'SET', 'dir', '/tmp')).toBe('ERR Unsupported CONFIG parameter: dir');
    // One bad pair: none is set.
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-max-len', '200', 'masterauth', 'x')).toBe('ERR Unsupported CONFIG parameter: masterauth');
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-max-len', '2000')).toMatch(/^ERR Invalid argument '2000' .*between 128 and 1024/);
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-log-slower-than', '500')).toMatch(/larger than 1000 microseconds/);
    expect(await tryCall(c, 'CONFIG', 'SET', 'busy-reply-threshold', '60001')).toMatch(/between 0 and 60000/);
    expect(await tryCall(c, 'CONFIG', 'SET', 'notify-keyspace-events', 'bogus')).toMatch(/^ERR CONFIG SET failed.*Invalid event class/);
    // Redis's order: arity, then permission, then the names (all of them), then the values.
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-max-len')).toBe("ERR wrong number of arguments for 'config|set' command");
    expect(await tryCall(c, 'CONFIG', 'SET')).toBe("ERR wrong number of arguments for 'config|set' command");
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-max-len', '200', 'x')).toBe('ERR syntax error');
    expect(await tryCall(c, 'CONFIG', 'SET', 'slowlog-max-len', '5', 'maxmemory', '1')).toBe('ERR Unsupported CONFIG parameter: maxmemory');
    // A bare CONFIG is Redis's to answer (it once sent the proxy into a loop, QA).
    expect(await tryCall(c, 'CONFIG')).toBe("ERR wrong number of arguments for 'config' command");
    // Many patterns (beyond what the proxy took apart before, 64 arguments): still the manager's.
    expect(await c.call('CONFIG', 'GET', ...Array.from({ length: 100 }, () => 'slowlog-max-len'))).toEqual(['slowlog-max-len', '128']);
    // An error that quotes a huge name is cut short, and the connection goes on.
    const huge = await tryCall(c, 'CONFIG', 'SET', 'x'.repeat(200_000), '1');
    expect(String(huge)).toMatch(/^ERR Unsupported CONFIG parameter: x+\.\.\.$/);
    expect(String(huge).length).toBeLessThan(2000);
    expect(await onShards(bdb.uid, 'slowlog-max-len')).toEqual(['128']);
    expect(await onShards(bdb.uid, 'notify-keyspace-events')).toEqual(['']);
    // Not supported by RS: Redis's own answer (the database users' ACL blocks it).
    expect(await tryCall(c, 'CONFIG', 'RESETSTAT')).toMatch(/^NOPERM/);
    // The client keeps working.
    expect(await c.ping()).toBe('PONG');
    c.disconnect();
    // RESP3: CONFIG GET answers a map.
    expect(await raw(bdb.endpoints[0].port, ['HELLO 3', 'CONFIG GET slowlog-max-len'], (s) => s.includes('%1'))).toContain('%1\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n');
  });

  it("follows the caller's ACL: a user whose role excludes @dangerous gets NOPERM, one with full access may set", async () => {
    const safe = await post('/v1/redis_acls', { name: 'Not Dangerous Cfg', acl: '+@all -@dangerous ~*' });
    const role = await post('/v1/roles', { name: 'Cfg Apps', management: 'none' });
    const adminRole = await post('/v1/roles', { name: 'Cfg Admins', management: 'none' });
    await post('/v1/users', { email: 'cfg-app@test.local', name: 'cfgapp', password: 'cfg-app-pass-1', role_uids: [role.uid] });
    await post('/v1/users', { email: 'cfg-admin@test.local', name: 'cfgadmin', password: 'cfg-admin-pass-1', role_uids: [adminRole.uid] });
    const bdb = await createBdb(t, {
      name: 'db-config-acl', authentication_redis_pass: 'default-pass-1',
      roles_permissions: [{ role_uid: role.uid, redis_acl_uid: safe.uid }, { role_uid: adminRole.uid, redis_acl_uid: 1 }],
    });
    const port = bdb.endpoints[0].port;
    // Not signed in while the default user has a password: Redis's NOAUTH, nothing is read.
    const anon = client(port);
    await anon.connect();
    expect(await tryCall(anon, 'CONFIG', 'GET', '*')).toMatch(/^NOAUTH/);
    anon.disconnect();

    const app = client(port, { username: 'cfgapp', password: 'cfg-app-pass-1' });
    await app.connect();
    expect(await tryCall(app, 'CONFIG', 'SET', 'slowlog-max-len', '300')).toBe("NOPERM this user has no permissions to run the 'config|set' command");
    expect(await tryCall(app, 'CONFIG', 'GET', 'slowlog-max-len')).toMatch(/^NOPERM/);
    expect(await app.get('x')).toBe(null);
    app.disconnect();

    const adm = client(port, { username: 'cfgadmin', password: 'cfg-admin-pass-1' });
    await adm.connect();
    expect(await adm.config('SET', 'slowlog-max-len', '300')).toBe('OK');
    adm.disconnect();
    const def = client(port, { password: 'default-pass-1' });
    await def.connect();
    expect(await def.config('GET', 'slowlog-max-len')).toEqual(['slowlog-max-len', '300']);
    def.disconnect();
    // The probe users it used are gone.
    const [s] = await shardsOf(t, bdb.uid);
    const a = await shardAdmin(t, s!.port);
    expect(((await a.call('ACL', 'USERS')) as string[]).filter((u) => u.startsWith('openrs-probe-'))).toEqual([]);
    a.disconnect();
  });

  it('while the manager is down: -TRYAGAIN, the connection stays usable; back when it is', async () => {
    const bdb = await createBdb(t, { name: 'db-config-down' });
    const port = bdb.endpoints[0].port;
    const c = client(port);
    await c.connect();
    await t.stop();
    expect(await tryCall(c, 'CONFIG', 'GET', 'slowlog-max-len')).toMatch(/^TRYAGAIN /);
    expect(await c.set('k', 'v')).toBe('OK');
    t = await startTestNode({ dataDir: t.dataDir });
    await waitFor(async () => Array.isArray(await tryCall(c, 'CONFIG', 'GET', 'slowlog-max-len')), { what: 'CONFIG answered again' });
    expect(await c.config('SET', 'slowlog-max-len', '256')).toBe('OK');
    c.disconnect();
  });
});
