/**
 * Endpoint protocol settings enforced by the proxy: resp3 (HELLO 3 refused with -NOPROTO when
 * false; RESP3 connections dropped when it is switched off) and max_connections.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb, waitStatus } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const cmd = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** A raw connection that collects what it receives. */
async function raw(port: number): Promise<{ sock: net.Socket; text: () => string; closed: () => boolean; waitFor: (re: RegExp) => Promise<string> }> {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  sock.on('data', (d) => (text += d.toString('latin1')));
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  return {
    sock, text: () => text, closed: () => closed,
    waitFor: (re) => waitFor(() => (re.test(text) ? text : undefined), { what: `reply matching ${re}`, timeoutMs: 5000 }),
  };
}

describe('resp3', () => {
  it('false: HELLO 3 gets -NOPROTO from the proxy, pipelined commands after it still run; HELLO 2 passes', async () => {
    const bdb = await createBdb(t, { name: 'db-resp2', resp3: false });
    const port = bdb.endpoints[0].port;
    const c = await raw(port);
    c.sock.write(cmd('HELLO', '3') + cmd('PING'));
    expect(await c.waitFor(/\+PONG\r\n/)).toBe('-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    c.sock.destroy();

    // Inline form, split over two writes.
    const inline = await raw(port);
    inline.sock.write('hel');
    inline.sock.write('lo 3\r\nPING\r\n');
    expect(await inline.waitFor(/\+PONG\r\n/)).toBe('-NOPROTO unsupported protocol version\r\n+PONG\r\n');
    inline.sock.destroy();

    const two = await raw(port);
    two.sock.write(cmd('HELLO', '2'));
    expect(await two.waitFor(/proto/)).toMatch(/^\*14\r\n/); // RESP2 array reply from Redis itself
    two.sock.destroy();
  });

  it('true (default): HELLO 3 reaches Redis; switching resp3 off drops the RESP3 connections only', async () => {
    const bdb = await createBdb(t, { name: 'db-resp3' });
    const port = bdb.endpoints[0].port;
    const r3 = await raw(port);
    r3.sock.write(cmd('HELLO', '3'));
    expect(await r3.waitFor(/proto/)).toMatch(/^%7\r\n/); // a RESP3 map
    const r2 = client(port);
    await r2.connect();
    expect(await r2.ping()).toBe('PONG');

    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { resp3: false } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(() => r3.closed(), { what: 'RESP3 connection dropped' });
    expect(await r2.ping()).toBe('PONG');
    r2.disconnect();
    const again = await raw(port);
    again.sock.write(cmd('HELLO', '3'));
    expect(await again.waitFor(/NOPROTO/)).toMatch(/^-NOPROTO/);
    again.sock.destroy();
  });
});

describe('max_connections', () => {
  it('refuses connections beyond the limit; a freed slot is usable again', async () => {
    const bdb = await createBdb(t, { name: 'db-maxconn', max_connections: 2 });
    const port = bdb.endpoints[0].port;
    const a = client(port);
    const b = client(port);
    await a.connect();
    await b.connect();
    expect(await a.ping()).toBe('PONG');
    expect(await b.ping()).toBe('PONG');
    const c = await raw(port);
    c.sock.write(cmd('PING'));
    await waitFor(() => c.closed(), { what: 'third connection refused' });
    expect(c.text()).toBe('');

    a.disconnect();
    await waitFor(async () => {
      const d = client(port);
      try {
        await d.connect();
        return (await d.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        d.disconnect();
      }
    }, { what: 'a freed slot' });
    b.disconnect();

    // Raised to unlimited (0): many at once.
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { max_connections: 0 } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    const many = Array.from({ length: 5 }, () => client(port));
    await Promise.all(many.map((m) => m.connect()));
    expect(await Promise.all(many.map((m) => m.ping()))).toEqual(Array(5).fill('PONG'));
    many.forEach((m) => m.disconnect());
  });
});
