/**
 * Multiplexing (mux.ts): client connections share a few shard connections, and whatever needs a
 * connection of its own gets one. Real proxy process, real redis-server, ioredis and raw sockets.
 * The security-relevant rule is tested from several sides: a shared connection never lets a
 * client act as a user it did not authenticate as.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { closed, exchange, killAll, rawConnect, redis, sendAndFin, startProxy, startRedis, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let shard: RedisTarget;

/** A direct client as `root`, whom the tests never change. */
const admin = () => redis(shard.port, { username: 'root', password: 'rootpw' });

beforeAll(async () => {
  shard = await startRedis();
  await redis(shard.port).call('ACL', 'SETUSER', 'root', 'on', '>rootpw', '~*', '&*', '+@all');
  ({ px } = await startProxy());
});
afterAll(killAll);

/** The shard's ACL back to a passwordless default user and no others. */
beforeEach(async () => {
  const a = admin();
  await a.call('ACL', 'SETUSER', 'default', 'on', 'resetpass', 'nopass', '~*', '&*', '+@all');
  for (const u of (await a.call('ACL', 'USERS')) as string[]) if (u !== 'default' && u !== 'root') await a.call('ACL', 'DELUSER', u);
  await a.flushall();
  a.disconnect();
});

async function endpoint(uid: string, extra: Record<string, unknown> = {}): Promise<number> {
  const port = await freePort();
  const info = await px.setEndpoint({ uid, port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: shard.port }, ...extra });
  expect(info.listening).toBe(true);
  return port;
}

/** ACL SETUSER on the shard for each [name, ...rules], as root. */
async function setUsers(...users: string[][]): Promise<void> {
  const root = admin();
  for (const [name, ...rules] of users) await root.call('ACL', 'SETUSER', name!, ...rules);
  root.disconnect();
}

/** Client connections the shard sees, not counting `admin` itself. */
async function shardClients(): Promise<number> {
  const a = admin();
  const list = (await a.call('CLIENT', 'LIST')) as string;
  a.disconnect();
  return list.trim().split('\n').length - 1;
}

/** One raw connection: send `text`, collect replies until `count` CRLF-terminated lines (or 5 s). */
async function rawLines(port: number, text: string, count: number): Promise<string[]> {
  const s = await rawConnect(port);
  let got = '';
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got.split('\r\n').slice(0, count));
    };
    const timer = setTimeout(done, 5000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.split('\r\n').length - 1 >= count) done();
    });
    s.write(text);
  });
}

/** A raw connection pinned to a shard connection of its own (by SELECT); `got` collects its replies. */
async function pinnedClient(port: number): Promise<{ s: Awaited<ReturnType<typeof rawConnect>>; got: string }> {
  const s = await rawConnect(port);
  const c = { s, got: '' };
  s.on('data', (d) => (c.got += d.toString()));
  s.write('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n');
  await waitFor(() => c.got === '+OK\r\n', { what: 'SELECT answered' });
  return c;
}

describe('sharing', () => {
  it('many clients share at most `conns` shard connections and each gets its own answers', async () => {
    const port = await endpoint('share', { conns: 2 });
    const before = await shardClients();
    const clients = Array.from({ length: 20 }, () => redis(port));
    await Promise.all(
      clients.map(async (c, i) => {
        const p = c.pipeline();
        for (let j = 0; j < 50; j++) p.set(`k:${i}:${j}`, `v:${i}:${j}`).get(`k:${i}:${j}`);
        const res = (await p.exec())!;
        for (let j = 0; j < 50; j++) expect(res[2 * j + 1]![1]).toBe(`v:${i}:${j}`);
      }),
    );
    if ((await shardClients()) - before > 2) { const a = admin(); console.log(await a.call('CLIENT', 'LIST')); }
    expect((await shardClients()) - before).toBeLessThanOrEqual(2);
    const info = (await px.list()).find((e) => e.uid === 'share')!;
    expect(info.shard_connections).toBeLessThanOrEqual(2);
    expect(info.conns).toBe(2);
    const st = (await px.stats('share')).share!;
    expect(st.commands!.set![0]).toBeGreaterThanOrEqual(1000);
    expect(st.commands!.get![1]).toBe(st.commands!.get![0]);
    for (const c of clients) c.disconnect();
  });

  it('max_client_pipeline only slows a deep pipeline down: every reply arrives, in order', async () => {
    const port = await endpoint('deep', { max_client_pipeline: 4, max_pipelined: 8 });
    const r = redis(port);
    const p = r.pipeline();
    for (let i = 0; i < 5000; i++) p.incr('n');
    const res = (await p.exec())!;
    expect(res.map((x) => x[1])).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  it('max_client_pipeline holds the rest of a client\'s pipeline back until replies come', async () => {
    const port = await endpoint('strict', { max_client_pipeline: 5 });
    const s = await rawConnect(port);
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.write('*1\r\n$4\r\nPING\r\n');
    await waitFor(() => got === '+PONG\r\n', { what: 'first PING' });
    got = '';
    // The shard holds every command for a moment: what the proxy forwarded meanwhile is what it counted.
    const a = admin();
    await a.call('CLIENT', 'PAUSE', '300', 'ALL');
    s.write('*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n'.repeat(50));
    await waitFor(async () => ((await px.stats())['strict']?.commands?.echo?.[0] ?? 0) >= 5, { what: 'five forwarded' });
    expect((await px.stats())['strict']!.commands!.echo![0]).toBe(5);
    await waitFor(() => got.length === '$1\r\nx\r\n'.length * 50, { what: 'all 50 replies', timeoutMs: 10_000 });
    expect(got).toBe('$1\r\nx\r\n'.repeat(50));
    a.disconnect();
    s.destroy();
  });

  it('a client whose unread replies pass the limit is closed; the others go on', async () => {
    const port = await endpoint('hoard', { conns: 1 });
    const other = redis(port);
    await other.set('big', 'x'.repeat(8 * 1024 * 1024));
    const hoarder = await rawConnect(port);
    hoarder.pause(); // never reads: 100 x 8 MiB owed, over the 512 MiB limit
    hoarder.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(100));
    // The proxy closes it (a paused socket would not see its own close): only `other` is left.
    await waitFor(async () => (await px.stats())['hoard']?.current_connections === 1, { what: 'hoarder closed', timeoutMs: 20_000 });
    hoarder.destroy();
    expect(await other.ping()).toBe('PONG');
    expect(await other.strlen('big')).toBe(8 * 1024 * 1024);
  });

  it('a client gone with replies in flight does not disturb the others', async () => {
    const port = await endpoint('gone', { conns: 1 });
    const keep = redis(port);
    await keep.set('x', '1');
    const s = await rawConnect(port);
    s.write('*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n'.repeat(1000));
    s.destroy();
    for (let i = 0; i < 20; i++) expect(await keep.get('x')).toBe('1');
    expect(await keep.incr('c')).toBe(1);
  });

  it('a client that never reads its replies does not stall the others on its shard connection', async () => {
    const port = await endpoint('slowreader', { conns: 1 });
    const other = redis(port);
    await other.set('v', 'x'.repeat(1024));
    const slow = await rawConnect(port);
    slow.pause(); // reads nothing
    const get = '*2\r\n$3\r\nGET\r\n$1\r\nv\r\n';
    for (let i = 0; i < 50; i++) slow.write(get.repeat(2000)); // 100k replies of 1 KiB owed
    for (let i = 0; i < 20; i++) expect(await other.ping()).toBe('PONG');
    expect(await other.get('v')).toHaveLength(1024);
    slow.destroy();
  });

  it('a command split across many writes is forwarded whole', async () => {
    const port = await endpoint('split');
    const s = await rawConnect(port);
    const other = redis(port);
    const cmd = Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$10\r\n0123456789\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    for (let i = 0; i < cmd.length; i++) {
      s.write(cmd.subarray(i, i + 1));
      if (i % 7 === 0) expect(await other.ping()).toBe('PONG'); // other clients' commands interleave
    }
    await waitFor(() => got === '+OK\r\n$10\r\n0123456789\r\n', { what: 'both replies' });
    s.destroy();
  });

  it('a shard connection that dies takes its clients with it; new clients work', async () => {
    const port = await endpoint('dies', { conns: 1 });
    const r = redis(port, { retryStrategy: () => null });
    await r.set('a', '1');
    const sock = await rawConnect(port);
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.write('PING\r\n'); // inline: pinned, on a connection of its own
    await waitFor(() => got === '+PONG\r\n', { what: 'PONG' });
    // Kill every shard connection except admin's own.
    await admin().call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(() => r.status === 'end', { what: 'client closed' });
    await closed(sock);
    const again = redis(port);
    expect(await again.get('a')).toBe('1');
  });
});

describe('authentication on shared connections', () => {
  it('clients of different users act as themselves, side by side', async () => {
    await setUsers(['alice', 'on', '>apw', '~a:*', '+@all'], ['bob', 'on', '>bpw', '~b:*', '+@all']);
    const port = await endpoint('users', { conns: 1 });
    const alice = redis(port, { username: 'alice', password: 'apw' });
    const bob = redis(port, { username: 'bob', password: 'bpw' });
    const anon = redis(port);
    for (let i = 0; i < 5; i++) {
      const [wa, wb, wn] = await Promise.all([alice.call('ACL', 'WHOAMI'), bob.call('ACL', 'WHOAMI'), anon.call('ACL', 'WHOAMI')]);
      expect([wa, wb, wn]).toEqual(['alice', 'bob', 'default']);
    }
    await expect(alice.set('b:1', 'x')).rejects.toThrow(/NOPERM/);
    expect(await alice.set('a:1', 'x')).toBe('OK');
    await expect(bob.get('a:1')).rejects.toThrow(/NOPERM/);
  });

  it('a wrong password is refused and leaves the client unauthenticated, whatever others did', async () => {
    await setUsers(['default', 'resetpass', '>dpw']);
    const port = await endpoint('wrongpw', { conns: 1 });
    const good = redis(port, { password: 'dpw' });
    expect(await good.set('k', 'v')).toBe('OK');
    // Same shared connection now acts for `default` with dpw; a stranger must not ride on it.
    const lines = await rawLines(port, 'GET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 2);
    expect(lines[0]).toMatch(/^-NOAUTH/);
    const lines2 = await rawLines(port, '*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 2);
    expect(lines2[0]).toMatch(/^-(WRONGPASS|ERR)/);
    expect(lines2[1]).toMatch(/^-NOAUTH/);
    const lines3 = await rawLines(port, '*2\r\n$4\r\nAUTH\r\n$3\r\ndpw\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 3);
    expect(lines3).toEqual(['+OK', '$1', 'v']);
  });

  it('after the default user gets a password, new anonymous clients are refused; old ones keep their session (as in Redis)', async () => {
    const port = await endpoint('newpw', { conns: 1 });
    const old = redis(port);
    expect(await old.set('k', 'v')).toBe('OK');
    await setUsers(['default', 'resetpass', '>now-secret']);
    const fresh = await rawLines(port, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 1);
    expect(fresh[0]).toMatch(/^-NOAUTH/);
    expect(await old.get('k')).toBe('v');
    const direct = await rawLines(shard.port, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 1);
    expect(direct[0]).toMatch(/^-NOAUTH/); // the same answer Redis gives a new direct client
  });

  it('a changed password no longer lets new clients in with the old one', async () => {
    const root = admin();
    await root.call('ACL', 'SETUSER', 'carol', 'on', '>old', '~*', '+@all');
    const port = await endpoint('rotate', { conns: 1 });
    const first = redis(port, { username: 'carol', password: 'old' });
    expect(await first.call('ACL', 'WHOAMI')).toBe('carol');
    await root.call('ACL', 'SETUSER', 'carol', 'resetpass', '>new');
    const lines = await rawLines(port, '*3\r\n$4\r\nAUTH\r\n$5\r\ncarol\r\n$3\r\nold\r\n*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n', 2);
    expect(lines[0]).toMatch(/^-WRONGPASS/);
    expect(lines[1]).toBe('$7'); // still `default` (nopass), not carol
    const ok = await rawLines(port, '*3\r\n$4\r\nAUTH\r\n$5\r\ncarol\r\n$3\r\nnew\r\n*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n', 3);
    expect(ok).toEqual(['+OK', '$5', 'carol']);
  });

  it('a deleted user is disconnected, as Redis does', async () => {
    const root = admin();
    await root.call('ACL', 'SETUSER', 'dave', 'on', '>dpw', '~*', '+@all');
    const port = await endpoint('deluser', { conns: 1 });
    const dave = redis(port, { username: 'dave', password: 'dpw', retryStrategy: () => null });
    expect(await dave.ping()).toBe('PONG');
    await root.call('ACL', 'DELUSER', 'dave');
    await waitFor(() => dave.status === 'end', { what: 'dave disconnected' });
  });
});

describe('commands that need a connection of their own', () => {
  it('MULTI/EXEC is isolated from other clients', async () => {
    const port = await endpoint('multi', { conns: 1 });
    const a = redis(port);
    const b = redis(port);
    await a.set('m', '0');
    await a.call('MULTI');
    await a.call('INCR', 'm');
    expect(await b.incr('m')).toBe(1); // b is not inside a's transaction
    expect(await a.call('EXEC')).toEqual([2]);
  });

  it('a blocking command blocks only its own client', async () => {
    const port = await endpoint('block', { conns: 1 });
    const a = redis(port);
    const b = redis(port);
    const popped = a.blpop('q', 5);
    for (let i = 0; i < 5; i++) expect(await b.ping()).toBe('PONG');
    await b.rpush('q', 'item');
    expect(await popped).toEqual(['q', 'item']);
  });

  it('a client that leaves while blocked is gone before a push sent after it left: nothing is popped for it', async () => {
    // Redis frees a blocked client when it reads its FIN; a push that reaches it first is popped for the
    // departed client, its reply written to nobody: the item is lost. Directly, the FIN is always first.
    const port = await endpoint('blockgone', { conns: 1 });
    /** Items lost of `n` pushed by a client of its own (`pinned`: moved there by CLIENT ID) or a multiplexed one. */
    const lost = async (to: number, n: number, pinned: boolean): Promise<number> => {
      const pusher = await rawConnect(to);
      let acks = '';
      pusher.on('data', (d) => (acks += d.toString()));
      if (pinned) {
        pusher.write('*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n');
        await waitFor(() => acks.endsWith('\r\n'), { what: 'CLIENT ID answered' });
        acks = '';
      }
      const a = admin();
      for (let i = 0; i < n; i++) {
        const key = `gone:${to}:${pinned}:${i}`;
        const s = await rawConnect(to);
        s.resume();
        s.write(`*3\r\n$5\r\nBLPOP\r\n$${key.length}\r\n${key}\r\n$1\r\n0\r\n`);
        await waitFor(async () => ((await a.call('CLIENT', 'LIST')) as string).includes('flags=b '), { what: 'BLPOP blocked' });
        // FIN (sent once end() calls back), and a push sent right after it by another client (multiplexed).
        await new Promise<void>((resolve) => s.end(resolve));
        pusher.write(`*3\r\n$5\r\nLPUSH\r\n$${key.length}\r\n${key}\r\n$1\r\nx\r\n`);
        await closed(s);
        await waitFor(async () => !((await a.call('CLIENT', 'LIST')) as string).includes('flags=b '), { what: 'BLPOP client gone' });
      }
      await waitFor(() => acks.split('\r\n').length > n, { what: 'pushes answered' });
      let missing = 0;
      for (let i = 0; i < n; i++) if ((await a.llen(`gone:${to}:${pinned}:${i}`)) === 0) missing++;
      a.disconnect();
      pusher.destroy();
      return missing;
    };
    expect(await lost(shard.port, 20, false)).toBe(0);
    expect(await lost(port, 20, true)).toBe(0);
    expect(await lost(port, 20, false)).toBe(0);
  });

  it('two clients of their own leaving at once: the command sent with a FIN is still answered', async () => {
    const port = await endpoint('finorder', { conns: 1 });
    const pinned = async () => {
      const s = await rawConnect(port);
      const c = { s, got: '' };
      s.on('data', (d) => (c.got += d.toString()));
      s.write('*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n');
      await waitFor(() => c.got.endsWith('\r\n'), { what: 'CLIENT ID answered' });
      c.got = '';
      return c;
    };
    for (let i = 0; i < 20; i++) {
      const [a, b] = [await pinned(), await pinned()];
      a.s.end();
      b.s.end('*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n');
      await Promise.all([closed(a.s), closed(b.s)]);
      expect(b.got).toBe('$2\r\nhi\r\n');
    }
  });

  it('pub/sub, SELECT and CLIENT SETNAME work per client', async () => {
    const port = await endpoint('state', { conns: 1 });
    const sub = redis(port);
    const pub = redis(port);
    const got: string[] = [];
    sub.on('message', (_ch, m) => got.push(m));
    await sub.subscribe('ch');
    await pub.publish('ch', 'hello');
    await waitFor(() => got.length === 1, { what: 'message' });
    const s1 = redis(port);
    await s1.select(1);
    await s1.set('db', 'one');
    expect(await pub.get('db')).toBeNull();
    // SELECT 0 does nothing (RS: one database per endpoint): answered by the proxy, the client stays multiplexed.
    const s0 = redis(port);
    expect(await s0.select(0)).toBe('OK');
    expect(await s0.get('db')).toBeNull();
    expect((await px.list()).find((e) => e.uid === 'state')!.shard_connections).toBe(1 + 2); // shared + sub + s1
    await s1.call('CLIENT', 'SETNAME', 'named');
    expect(await s1.call('CLIENT', 'GETNAME')).toBe('named');
    expect(await pub.call('CLIENT', 'GETNAME')).toBeNull();
  });

  it('CLIENT SETNAME/GETNAME are answered by the proxy: named clients (ioredis connectionName) stay multiplexed', async () => {
    const port = await endpoint('names', { conns: 1 });
    const named = Array.from({ length: 8 }, (_, i) => redis(port, { connectionName: `app-${i}` }));
    for (const [i, c] of named.entries()) {
      expect(await c.set(`n:${i}`, 'v')).toBe('OK');
      expect(await c.call('CLIENT', 'GETNAME')).toBe(`app-${i}`);
    }
    // Eight named clients, one shared shard connection: none was given a connection of its own.
    expect((await px.list()).find((e) => e.uid === 'names')!.shard_connections).toBe(1);
    // Redis's rules: no spaces or control characters; an empty name clears it.
    await expect(named[0]!.call('CLIENT', 'SETNAME', 'has space')).rejects.toThrow(/Client names cannot contain spaces/);
    expect(await named[0]!.call('CLIENT', 'GETNAME')).toBe('app-0');
    expect(await named[0]!.call('CLIENT', 'SETNAME', '')).toBe('OK');
    expect(await named[0]!.call('CLIENT', 'GETNAME')).toBeNull();
    // RESP3's null, in order with the other replies of a pipeline.
    const { text } = await exchange(port, '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n*1\r\n$4\r\nPING\r\n', /\+PONG\r\n/);
    expect(text).toMatch(/\r\n_\r\n\+PONG\r\n$/);
  });

  it('CLIENT MAINT_NOTIFICATIONS (redis-py 8, go-redis: on every connection) gets redis-server\'s answer and the client stays multiplexed', async () => {
    const port = await endpoint('maint', { conns: 1 });
    const clients = Array.from({ length: 6 }, () => redis(port));
    for (const [i, c] of clients.entries()) {
      await expect(c.call('CLIENT', 'MAINT_NOTIFICATIONS', 'ON', 'moving-endpoint-type', 'internal-fqdn')).rejects.toThrow(
        "ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.",
      );
      expect(await c.set(`m:${i}`, 'v')).toBe('OK');
    }
    expect((await px.list()).find((e) => e.uid === 'maint')!.shard_connections).toBe(1);
    // Byte for byte what redis-server says (the subcommand as the client spelled it), in order in a pipeline.
    const cmd = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;
    const direct = await exchange(shard.port, cmd('CLIENT', 'Maint_Notifications', 'on') + cmd('PING'), /PONG\r\n$/);
    const proxied = await exchange(port, cmd('CLIENT', 'Maint_Notifications', 'on') + cmd('PING'), /PONG\r\n$/);
    expect(proxied.text).toBe(direct.text);
    expect(proxied.text).toBe("-ERR unknown subcommand 'Maint_Notifications'. Try CLIENT HELP.\r\n+PONG\r\n");
  });

  it('HELLO ... SETNAME stays multiplexed; a named client moved to a connection of its own keeps its name', async () => {
    await setUsers(['nina', 'on', '>npw', '~*', '&*', '+@all']);
    const port = await endpoint('hellonames', { conns: 1 });
    const hello = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;
    // RESP3 with a name, RESP2 with credentials and a name (options in any order): both multiplexed.
    let r = await exchange(port, hello('HELLO', '3', 'SETNAME', 'svc-a') + hello('CLIENT', 'GETNAME'), /svc-a\r\n$/);
    expect(r.text).toMatch(/^%7\r\n[\s\S]*\$5\r\nsvc-a\r\n$/);
    r = await exchange(port, hello('HELLO', '2', 'SETNAME', 'svc-b', 'AUTH', 'nina', 'npw') + hello('ACL', 'WHOAMI') + hello('CLIENT', 'GETNAME'), /svc-b\r\n$/);
    expect(r.text).toMatch(/^\*14\r\n[\s\S]*\$4\r\nnina\r\n\$5\r\nsvc-b\r\n$/);
    // One shared connection per identity and protocol (default/RESP3, nina/RESP2): none of their own.
    expect((await px.list()).find((e) => e.uid === 'hellonames')!.shard_connections).toBe(2);
    // A name Redis refuses: Redis's answer, on a connection of the client's own.
    r = await exchange(port, hello('HELLO', '3', 'SETNAME', 'bad name'), /\r\n$/);
    expect(r.text).toMatch(/^-ERR Client names cannot contain spaces/);
    // Named by the proxy (CLIENT SETNAME, HELLO SETNAME), then moved (MULTI, SUBSCRIBE): the shard connection
    // of its own carries the name, with the client's identity and protocol.
    const named = redis(port, { connectionName: 'svc-c', username: 'nina', password: 'npw' });
    await named.call('MULTI');
    await named.call('CLIENT', 'GETNAME');
    expect(await named.call('EXEC')).toEqual(['svc-c']);
    r = await exchange(port, hello('HELLO', '3', 'SETNAME', 'svc-d') + hello('SUBSCRIBE', 'ch') + hello('CLIENT', 'GETNAME'), /svc-d\r\n$/);
    expect(r.text).toMatch(/>3\r\n[\s\S]*\$5\r\nsvc-d\r\n$/);
    // Before signing in, where Redis wants AUTH first: CLIENT SETNAME and SELECT 0 get Redis's NOAUTH (the
    // proxy answers them only for a client whose identity it checked), and the client goes on.
    await setUsers(['default', 'on', 'resetpass', '>dpw']);
    r = await exchange(port, hello('CLIENT', 'SETNAME', 'early') + hello('SELECT', '0') + hello('AUTH', 'dpw') + hello('PING'), /PONG\r\n$/);
    expect(r.text.split('\r\n').slice(0, 4)).toEqual(['-NOAUTH Authentication required.', '-NOAUTH Authentication required.', '+OK', '+PONG']);
    // Signed in first: answered by the proxy, multiplexed.
    r = await exchange(port, hello('AUTH', 'dpw') + hello('CLIENT', 'SETNAME', 'later') + hello('SELECT', '0') + hello('CLIENT', 'GETNAME'), /later\r\n$/);
    expect(r.text).toBe('+OK\r\n+OK\r\n+OK\r\n$5\r\nlater\r\n');
  });

  it('an authenticated client keeps its identity when it moves to a connection of its own', async () => {
    await setUsers(['erin', 'on', '>epw', '~*', '+@all']);
    const port = await endpoint('pinauth', { conns: 1 });
    const erin = redis(port, { username: 'erin', password: 'epw' });
    expect(await erin.call('ACL', 'WHOAMI')).toBe('erin');
    await erin.call('MULTI');
    await erin.call('ACL', 'WHOAMI');
    expect(await erin.call('EXEC')).toEqual(['erin']);
  });

  it('credentials with any bytes: a non-ASCII user keeps its identity; look-alike credentials do not share', async () => {
    await setUsers(['jösé', 'on', '>pw-ü', '~*', '+@all'], ['a:b', 'on', '>c', '~*', '+@all']);
    const port = await endpoint('bytes-creds', { conns: 1 });
    const jose = redis(port, { username: 'jösé', password: 'pw-ü' });
    expect(await jose.call('ACL', 'WHOAMI')).toBe('jösé');
    await jose.call('MULTI'); // pinned: the AUTH is replayed on a connection of its own
    await jose.call('ACL', 'WHOAMI');
    expect(await jose.call('EXEC')).toEqual(['jösé']);
    // "a:b"/"c" and "a"/"b:c" are different credentials, whatever the proxy's keys look like.
    const ab = redis(port, { username: 'a:b', password: 'c' });
    expect(await ab.call('ACL', 'WHOAMI')).toBe('a:b');
    const lines = await rawLines(port, '*3\r\n$4\r\nAUTH\r\n$1\r\na\r\n$3\r\nb:c\r\n*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n', 2);
    expect(lines[0]).toMatch(/^-WRONGPASS/);
    expect(lines[1]).toBe('$7'); // still default
  });

  it('inline commands, QUIT, and a FIN right after the commands', async () => {
    const port = await endpoint('inline');
    expect((await exchange(port, 'PING\r\nECHO hi\r\n', /hi\r\n$/)).text).toBe('+PONG\r\n$2\r\nhi\r\n');
    const q = await exchange(port, '*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n');
    expect(q).toEqual({ text: '+PONG\r\n+OK\r\n', closed: true });
    expect(await sendAndFin(port, '*3\r\n$3\r\nSET\r\n$3\r\nfin\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$3\r\nfin\r\n')).toBe('+OK\r\n$1\r\n1\r\n');
    // A FIN that arrives with commands which move the client to a connection of its own.
    expect(await sendAndFin(port, '*1\r\n$4\r\nPING\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nEXEC\r\n')).toBe('+PONG\r\n+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n');
    expect(await sendAndFin(port, 'PING\r\nECHO fin\r\n')).toBe('+PONG\r\n$3\r\nfin\r\n');
  });

  it('values over 1 MiB pass both ways', async () => {
    const port = await endpoint('big');
    const r = redis(port);
    const other = redis(port);
    const big = 'x'.repeat(3 * 1024 * 1024);
    const [setRes, ping] = await Promise.all([r.set('big', big), other.ping()]);
    expect([setRes, ping]).toEqual(['OK', 'PONG']);
    expect((await other.get('big'))!.length).toBe(big.length);
  });

  it('a protocol error gets Redis own answer and closes only that client', async () => {
    const port = await endpoint('proto');
    const keep = redis(port);
    await keep.set('p', '1');
    const bad = await exchange(port, '*1\r\n$4\r\nPING\r\n*x\r\n');
    expect(bad.text).toMatch(/^\+PONG\r\n-ERR Protocol error/);
    expect(bad.closed).toBe(true);
    // Lengths Redis does not read as numbers (a space, a sign it does not take) are answered at once too, as
    // Redis answers them: not held back waiting for the rest of a command that cannot come.
    for (const text of ['* 1\r\n', '*1\r\n$ 4\r\n', '*1 \r\n$4\r\n', '*1\r\n$4 \r\n']) {
      const direct = await exchange(shard.port, text);
      expect(direct.text, JSON.stringify(text)).toMatch(/^-ERR Protocol error/);
      expect(await exchange(port, text), JSON.stringify(text)).toEqual(direct);
    }
    expect(await keep.get('p')).toBe('1');
  });

  it('lengths Redis refuses (leading zeros, empty, -0, over 512 MiB) close only the client that sent them, with Redis\'s answer', async () => {
    // Redis reads lengths with string2ll: a refused one is a protocol error, and Redis closes the connection.
    // On a shared connection that would be every client bound there.
    const port = await endpoint('protolen', { conns: 1 });
    const keep = await rawConnect(port);
    let kept = '';
    keep.on('data', (d) => (kept += d.toString()));
    const ping = '*1\r\n$4\r\nPING\r\n';
    keep.write(ping);
    await waitFor(() => kept === '+PONG\r\n', { what: 'PONG' });
    for (const bad of ['*01\r\n$4\r\nPING\r\n', '*1\r\n$04\r\nPING\r\n', '*00\r\n', '*\r\n', '*-\r\n', '*-0\r\n', '*-01\r\n', '*1\r\n$\r\n\r\n', '*1\r\n$-0\r\nPING\r\n']) {
      const text = ping + bad + ping;
      const direct = await exchange(shard.port, text);
      expect(direct, JSON.stringify(bad)).toMatchObject({ text: expect.stringMatching(/^\+PONG\r\n-ERR Protocol error: invalid (multi)?bulk length\r\n$/), closed: true });
      expect(await exchange(port, text), JSON.stringify(bad)).toEqual(direct);
    }
    // A bulk over proto-max-bulk-len (512 MiB): Redis answers as soon as it reads the length.
    for (const bad of ['*1\r\n$600000000\r\n', '*2\r\n$3\r\nGET\r\n$536870913\r\n']) {
      const text = ping + bad;
      const direct = await exchange(shard.port, text);
      expect(direct, JSON.stringify(bad)).toMatchObject({ text: '+PONG\r\n-ERR Protocol error: invalid bulk length\r\n', closed: true });
      expect(await exchange(port, text), JSON.stringify(bad)).toEqual(direct);
    }
    // Lengths Redis takes: a negative or zero count is no command, a zero length an empty argument.
    const fine = `*-5\r\n*0\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n${ping}`;
    expect((await exchange(port, fine, /PONG\r\n$/)).text).toBe('$0\r\n\r\n+PONG\r\n');
    kept = '';
    keep.write(ping);
    await waitFor(() => kept === '+PONG\r\n', { what: 'PONG on the client that shared the connection' });
    keep.destroy();
  });

  it('HELLO 3 is refused when RESP3 is off, also after other commands', async () => {
    const port = await endpoint('noresp3', { resp3: false });
    const t = await exchange(port, '*1\r\n$4\r\nPING\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*1\r\n$4\r\nPING\r\n', /PONG\r\n.*PONG\r\n$/s);
    expect(t.text).toBe('+PONG\r\n-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    // On a connection of its own (after SELECT), too: Redis answers the HELLO 4 it is sent instead.
    const hello3 = '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n';
    const pinned = await exchange(port, `*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n${hello3}*1\r\n$4\r\nPING\r\n`, /PONG\r\n.*PONG\r\n$/s);
    expect(pinned.text).toBe('+OK\r\n+PONG\r\n-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    const c = await pinnedClient(port);
    c.s.write(hello3); // a read of its own on the pinned connection
    await waitFor(() => c.got.includes('NOPROTO'), { what: 'HELLO 3 refused' });
    c.s.destroy();
    // With RESP3 on, the same connection switches protocol.
    const on = await endpoint('resp3on');
    const r3 = await exchange(on, `*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n${hello3}`, /proto/);
    expect(r3.text).toMatch(/^\+OK\r\n%7\r\n/);
  });

  it('a pinned connection refuses HELLO 3 split across reads, inline, or with AUTH', async () => {
    const port = await endpoint('noresp3-split', { resp3: false });
    const c = await pinnedClient(port);
    // One byte per read: the proxy must not forward the start of the HELLO before it knows what it is.
    const hello3 = '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n';
    for (const ch of `${hello3}*1\r\n$4\r\nPING\r\n`) {
      c.s.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => c.got.endsWith('+PONG\r\n'), { what: 'PING after the split HELLO' });
    expect(c.got).toBe('+OK\r\n-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    c.got = '';
    c.s.write('hello 3\r\n*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$1\r\nx\r\nPING\r\n');
    await waitFor(() => c.got.endsWith('+PONG\r\n'), { what: 'PING after inline HELLO' });
    expect(c.got).toBe('-NOPROTO unsupported protocol version\r\n-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    // Quoted as Redis's inline parser reads it.
    c.got = '';
    c.s.write('HELLO "3"\r\n"HELLO" 3\r\nHELLO "\\x33"\r\nPING\r\n');
    await waitFor(() => c.got.endsWith('+PONG\r\n'), { what: 'PING after quoted HELLOs' });
    expect(c.got).toBe('-NOPROTO unsupported protocol version\r\n'.repeat(3) + '+PONG\r\n');
    // Other HELLOs and commands pass as sent: HELLO 2 is Redis's to answer.
    c.got = '';
    c.s.write('*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n');
    await waitFor(() => c.got.includes('proto'), { what: 'HELLO 2 answered' });
    expect(c.got).toMatch(/^\*14\r\n/);
    c.s.destroy();
  });

  it('a command held back as a possible HELLO still reaches the shard when the client half-closes', async () => {
    const port = await endpoint('held-fin', { resp3: false });
    // Pinned by SELECT; the last command is cut short: Redis gets its bytes, then the FIN.
    const text = await sendAndFin(port, '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGE');
    expect(text).toBe('+OK\r\n+PONG\r\n');
  });
});

describe('RESP3 clients (HELLO 3) are multiplexed too', () => {
  const hello3 = '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n';
  const getMissing = '*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n';
  const whoami = '*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n';

  /** A raw client: send, then collect until `until` matches the text received. */
  async function talk(port: number, text: string, until: RegExp): Promise<string> {
    return (await exchange(port, text, until)).text;
  }

  it('RESP3 and RESP2 clients share connections of their own protocol', async () => {
    const port = await endpoint('resp3mux', { conns: 1 });
    const before = await shardClients();
    const texts = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2
      ? talk(port, `${hello3}${getMissing}`, /_\r\n$/)
      : talk(port, getMissing, /\$-1\r\n$/))));
    for (let i = 0; i < 6; i++) {
      if (i % 2) expect(texts[i]).toMatch(/^%7\r\n[\s\S]*\r\n_\r\n$/); // a map, then RESP3's null
      else expect(texts[i]).toBe('$-1\r\n'); // RESP2's null
    }
    const info = (await px.list()).find((e) => e.uid === 'resp3mux')!;
    expect(info.shard_connections).toBeLessThanOrEqual(2); // one per protocol
    expect((await shardClients()) - before).toBeLessThanOrEqual(2);
  });

  it('HELLO 3 AUTH, AUTH after HELLO 3, and HELLO 3 after AUTH all act as the right user', async () => {
    await setUsers(['alice', 'on', '>apw', '~*', '+@all']);
    const port = await endpoint('resp3auth', { conns: 1 });
    const helloAuth = '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$3\r\napw\r\n';
    expect(await talk(port, `${helloAuth}${whoami}`, /alice\r\n$/)).toMatch(/^%7\r\n[\s\S]*\$5\r\nalice\r\n$/);
    const auth = '*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$3\r\napw\r\n';
    expect(await talk(port, `${hello3}${auth}${whoami}${getMissing}`, /_\r\n$/)).toMatch(/\r\n\+OK\r\n\$5\r\nalice\r\n_\r\n$/);
    expect(await talk(port, `${auth}${hello3}${whoami}${getMissing}`, /_\r\n$/)).toMatch(/^\+OK\r\n%7\r\n[\s\S]*\$5\r\nalice\r\n_\r\n$/);
    // Wrong credentials in HELLO: Redis's refusal, and the client stays what it was (RESP2 default).
    const bad = '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$5\r\nwrong\r\n';
    expect(await talk(port, `${bad}${whoami}${getMissing}`, /-1\r\n$/)).toMatch(/^-WRONGPASS[^\r]*\r\n\$7\r\ndefault\r\n\$-1\r\n$/);
  });

  it('a RESP3 client\'s AUTH <password> gets Redis\'s answer: refused while the default user has no password', async () => {
    const port = await endpoint('resp3auth1', { conns: 1 });
    const auth1 = (pw: string) => `*2\r\n$4\r\nAUTH\r\n$${pw.length}\r\n${pw}\r\n`;
    /** The replies after HELLO 3's map, through the endpoint and directly. */
    const both = async (text: string, until: RegExp) => {
      const strip = (t: string) => t.replace(/^%7\r\n[\s\S]*?\$7\r\nmodules\r\n\*0\r\n/, '');
      return [strip(await talk(port, text, until)), strip(await talk(shard.port, text, until))];
    };
    // Passwordless default user: Redis refuses the one-argument AUTH (whatever the password), the client stays as it was.
    const [via, direct] = await both(`${hello3}${auth1('anything')}${whoami}${getMissing}`, /_\r\n$/);
    expect(direct).toMatch(/^-ERR AUTH <password> called without any password configured/);
    expect(via).toBe(direct);
    // With a password: the right one signs in, a wrong one is refused.
    await setUsers(['default', 'resetpass', '>dpw']);
    const helloAuth = '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$3\r\ndpw\r\n';
    const [via2, direct2] = await both(`${helloAuth}${auth1('dpw')}${auth1('nope')}${whoami}${getMissing}`, /_\r\n$/);
    expect(direct2).toMatch(/^\+OK\r\n-WRONGPASS/);
    expect(via2).toBe(direct2);
  });

  it('an anonymous HELLO 3 is refused as Redis refuses it when the default user has a password', async () => {
    await setUsers(['default', 'resetpass', '>dpw']);
    const port = await endpoint('resp3noauth', { conns: 1 });
    const via = await exchange(port, hello3, /\r\n$/);
    const direct = await exchange(shard.port, hello3, /\r\n$/);
    expect(via.text).toMatch(/^-NOAUTH/);
    expect(via.text).toBe(direct.text);
  });

  it('a RESP3 client that moves to a connection of its own keeps its protocol and user', async () => {
    await setUsers(['erin', 'on', '>epw', '~*', '+@all']);
    const port = await endpoint('resp3pin', { conns: 1 });
    const helloAuth = '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$4\r\nerin\r\n$3\r\nepw\r\n';
    const tx = '*1\r\n$5\r\nMULTI\r\n' + whoami + getMissing + '*1\r\n$4\r\nEXEC\r\n';
    const text = await talk(port, `${helloAuth}${tx}`, /_\r\n$/);
    expect(text).toMatch(/\r\n\+OK\r\n\+QUEUED\r\n\+QUEUED\r\n\*2\r\n\$4\r\nerin\r\n_\r\n$/);
  });

  it('turning RESP3 off drops the multiplexed RESP3 clients, not the RESP2 ones', async () => {
    const port = await endpoint('resp3off', { conns: 1 });
    const r2 = redis(port);
    expect(await r2.ping()).toBe('PONG');
    const s = await rawConnect(port);
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.write(`${hello3}${getMissing}`);
    await waitFor(() => got.endsWith('_\r\n'), { what: 'RESP3 reply' });
    const info = (await px.list()).find((e) => e.uid === 'resp3off')!;
    await px.setEndpoint({ uid: 'resp3off', port: info.port, addr: '127.0.0.1', target: info.target, conns: 1, resp3: false });
    await closed(s);
    expect(await r2.ping()).toBe('PONG');
  });

  it('turning RESP3 off drops a pinned client that switched to RESP3 after its first command', async () => {
    const port = await endpoint('resp3off-pinned', { conns: 1 });
    const r2 = redis(port);
    expect(await r2.ping()).toBe('PONG');
    const c = await pinnedClient(port);
    c.s.write(`${hello3}${getMissing}`);
    await waitFor(() => c.got.endsWith('_\r\n'), { what: 'RESP3 reply' });
    // A pinned RESP2 client stays.
    const p2 = await pinnedClient(port);
    const info = (await px.list()).find((e) => e.uid === 'resp3off-pinned')!;
    await px.setEndpoint({ uid: 'resp3off-pinned', port: info.port, addr: '127.0.0.1', target: info.target, conns: 1, resp3: false });
    await closed(c.s);
    expect(await r2.ping()).toBe('PONG');
    p2.s.write(getMissing);
    await waitFor(() => p2.got.endsWith('$-1\r\n'), { what: 'pinned RESP2 client still served' });
    p2.s.destroy();
  });
});

describe('a raw socket', () => {
  it('sees replies as Redis would send them (byte for byte)', async () => {
    const port = await endpoint('bytes');
    const payload = '*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$3\r\nabc\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nb\r\n*1\r\n$4\r\nQUIT\r\n';
    const via = await exchange(port, payload);
    const direct = await exchange(shard.port, payload);
    expect(via).toEqual(direct);
  });
});
