/** The two places the proxy speaks for itself: HELLO 3 on a RESP2-only endpoint, and `probe`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { closed, exchange, killAll, rawConnect, startProxy, startRedis, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let a: RedisTarget;
beforeAll(async () => {
  a = await startRedis();
  ({ px } = await startProxy());
});
afterAll(killAll);

const HELLO3 = '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n';

describe('resp3', () => {
  it('resp3: false answers HELLO 3 with -NOPROTO and forwards everything else', async () => {
    const port = await freePort();
    const info = await px.setEndpoint({ uid: 'r2', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port }, resp3: false });
    expect(info.resp3).toBe(false);
    expect(await exchange(port, `${HELLO3}PING\r\n`, /PONG\r\n/)).toEqual({ text: '-NOPROTO unsupported protocol version\r\n+PONG\r\n', closed: false });
    expect(await exchange(port, 'HELLO 3\r\nPING\r\n', /PONG\r\n/)).toEqual({ text: '-NOPROTO unsupported protocol version\r\n+PONG\r\n', closed: false });
    expect(await exchange(port, '"HELLO" \'3\'\r\nPING\r\n', /PONG\r\n/)).toEqual({ text: '-NOPROTO unsupported protocol version\r\n+PONG\r\n', closed: false });
    // HELLO 2 goes to the shard, which answers with its RESP2 server info.
    const r = await exchange(port, '*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n', /proto\r\n:2\r\n/);
    expect(r.text.startsWith('*')).toBe(true);
  });

  it('by default HELLO 3 reaches the shard; switching resp3 off drops only the RESP3 connections', async () => {
    const port = await freePort();
    const spec = { uid: 'r3', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } };
    expect((await px.setEndpoint(spec)).resp3).toBe(true);
    const v3 = await rawConnect(port);
    const v2 = await rawConnect(port);
    let got3 = '';
    let got2 = '';
    v3.on('data', (d) => (got3 += d.toString()));
    v2.on('data', (d) => (got2 += d.toString()));
    v3.write(HELLO3);
    v2.write('PING\r\n');
    await expect.poll(() => got3.startsWith('%')).toBe(true); // a RESP3 map
    await expect.poll(() => got2).toBe('+PONG\r\n');
    const v3Closed = closed(v3);
    await px.setEndpoint({ ...spec, resp3: false });
    await v3Closed;
    v2.write('PING\r\n');
    await expect.poll(() => got2).toBe('+PONG\r\n+PONG\r\n');
    v2.destroy();
  });
});

describe('probe', () => {
  it('reports the listener and whether the target answers PING', async () => {
    const port = await freePort();
    await px.setEndpoint({ uid: 'p', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } });
    expect(await px.probe('p')).toEqual({ uid: 'p', listening: true, target_reachable: true, reply: '+PONG' });
    await px.setTarget('p', { host: '127.0.0.1', port: await freePort() });
    expect(await px.probe('p')).toMatchObject({ uid: 'p', listening: true, target_reachable: false });
    await expect(px.probe('nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});
