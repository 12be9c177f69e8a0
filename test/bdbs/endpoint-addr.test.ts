/**
 * endpoints[].addr is where clients can reach the database: the proxy listens on the node's
 * listen address (--api-addr), so a specific listen address is advertised as is, and only a
 * node listening on every interface advertises the node's own address.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createBdb } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { endpointAddr } from '../../src/services/bdb-view.js';

const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.close();
});

async function pingThrough(addr: string, port: number): Promise<string> {
  const c = new Redis({ host: addr, port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null }).on('error', () => undefined);
  try {
    await c.connect();
    return await c.ping();
  } finally {
    c.disconnect();
  }
}

describe('endpoints[].addr', () => {
  it('a node listening on 127.0.0.1 advertises 127.0.0.1, where the endpoint answers', async () => {
    const t = await startTestNode({ env: { OPENRS_API_ADDR: '127.0.0.1' } });
    nodes.push(t);
    const bdb = await createBdb(t, { name: 'db-loopback' });
    const [ep] = bdb.endpoints;
    expect(ep.addr).toEqual(['127.0.0.1']);
    // The rest of the endpoint is as in the capture bdb_single.json.
    expect(ep).toMatchObject({ addr_type: 'external', dns_name: `redis-${ep.port}.cluster.test.local`, uid: `${bdb.uid}:1` });
    expect(await pingThrough(ep.addr[0], ep.port)).toBe('PONG');
  });

  it('a node listening on every interface advertises the node address', async () => {
    const t = await startTestNode({ env: { OPENRS_API_ADDR: '0.0.0.0' } });
    nodes.push(t);
    const nodeAddr = (await t.req('GET', '/v1/nodes/1')).json.addr as string;
    const bdb = await createBdb(t, { name: 'db-any' });
    const [ep] = bdb.endpoints;
    expect(ep.addr).toEqual([nodeAddr]);
    expect(ep.dns_name).toBe(`redis-${ep.port}.cluster.test.local`);
    expect(await pingThrough(nodeAddr, ep.port)).toBe('PONG');
  });

  it('endpointAddr: unspecified addresses fall back to the node address', () => {
    expect(endpointAddr('0.0.0.0', '192.0.2.2')).toBe('192.0.2.2');
    expect(endpointAddr('::', '192.0.2.2')).toBe('192.0.2.2');
    expect(endpointAddr('0:0:0:0:0:0:0:0', '192.0.2.2')).toBe('192.0.2.2');
    expect(endpointAddr('127.0.0.1', '192.0.2.2')).toBe('127.0.0.1');
    expect(endpointAddr('::1', '192.0.2.2')).toBe('::1');
    expect(endpointAddr('192.0.2.7', '192.0.2.2')).toBe('192.0.2.7');
  });
});
