/**
 * Database TLS through the proxy: the endpoint presents the cluster's `proxy` certificate, may
 * require client certificates (authentication_ssl_client_certs), follows a rotation of the proxy
 * certificate, and goes back to plain TCP when TLS is switched off. Real ioredis clients.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import { client, createBdb, waitStatus } from '../helpers/bdb.js';
import { peerCert } from '../helpers/certs.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
let appCert: { certificate: string; key: string };
let stranger: { certificate: string; key: string };
beforeAll(async () => {
  [t, appCert, stranger] = await Promise.all([
    startTestNode(),
    generateSelfSigned({ commonName: 'app-client', altNames: ['app-client'] }),
    generateSelfSigned({ commonName: 'stranger', altNames: ['stranger'] }),
  ]);
});
afterAll(async () => {
  await t?.close();
});

function tlsClient(port: number, opts: tls.ConnectionOptions = {}, extra: RedisOptions = {}): Redis {
  return new Redis({
    host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
    tls: { rejectUnauthorized: false, ...opts }, ...extra,
  }).on('error', () => undefined);
}

/** Connect `c` and PING: 'PONG', or the error text. */
async function ping(c: ReturnType<typeof client>): Promise<string> {
  try {
    await c.connect();
    return await c.ping();
  } catch (e) {
    return (e as Error).message || 'failed';
  } finally {
    c.disconnect();
  }
}

/** PING over TLS: 'PONG', or the error text. */
function tlsPing(port: number, opts: tls.ConnectionOptions = {}): Promise<string> {
  return ping(tlsClient(port, opts));
}

const proxyCert = async (): Promise<string> => (await t.req('GET', '/v1/cluster/certificates')).json.proxy_cert;
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('tls_mode', () => {
  it('enabled: TLS with the proxy certificate (verifiable with it as CA); plain clients get nothing; disabled: plain again', async () => {
    const bdb = await createBdb(t, { name: 'db-tls', tls_mode: 'enabled' });
    const port = bdb.endpoints[0].port;
    const c = tlsClient(port);
    await c.connect();
    expect(await c.set('over', 'tls')).toBe('OK');
    expect(await c.get('over')).toBe('tls');
    c.disconnect();

    // A client that trusts only the cluster's proxy certificate verifies the endpoint by its DNS name.
    const ca = await proxyCert();
    expect(await tlsPing(port, { rejectUnauthorized: true, ca, servername: bdb.endpoints[0].dns_name })).toBe('PONG');
    expect((await peerCert(port)).fingerprint256).toBe(fingerprint(ca));
    expect(await ping(client(port))).not.toBe('PONG');

    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { tls_mode: 'disabled' } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => (await ping(client(port))) === 'PONG', { what: 'plain TCP again' });
    const back = client(port);
    await back.connect();
    expect(await back.get('over')).toBe('tls');
    back.disconnect();
  });

  it('the deprecated ssl: true also means TLS, shows as tls_mode enabled, and tls_mode disabled turns it off', async () => {
    const bdb = await createBdb(t, { name: 'db-ssl', ssl: true });
    const port = bdb.endpoints[0].port;
    expect(await tlsPing(port)).toBe('PONG');
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ ssl: true, tls_mode: 'enabled' });
    // Before, ssl stayed true under tls_mode 'disabled': GET said disabled while plain clients were refused.
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { tls_mode: 'disabled' } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ ssl: false, tls_mode: 'disabled' });
    await waitFor(async () => (await ping(client(port))) === 'PONG', { what: 'plain TCP again' });
  });

  it('rotating the proxy certificate re-applies it to TLS endpoints', async () => {
    const bdb = await createBdb(t, { name: 'db-rotate', tls_mode: 'enabled' });
    const port = bdb.endpoints[0].port;
    const before = await proxyCert();
    expect((await peerCert(port)).fingerprint256).toBe(fingerprint(before));
    const r = await t.req('POST', '/v1/cluster/certificates/rotate', { body: { name: 'proxy' } });
    expect(r.status, r.text).toBe(200);
    const after = await proxyCert();
    expect(after).not.toBe(before);
    await waitFor(async () => (await peerCert(port)).fingerprint256 === fingerprint(after), { what: 'endpoint presents the rotated certificate' });
  });
});

describe('cluster data-plane TLS policy', () => {
  /** The protocol version the endpoint negotiates with a client limited to `max`, or the error. */
  function negotiated(port: number, opts: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
        resolve(s.getProtocol() ?? 'none');
        s.destroy();
      });
      s.on('error', (e) => resolve(`error: ${e.message}`));
    });
  }

  it('min_data_TLS_version and data_cipher_list apply to TLS endpoints, new connections only', async () => {
    const bdb = await createBdb(t, { name: 'db-policy', tls_mode: 'enabled' });
    const port = bdb.endpoints[0].port;
    expect(await negotiated(port, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    const open = tlsClient(port, { maxVersion: 'TLSv1.2' });
    await open.connect();
    try {
      // Before, the value was stored and shown but every endpoint still accepted TLS 1.2.
      expect((await t.req('PUT', '/v1/cluster', { body: { min_data_TLS_version: '1.3' } })).status).toBe(200);
      await waitFor(async () => (await negotiated(port, { maxVersion: 'TLSv1.2' })).startsWith('error'), { what: 'TLS 1.2 refused' });
      expect(await negotiated(port, {})).toBe('TLSv1.3');
      expect(await open.ping()).toBe('PONG'); // an open session is kept

      expect((await t.req('PUT', '/v1/cluster', { body: { min_data_TLS_version: '1.2', data_cipher_list: 'ECDHE-RSA-AES256-GCM-SHA384' } })).status).toBe(200);
      await waitFor(async () => (await negotiated(port, { maxVersion: 'TLSv1.2' })) === 'TLSv1.2', { what: 'TLS 1.2 again' });
      expect(await negotiated(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toMatch(/^error/);
      expect(await negotiated(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toBe('TLSv1.2');
    } finally {
      open.disconnect();
      await t.req('PUT', '/v1/cluster', { body: { min_data_TLS_version: '1.2', data_cipher_list: 'DEFAULT:!3DES' } });
    }
  });
});

describe('client certificates', () => {
  it('enforce_client_authentication with authentication_ssl_client_certs: only listed certificates get in', async () => {
    const bdb = await createBdb(t, {
      name: 'db-mtls', tls_mode: 'enabled', enforce_client_authentication: 'enabled',
      authentication_ssl_client_certs: [{ client_cert: appCert.certificate }],
    });
    const port = bdb.endpoints[0].port;
    expect(await tlsPing(port, { cert: appCert.certificate, key: appCert.key })).toBe('PONG');
    expect(await tlsPing(port)).not.toBe('PONG');
    expect(await tlsPing(port, { cert: stranger.certificate, key: stranger.key })).not.toBe('PONG');

    // Switched off: any TLS client is accepted again.
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { enforce_client_authentication: 'disabled' } })).status).toBe(200);
    await waitStatus(t, bdb.uid);
    await waitFor(async () => (await tlsPing(port)) === 'PONG', { what: 'client certificates no longer required' });
  });
});
