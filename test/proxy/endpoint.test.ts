/**
 * The data plane: one proxy process, real redis-server targets, real clients (ioredis and raw
 * sockets) through the endpoint ports.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { closed, exchange, killAll, rawConnect, redis, sendAndFin, startProxy, startRedis, tempDir, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let a: RedisTarget;
let b: RedisTarget;

beforeAll(async () => {
  [a, b] = await Promise.all([startRedis(), startRedis()]);
  const started = await startProxy();
  px = started.px;
  expect(started.adopted).toBe(false);
  await redis(a.port).set('where', 'A');
  await redis(b.port).set('where', 'B');
});
afterAll(killAll);

/** A new endpoint on a free port, targeting `target`. */
async function endpoint(uid: string, target: RedisTarget, extra: Record<string, unknown> = {}) {
  const port = await freePort();
  const info = await px.setEndpoint({ uid, port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: target.port }, ...extra });
  expect(info.listening).toBe(true);
  return port;
}

async function proxyAlive() {
  expect((await px.ping()).pid).toBeGreaterThan(0);
}

describe('piping', () => {
  it('SET and GET through the endpoint, counted in stats', async () => {
    const port = await endpoint('basic', a);
    const r = redis(port);
    expect(await r.set('k1', 'v1')).toBe('OK');
    expect(await r.get('k1')).toBe('v1');
    expect(await redis(a.port).get('k1')).toBe('v1');
    const s = (await px.stats('basic')).basic!;
    expect(s.total_connections).toBe(1);
    expect(s.current_connections).toBe(1);
    expect(s.bytes_in).toBeGreaterThan(20);
    expect(s.bytes_out).toBeGreaterThan(5);
    r.disconnect();
    await waitFor(async () => (await px.stats('basic')).basic!.current_connections === 0, { what: 'connection released' });
  });

  it('requests and their latency are measured at the proxy, by command and class', async () => {
    const port = await endpoint('counted', a);
    const r = redis(port);
    const N = 30;
    const M = 20;
    for (let i = 0; i < M; i++) await r.set(`c${i}`, 'v');
    const p = r.pipeline();
    for (let i = 0; i < N; i++) p.get(`c${i}`);
    await p.exec();
    // A subscriber's replies are not 1:1: counted, not timed.
    const sub = redis(port);
    await sub.subscribe('ch');
    await r.publish('ch', 'hi');
    await waitFor(async () => (await px.stats('counted')).counted!.commands?.publish?.[0] === 1, { what: 'publish counted' });
    const s = (await px.stats('counted', { get: 'read', set: 'write' })).counted!;
    expect(s.commands!.get![0]).toBe(N);
    expect(s.commands!.get![1]).toBe(N);
    expect(s.commands!.set![0]).toBe(M);
    expect(s.commands!.set![1]).toBe(M);
    expect(s.commands!.subscribe![0]).toBe(1);
    expect(s.commands!.subscribe![1]).toBe(0);
    expect(s.read_req).toBe(N);
    expect(s.write_req).toBe(M);
    expect(s.read_res).toBe(N);
    expect(s.write_res).toBe(M);
    expect(s.total_req).toBe(N + M + s.other_req!);
    expect(s.other_req).toBeGreaterThanOrEqual(2); // subscribe, publish, and ioredis' own (INFO ...)
    expect(s.read_latency_us_sum).toBeGreaterThan(0);
    expect(s.write_latency_us_sum).toBeGreaterThan(0);
    sub.disconnect();
    r.disconnect();
  });

  it('50 concurrent clients with pipelining get their own answers', async () => {
    const port = await endpoint('many', a);
    const clients = Array.from({ length: 50 }, () => redis(port));
    await Promise.all(
      clients.map(async (c, i) => {
        const p = c.pipeline();
        for (let j = 0; j < 200; j++) p.set(`c${i}:${j}`, `${i}-${j}`).get(`c${i}:${j}`).incr('shared');
        const res = (await p.exec())!;
        for (let j = 0; j < 200; j++) {
          expect(res[j * 3]).toEqual([null, 'OK']);
          expect(res[j * 3 + 1]).toEqual([null, `${i}-${j}`]);
        }
      }),
    );
    expect(await redis(a.port).get('shared')).toBe(String(50 * 200));
    expect((await px.stats('many')).many!.current_connections).toBe(50);
    for (const c of clients) c.disconnect();
  });

  it('large values pass in both directions (backpressure)', async () => {
    const port = await endpoint('large', a);
    const r = redis(port);
    const big = randomBytes(8 * 1024 * 1024).toString('base64');
    expect(await r.set('big', big)).toBe('OK');
    const p = r.pipeline();
    for (let i = 0; i < 8; i++) p.get('big');
    const res = (await p.exec())!;
    for (const [err, v] of res) {
      expect(err).toBeNull();
      expect(v === big).toBe(true);
    }
  });

  it('half-close: a client that sends its command and FIN still gets the reply', async () => {
    const port = await endpoint('halfclose', a);
    expect(await sendAndFin(port, 'PING\r\nECHO hello\r\n')).toBe('+PONG\r\n$5\r\nhello\r\n');
  });

  it('a local shard can be reached over its unix socket', async () => {
    const sock = `${tempDir()}/redis.sock`;
    const c = await startRedis(['--unixsocket', sock]);
    await redis(c.port).set('where', 'C');
    const port = await freePort();
    const info = await px.setEndpoint({ uid: 'unix', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: c.port, socket: sock } });
    expect(info.target).toEqual({ host: '127.0.0.1', port: c.port, socket: sock });
    const r = redis(port);
    expect(await r.get('where')).toBe('C');
    // Moving to a TCP target is a target change: the unix connection is dropped, the client reconnects.
    await px.setTarget('unix', { host: '127.0.0.1', port: a.port });
    await waitFor(async () => (await r.get('where')) === 'A', { what: 'client on the TCP target' });
  });

  it('an unreachable target closes the client connection; the proxy stays up', async () => {
    const dead = await freePort();
    const port = await freePort();
    await px.setEndpoint({ uid: 'dead', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: dead } });
    const r = await exchange(port, 'PING\r\n');
    expect(r).toEqual({ text: '', closed: true });
    await proxyAlive();
  });

  it('garbage bytes and abrupt resets from clients do not hurt the proxy', async () => {
    const port = await endpoint('garbage', a);
    const r = await exchange(port, randomBytes(256 * 1024));
    expect(r.closed).toBe(true); // redis-server drops a client after a protocol error
    for (let i = 0; i < 20; i++) {
      const s = await rawConnect(port);
      s.write(randomBytes(1000));
      s.resetAndDestroy();
    }
    await proxyAlive();
    expect(await redis(port).ping()).toBe('PONG');
  });
});

describe('admission and traffic control', () => {
  it('max_connections: extra connections are closed at once and counted as refused', async () => {
    const port = await endpoint('max', a, { max_connections: 2 });
    const c1 = redis(port);
    const c2 = redis(port);
    expect(await c1.ping()).toBe('PONG');
    expect(await c2.ping()).toBe('PONG');
    expect(await exchange(port, 'PING\r\n')).toEqual({ text: '', closed: true });
    expect((await px.stats('max')).max).toMatchObject({ current_connections: 2, refused_connections: 1, total_connections: 2 });
    c1.disconnect();
    await waitFor(async () => (await px.stats('max')).max!.current_connections === 1);
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    expect(await c2.ping()).toBe('PONG');
  });

  it('stop_traffic drops open clients and refuses new ones; resume_traffic restores', async () => {
    const port = await endpoint('stop', a);
    const open = await rawConnect(port);
    const gone = closed(open);
    const auto = redis(port); // ioredis reconnects on its own
    expect(await auto.ping()).toBe('PONG');

    expect((await px.stopTraffic('stop')).traffic).toBe('off');
    await gone;
    expect(await exchange(port, 'PING\r\n')).toEqual({ text: '', closed: true });
    expect((await px.stats('stop')).stop!.refused_connections).toBeGreaterThan(0);

    expect((await px.resumeTraffic('stop')).traffic).toBe('on');
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    expect(await auto.ping()).toBe('PONG');
  });

  it('set_endpoint without traffic keeps a stopped endpoint stopped', async () => {
    const port = await endpoint('keepoff', a);
    await px.stopTraffic('keepoff');
    const info = await px.setEndpoint({ uid: 'keepoff', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } });
    expect(info.traffic).toBe('off');
    expect(await exchange(port, 'PING\r\n')).toEqual({ text: '', closed: true });
  });

  it('set_target: open connections are closed, a reconnecting client reaches the new master', async () => {
    const port = await endpoint('failover', a);
    const r = redis(port);
    expect(await r.get('where')).toBe('A');
    const raw = await rawConnect(port);
    const rawGone = closed(raw);

    const info = await px.setTarget('failover', { host: '127.0.0.1', port: b.port });
    expect(info.target.port).toBe(b.port);
    await rawGone;
    await waitFor(async () => (await r.get('where')) === 'B', { what: 'client on the new target' });
    expect(await exchange(port, 'GET where\r\n', /\r\n.*\r\n/)).toEqual({ text: '$1\r\nB\r\n', closed: false });
  });

  it('re-sending the same spec is a no-op: open connections survive', async () => {
    const port = await endpoint('idem', a);
    const r = redis(port);
    const id = await r.client('ID');
    await px.setEndpoint({ uid: 'idem', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } });
    await px.setTarget('idem', { host: '127.0.0.1', port: a.port });
    expect(await r.client('ID')).toBe(id);
  });
});

describe('ports', () => {
  it('changing the port re-binds; open connections stay', async () => {
    const oldPort = await endpoint('move', a);
    const r = redis(oldPort, { retryStrategy: () => null });
    expect(await r.ping()).toBe('PONG');
    const newPort = await freePort();
    const info = await px.setEndpoint({ uid: 'move', port: newPort, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } });
    expect(info.port).toBe(newPort);
    expect(await exchange(newPort, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    await expect(rawConnect(oldPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await r.ping()).toBe('PONG');
  });

  it('EADDRINUSE is an error response; nothing changes and the proxy stays up', async () => {
    const busy = net.createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const target = { host: '127.0.0.1', port: a.port };
      await expect(px.setEndpoint({ uid: 'taken', port: busyPort, addr: '127.0.0.1', target })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect((await px.list()).find((e) => e.uid === 'taken')).toBeUndefined();

      const port = await endpoint('stay', a);
      await expect(px.setEndpoint({ uid: 'stay', port: busyPort, addr: '127.0.0.1', target })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect((await px.list()).find((e) => e.uid === 'stay')).toMatchObject({ port, listening: true });
      expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    } finally {
      busy.close();
    }
    await proxyAlive();
  });

  it('remove_endpoint closes the port and the connections; removing again is a no-op', async () => {
    const port = await endpoint('gone', a);
    const s = await rawConnect(port);
    const gone = closed(s);
    expect(await px.removeEndpoint('gone')).toEqual({ removed: true });
    await gone;
    await expect(rawConnect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await px.removeEndpoint('gone')).toEqual({ removed: false });
    expect((await px.list()).map((e) => e.uid)).not.toContain('gone');
  });

  it('invalid arguments and unknown endpoints are error responses', async () => {
    await expect(px.setTarget('nope', { host: '127.0.0.1', port: a.port })).rejects.toMatchObject({ code: 'not_found' });
    await expect(px.setEndpoint({ uid: 'bad', port: 70000, target: { host: 'x', port: 1 } })).rejects.toMatchObject({ code: 'invalid_args' });
    await proxyAlive();
  });
});
