/**
 * A planned switch of masters through the proxy (`hold`, then `release` with the new target): the
 * multiplexed clients keep their connections, what they send meanwhile waits in the proxy, and
 * after the switch it runs on the new master as the same user. Real proxy process, two real
 * redis-servers (master and replica), Redis's own FAILOVER in between, as the manager does it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { closed, killAll, rawConnect, redis, startProxy, startRedis, tempDir, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let a: RedisTarget;
let b: RedisTarget;

const root = (t: RedisTarget) => redis(t.port, { username: 'root', password: 'rootpw' });
const target = (t: RedisTarget) => ({ host: '127.0.0.1', port: t.port });

beforeAll(async () => {
  ({ px } = await startProxy());
}, 30_000);
afterAll(killAll);

/** Two fresh servers, `master` and its replica in sync, with the same users. */
async function pair(users: string[][] = []): Promise<{ master: RedisTarget; replica: RedisTarget }> {
  // No delay before a full sync (Redis waits 5 s by default for more replicas to share it).
  // Each in a directory of its own: a replica's full sync writes an RDB file into it.
  const master = await startRedis(['--repl-diskless-sync-delay', '0', '--dir', tempDir()]);
  const replica = await startRedis(['--repl-diskless-sync-delay', '0', '--dir', tempDir()]);
  for (const t of [master, replica]) {
    const c = redis(t.port);
    await c.call('ACL', 'SETUSER', 'root', 'on', '>rootpw', '~*', '&*', '+@all');
    for (const [name, ...rules] of users) await c.call('ACL', 'SETUSER', name!, ...rules);
    c.disconnect();
  }
  const r = root(replica);
  await r.call('REPLICAOF', '127.0.0.1', String(master.port));
  await waitFor(async () => /master_link_status:up/.test(await r.info('replication')), { what: 'replica in sync' });
  r.disconnect();
  // FAILOVER TO needs the master to see it online too.
  const m = root(master);
  await waitFor(async () => /slave0:.*state=online/.test(await m.info('replication')), { what: 'replica online at the master' });
  m.disconnect();
  return { master, replica };
}

/** Redis's own graceful switch, as the manager runs it while the endpoint is held. */
async function failover(master: RedisTarget, replica: RedisTarget): Promise<void> {
  const m = root(master);
  await m.call('FAILOVER', 'TO', '127.0.0.1', String(replica.port), 'TIMEOUT', '5000');
  m.disconnect();
  const r = root(replica);
  await waitFor(async () => ((await r.call('ROLE')) as unknown[])[0] === 'master', { what: 'replica promoted' });
  r.disconnect();
}

async function endpoint(uid: string, t: RedisTarget): Promise<number> {
  const port = await freePort();
  const info = await px.setEndpoint({ uid, port, addr: '127.0.0.1', target: target(t) });
  expect(info.listening).toBe(true);
  return port;
}

/** One command in RESP (an inline command would pin the client to a connection of its own). */
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;

/** A raw connection whose replies collect in `text`; `gone` resolves when it closes. */
async function rawClient(port: number) {
  const s = await rawConnect(port);
  const c = { s, text: '', gone: closed(s) };
  s.on('data', (d) => (c.text += d.toString()));
  return c;
}

/** A client that INCRs its own key in a loop, counting replies, errors and lost connections. */
function writer(c: Redis, key: string) {
  const w = { ok: 0, errors: [] as string[], closes: 0, stop: false, done: Promise.resolve() };
  c.on('close', () => w.closes++);
  w.done = (async () => {
    while (!w.stop) {
      try {
        await c.incr(key);
        w.ok++;
      } catch (e) {
        w.errors.push((e as Error).message);
      }
    }
  })();
  return w;
}

/** A raw RESP3 client (HELLO 3): commands in, replies counted by their first line. */
async function resp3Client(port: number) {
  const s = await rawConnect(port);
  const c = { s, text: '', closed: false };
  s.on('data', (d) => (c.text += d.toString('latin1')));
  s.on('close', () => (c.closed = true));
  s.write(resp('HELLO', '3'));
  await waitFor(() => c.text.startsWith('%'), { what: 'HELLO 3 map' });
  c.text = '';
  return c;
}

describe('hold and release with a new target', () => {
  it('moves anonymous, authenticated and RESP3 clients to the new master: no error, no reconnect, every write counted once', async () => {
    const { master, replica } = await pair([['app', 'on', '>app-pw', '~app:*', '+@all']]);
    const port = await endpoint('hold:1', master);
    const anon = redis(port);
    const app = redis(port, { username: 'app', password: 'app-pw' });
    const ws = [writer(anon, 'anon:n'), writer(app, 'app:n')];
    const r3 = await resp3Client(port);
    await waitFor(() => ws.every((w) => w.ok > 50), { what: 'writers running' });

    const held = await px.hold('hold:1', { drainMs: 2000, timeoutMs: 10_000 });
    expect(held).toEqual({ drained: true });
    // Held: a command sent now is not answered until the switch is done.
    r3.s.write(resp('INCR', 'r3:n'));
    const before = ws.map((w) => w.ok);
    await failover(master, replica);
    expect(ws.map((w) => w.ok)).toEqual(before);
    expect(r3.text).toBe('');
    const info = await px.release('hold:1', target(replica));
    expect(info.target.port).toBe(replica.port);

    await waitFor(() => r3.text === ':1\r\n', { what: 'the held RESP3 command answered by the new master' });
    await waitFor(() => ws.every((w, i) => w.ok > before[i]! + 50), { what: 'writers going on after the switch' });
    for (const w of ws) w.stop = true;
    await Promise.all(ws.map((w) => w.done));
    expect(ws.map((w) => w.errors)).toEqual([[], []]);
    expect(ws.map((w) => w.closes)).toEqual([0, 0]);
    expect(r3.closed).toBe(false);
    // Each acknowledged INCR happened exactly once, on the master of its time, as the client's own user.
    const n = root(replica);
    expect(Number(await n.get('anon:n'))).toBe(ws[0]!.ok);
    expect(Number(await n.get('app:n'))).toBe(ws[1]!.ok);
    // The authenticated client still acts as `app` (its ACL allows only app:* keys).
    await expect(app.set('other', 'x')).rejects.toThrow(/NOPERM/);
    // The shared connections now go to the new master only.
    const list = (await n.call('CLIENT', 'LIST')) as string;
    expect(list).toMatch(/user=app /);
    r3.s.destroy();
  });

  it('closes dedicated (pinned) connections when the hold begins; a new client during the hold is served after it', async () => {
    const { master, replica } = await pair();
    const port = await endpoint('hold:2', master);
    const sub = await rawClient(port);
    sub.s.write('SUBSCRIBE news\r\n');
    await waitFor(() => sub.text.includes('news'), { what: 'subscribed' });

    await px.hold('hold:2', { drainMs: 2000, timeoutMs: 10_000 });
    await sub.gone;
    const late = await rawClient(port);
    late.s.write(resp('SET', 'late', '1') + resp('GET', 'late'));
    await failover(master, replica);
    expect(late.text).toBe('');
    await px.release('hold:2', target(replica));
    await waitFor(() => late.text === '+OK\r\n$1\r\n1\r\n', { what: 'the late client answered' });
    expect(await root(replica).get('late')).toBe('1');
    late.s.destroy();
  });

  it('closes a dedicated connection only after the replies to what it sent: a transaction whose EXEC was sent is run and answered', async () => {
    const { master } = await pair();
    const port = await endpoint('hold:6', master);
    const c = await rawClient(port);
    // A transaction that keeps the shard busy for ~300 ms: its reply is owed when the hold begins.
    const busy = "local t = redis.call('TIME'); local s = t[1] * 1000000 + t[2]; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 300000; return redis.call('INCR', KEYS[1])";
    c.s.write(resp('MULTI') + resp('EVAL', busy, '1', 'tx:n'));
    await waitFor(() => c.text === '+OK\r\n+QUEUED\r\n', { what: 'queued' });
    c.s.write(resp('EXEC'));
    await waitFor(async () => (await px.stats('hold:6'))['hold:6']?.commands?.exec?.[0] === 1, { what: 'EXEC forwarded' });
    expect(await px.hold('hold:6', { drainMs: 2000, timeoutMs: 10_000 })).toEqual({ drained: true });
    await c.gone;
    expect(c.text).toBe('+OK\r\n+QUEUED\r\n*1\r\n:1\r\n');
    expect(await root(master).get('tx:n')).toBe('1');
    await px.release('hold:6');
  });

  it('keeps a connection blocked in BLPOP through the switch (a FIN could lose an item popped for it); the demoted master unblocks it', async () => {
    const { master, replica } = await pair();
    const port = await endpoint('hold:8', master);
    const c = await rawClient(port);
    c.s.write(resp('BLPOP', 'q', '0'));
    await waitFor(async () => /blocked_clients:1/.test(await root(master).info('clients')), { what: 'client blocked' });
    expect(await px.hold('hold:8', { drainMs: 2000, timeoutMs: 10_000 })).toEqual({ drained: true });
    await failover(master, replica);
    await px.release('hold:8', target(replica));
    await c.gone;
    // Redis's own answer to a client blocked on a master that turned replica; no item was taken for it.
    expect(c.text).toMatch(/^-UNBLOCKED/);
    await root(replica).lpush('q', 'item');
    expect(await root(replica).lrange('q', 0, -1)).toEqual(['item']);
  });

  it('keeps a connection blocked in WAIT through the switch: the demoted master answers it -UNBLOCKED, as it does a direct client', async () => {
    const { master, replica } = await pair();
    const port = await endpoint('hold:10', master);
    const c = await rawClient(port);
    // Two replicas asked for, one exists: blocked until something unblocks it.
    c.s.write(resp('SET', 'w', '1') + resp('WAIT', '2', '0'));
    await waitFor(async () => /blocked_clients:1/.test(await root(master).info('clients')), { what: 'client blocked' });
    expect(await px.hold('hold:10', { drainMs: 2000, timeoutMs: 10_000 })).toEqual({ drained: true });
    await failover(master, replica);
    await px.release('hold:10', target(replica));
    await c.gone;
    // Not a bare close: Redis's own answer, as a client connected to the master directly gets.
    expect(c.text).toMatch(/^\+OK\r\n-UNBLOCKED/);
  });

  it('a blocked connection kept through a hold that ends without a switch goes on, and gets its item', async () => {
    const { master } = await pair();
    const port = await endpoint('hold:9', master);
    const c = await rawClient(port);
    c.s.write(resp('BLPOP', 'q2', '0'));
    await waitFor(async () => /blocked_clients:1/.test(await root(master).info('clients')), { what: 'client blocked' });
    await px.hold('hold:9', { drainMs: 2000, timeoutMs: 10_000 });
    await px.release('hold:9');
    await root(master).lpush('q2', 'item');
    await waitFor(() => c.text === '*2\r\n$2\r\nq2\r\n$4\r\nitem\r\n', { what: 'item delivered' });
    c.s.write(resp('PING'));
    await waitFor(() => c.text.endsWith('+PONG\r\n'), { what: 'the connection goes on' });
    c.s.destroy();
  });

  it('a transaction whose EXEC comes after the hold began is not run', async () => {
    const { master } = await pair();
    const port = await endpoint('hold:7', master);
    const c = await rawClient(port);
    c.s.write(resp('MULTI') + resp('INCR', 'tx:late'));
    await waitFor(() => c.text === '+OK\r\n+QUEUED\r\n', { what: 'queued' });
    await px.hold('hold:7', { drainMs: 2000, timeoutMs: 10_000 });
    c.s.write(resp('EXEC'));
    await c.gone;
    expect(c.text).toBe('+OK\r\n+QUEUED\r\n');
    expect(await root(master).exists('tx:late')).toBe(0);
    await px.release('hold:7');
  });

  it('a client whose credentials the new master refuses is closed, and nothing it sent runs there as anyone else', async () => {
    const { master, replica } = await pair([['app', 'on', '>app-pw', '~*', '+@all']]);
    // The new master knows `app` with another password; its default user is open to anyone.
    await root(replica).call('ACL', 'SETUSER', 'app', 'resetpass', '>other-pw');
    const port = await endpoint('hold:3', master);
    const c = await rawClient(port);
    c.s.write(resp('AUTH', 'app', 'app-pw'));
    await waitFor(() => c.text === '+OK\r\n', { what: 'AUTH' });
    await px.hold('hold:3', { drainMs: 2000, timeoutMs: 10_000 });
    c.s.write(resp('SET', 'stolen', '1'));
    await failover(master, replica);
    await px.release('hold:3', target(replica));
    await c.gone;
    expect(c.text).toBe('+OK\r\n');
    expect(await root(replica).exists('stolen')).toBe(0);
  });
});

describe('a hold that ends without a new target', () => {
  it('ends by itself after timeout_ms: the held commands then run on the same target', async () => {
    const t = await startRedis();
    const port = await endpoint('hold:4', t);
    const c = redis(port);
    expect(await c.ping()).toBe('PONG');
    await px.hold('hold:4', { drainMs: 1000, timeoutMs: 300 });
    // Sent during the hold: answered once it ends by itself.
    expect(await c.set('after-hold', 'v')).toBe('OK');
    expect(await redis(t.port).get('after-hold')).toBe('v');
  });

  it('does not wait for a reply that takes longer than drain_ms: the hold ends at once (drained: false)', async () => {
    const t = await startRedis();
    const port = await endpoint('hold:5', t);
    const c = redis(port);
    // A script that keeps the shard busy for ~600 ms, on a shared connection.
    const slow = c.eval("local t = redis.call('TIME'); local s = t[1] * 1000000 + t[2]; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 600000; return 1", 0);
    // Forwarded to the shard (the proxy counts a command as it sends it), so a reply is owed when the hold begins.
    await waitFor(async () => (await px.stats('hold:5'))['hold:5']?.commands?.eval?.[0] === 1, { what: 'script sent' });
    const held = await px.hold('hold:5', { drainMs: 100, timeoutMs: 10_000 });
    expect(held).toEqual({ drained: false });
    expect(await slow).toBe(1);
    expect(await c.ping()).toBe('PONG');
    // A release with a new target after a hold that did not drain is a plain set_target: connections are dropped.
    const info = await px.release('hold:5', { host: '127.0.0.1', port: t.port });
    expect(info.target.port).toBe(t.port);
  });

  it('with a successor that has become master (the manager died after the switch), moves the clients to it', async () => {
    const { master, replica } = await pair([['app', 'on', '>app-pw', '~app:*', '+@all']]);
    const port = await endpoint('hold:6', master);
    const anon = redis(port);
    const app = redis(port, { username: 'app', password: 'app-pw' });
    const w = writer(anon, 'anon:n');
    await waitFor(() => w.ok > 20, { what: 'writer running' });
    expect(await app.set('app:1', 'x')).toBe('OK');
    await px.hold('hold:6', { drainMs: 2000, timeoutMs: 5000, successor: { target: target(replica), user: 'root', password: 'rootpw' } });
    await failover(master, replica);
    // Nobody releases: the hold ends by itself, on the new master (before: on the demoted one, -READONLY).
    await waitFor(async () => (await px.list()).find((e) => e.uid === 'hold:6')?.target.port === replica.port, { what: 'endpoint retargeted' });
    expect(await app.set('app:2', 'y')).toBe('OK');
    await waitFor(() => w.ok > 100 || w.errors.length > 0, { what: 'writer going on' });
    w.stop = true;
    await w.done;
    expect(w.errors).toEqual([]);
    expect(w.closes).toBe(0);
    const n = root(replica);
    expect(await n.get('app:2')).toBe('y');
    expect(Number(await n.get('anon:n'))).toBe(w.ok);
  });

  it('with a successor still a replica (no switch), or one that refuses the credentials, stays on the same target', async () => {
    for (const [uid, password] of [['hold:7', 'rootpw'], ['hold:8', 'wrong']] as const) {
      const { master, replica } = await pair();
      const port = await endpoint(uid, master);
      const c = redis(port);
      expect(await c.ping()).toBe('PONG');
      await px.hold(uid, { drainMs: 1000, timeoutMs: 300, successor: { target: target(replica), user: 'root', password } });
      expect(await c.set('after-hold', 'v')).toBe('OK');
      expect(await root(master).get('after-hold')).toBe('v');
      expect((await px.list()).find((e) => e.uid === uid)?.target.port).toBe(master.port);
    }
  });

  it('validates its arguments and names an unknown endpoint', async () => {
    await expect(px.hold('nope', { drainMs: 100, timeoutMs: 100 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(px.release('nope')).rejects.toMatchObject({ code: 'not_found' });
    await expect(px.hold('hold:4', { drainMs: 0, timeoutMs: 100 })).rejects.toMatchObject({ code: 'invalid_args' });
  });
});
