/**
 * WAIT through the endpoint. Redis waits for the replication offset of the last write made on the
 * client's own connection (`c->woff`); a multiplexed client's writes went over a shared connection,
 * and WAIT moves it to a connection of its own. That connection must still wait for those writes: a
 * WAIT that answers at once "1 replica has it" for a write no replica acknowledged breaks the one
 * guarantee WAIT gives. Real proxy, a real master and its replica; the replica is stopped (SIGSTOP)
 * so that it acknowledges nothing, and a direct connection to the master is the reference.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { killAll, redis, startProxy, startRedis, tempDir, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let master: RedisTarget;
let replica: RedisTarget;
let port: number;

const resp = (...args: string[]) => `*${args.length}\r\n${args.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;

beforeAll(async () => {
  master = await startRedis(['--repl-diskless-sync-delay', '0', '--dir', tempDir()]);
  replica = await startRedis(['--repl-diskless-sync-delay', '0', '--dir', tempDir()]);
  await redis(master.port).call('ACL', 'SETUSER', 'app', 'on', '>apppw', '~*', '&*', '+@all');
  const r = redis(replica.port);
  await r.call('REPLICAOF', '127.0.0.1', String(master.port));
  await waitFor(async () => /master_link_status:up/.test(await r.info('replication')), { what: 'replica in sync' });
  const m = redis(master.port);
  await waitFor(async () => /slave0:.*state=online/.test(await m.info('replication')), { what: 'replica online at the master' });
  ({ px } = await startProxy());
  port = await freePort();
  const info = await px.setEndpoint({ uid: 'w', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: master.port } });
  expect(info.listening).toBe(true);
}, 30_000);
afterAll(killAll);
afterEach(() => {
  replica.child.kill('SIGCONT');
});

/** A raw connection: `send` one command and wait for its reply (one line per reply in these tests). */
async function conn(to: number) {
  const s = net.connect(to, '127.0.0.1');
  await new Promise((resolve) => s.once('connect', resolve));
  let text = '';
  let want: (() => void) | null = null;
  s.on('data', (d) => {
    text += d.toString();
    want?.();
  });
  return {
    /** The reply to `args`, and how long it took. */
    async send(...args: string[]): Promise<{ reply: string; ms: number }> {
      const t = performance.now();
      text = '';
      s.write(resp(...args));
      await new Promise<void>((resolve) => {
        want = () => {
          if (text.endsWith('\r\n')) resolve();
        };
      });
      return { reply: text, ms: performance.now() - t };
    },
    close: () => s.destroy(),
  };
}

/** WAIT 1 300 after the commands `before` (each sent alone and answered), on `to`. */
async function waitAfter(to: number, before: string[][]): Promise<{ reply: string; ms: number }> {
  const c = await conn(to);
  for (const args of before) await c.send(...args);
  const r = await c.send('WAIT', '1', '300');
  c.close();
  return r;
}

async function spublishCalls(): Promise<number> {
  const stats = await redis(master.port).info('commandstats');
  return Number(/cmdstat_spublish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('WAIT after writes made while multiplexed', () => {
  it('waits for them, as on a direct connection', async () => {
    replica.child.kill('SIGSTOP');
    const direct = await waitAfter(master.port, [['SET', 'k', 'direct']]);
    expect(direct.reply).toBe(':0\r\n');
    const proxied = await waitAfter(port, [['SET', 'k', 'proxied']]);
    expect(proxied.reply).toBe(':0\r\n');
    expect(proxied.ms).toBeGreaterThanOrEqual(250);
  });

  it('also as a user of its own, and when the client moved to a connection of its own before the WAIT', async () => {
    replica.child.kill('SIGSTOP');
    const user = await waitAfter(port, [['AUTH', 'app', 'apppw'], ['SET', 'k', 'app']]);
    expect(user.reply).toBe(':0\r\n');
    // The BLPOP (nothing to pop) moves the client to a connection of its own; the SET was made before.
    const moved = await waitAfter(port, [['SET', 'k', 'v'], ['BLPOP', 'nothing', '0.01']]);
    expect(moved.reply).toBe(':0\r\n');
    expect(moved.ms).toBeGreaterThanOrEqual(250);
  });

  it('a RESP3 client too; a user who may not publish is served as before, without a reply of the proxy\'s', async () => {
    await redis(master.port).call('ACL', 'SETUSER', 'nopub', 'on', '>nopubpw', '~*', 'resetchannels', '+@all');
    replica.child.kill('SIGSTOP');
    const c = await conn(port);
    expect((await c.send('HELLO', '3')).reply).toMatch(/^%7/);
    await c.send('SET', 'k', 'resp3');
    expect(await c.send('WAIT', '1', '300')).toMatchObject({ reply: ':0\r\n' });
    c.close();
    const d = await conn(port);
    expect((await d.send('AUTH', 'nopub', 'nopubpw')).reply).toBe('+OK\r\n');
    await d.send('SET', 'k', 'nopub');
    expect((await d.send('WAIT', '1', '100')).reply).toMatch(/^:\d\r\n$/);
    expect((await d.send('GET', 'k')).reply).toBe('$5\r\nnopub\r\n');
    d.close();
  });

  it('with the replica running, WAIT counts it', async () => {
    const r = await waitAfter(port, [['SET', 'k', 'v']]);
    expect(r.reply).toBe(':1\r\n');
  });

  it('a client that wrote nothing on a shared connection moves to a connection of its own without a command of the proxy', async () => {
    const before = await spublishCalls();
    const c = await conn(port);
    await c.send('CLIENT', 'SETINFO', 'LIB-NAME', 'x'); // what client libraries send first (an error before Redis 7.2)
    expect((await c.send('MULTI')).reply).toBe('+OK\r\n');
    expect((await c.send('EXEC')).reply).toBe('*0\r\n');
    c.close();
    expect(await spublishCalls()).toBe(before);
  });
});
