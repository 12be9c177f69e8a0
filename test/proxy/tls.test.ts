/** TLS termination on an endpoint: the proxy speaks TLS to clients and plain RESP to the shard. */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import type { ProxyClient } from '../../src/proxy/control.js';
import { tlsDigest } from '../../src/proxy/protocol.js';
import { freePort } from '../helpers/ports.js';
import { exchange, killAll, proxyClient, redis, startRedis, tempDir, trackProxy, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let dir: string;
let a: RedisTarget;
let server: { certificate: string; key: string };
let client: { certificate: string; key: string };
let stranger: { certificate: string; key: string };

beforeAll(async () => {
  [a, server, client, stranger] = await Promise.all([
    startRedis(),
    generateSelfSigned({ commonName: 'proxy.test.local', altNames: ['localhost'], ipAddresses: ['127.0.0.1'], organizationalUnit: 'redisdb' }),
    generateSelfSigned({ commonName: 'app-client', altNames: ['app-client'] }),
    generateSelfSigned({ commonName: 'stranger', altNames: ['stranger'] }),
  ]);
  dir = tempDir();
  px = proxyClient(dir);
  trackProxy((await px.ensureRunning()).pid);
  await redis(a.port).set('where', 'A');
});
afterAll(killAll);

/** Connect with TLS, send one command, resolve with the reply or '' if the proxy closes first. */
function tlsExchange(port: number, opts: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => s.write('GET where\r\n'));
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
      if (text.endsWith('\r\n') && text.split('\r\n').length > 2) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
  });
}

describe('TLS endpoints', () => {
  it('terminates TLS: ioredis with tls reads and writes through it', async () => {
    const port = await freePort();
    const t = { cert: server.certificate, key: server.key };
    const info = await px.setEndpoint({ uid: 'tls', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port }, tls: t });
    expect(info.tls).toEqual({ digest: tlsDigest(t), request_client_cert: false, client_cert_enforced: false });

    const r = redis(port, { tls: { rejectUnauthorized: false } });
    expect(await r.set('over-tls', 'yes')).toBe('OK');
    expect(await r.get('over-tls')).toBe('yes');
    expect(await redis(a.port).get('over-tls')).toBe('yes');
    // The certificate the client sees is the endpoint's.
    const peer = await new Promise<tls.PeerCertificate>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate());
        s.destroy();
      });
    });
    expect(peer.subject.CN).toBe('proxy.test.local');
    // A plain-text client on a TLS endpoint gets nothing and does no harm.
    expect(await exchange(port, 'PING\r\n')).toEqual({ text: '', closed: true });
    expect(await r.ping()).toBe('PONG');
  });

  it('with ca + requestClientCert, only clients with a certificate from that CA get through', async () => {
    const port = await freePort();
    await px.setEndpoint({
      uid: 'mtls', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port },
      tls: { cert: server.certificate, key: server.key, ca: client.certificate, requestClientCert: true },
    });
    expect(await tlsExchange(port, { cert: client.certificate, key: client.key })).toBe('$1\r\nA\r\n');
    expect(await tlsExchange(port)).toBe('');
    expect(await tlsExchange(port, { cert: stranger.certificate, key: stranger.key })).toBe('');
    const r = redis(port, { tls: { rejectUnauthorized: false, cert: client.certificate, key: client.key } });
    expect(await r.get('where')).toBe('A');
  });

  it('switching TLS off and on again re-uses the port; a bad key pair is refused and changes nothing', async () => {
    const port = await freePort();
    const spec = { uid: 'switch', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port } };
    await px.setEndpoint(spec);
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    await px.setEndpoint({ ...spec, tls: { cert: server.certificate, key: server.key } });
    expect(await tlsExchange(port)).toBe('$1\r\nA\r\n');

    await expect(px.setEndpoint({ ...spec, tls: { cert: server.certificate, key: client.key } })).rejects.toMatchObject({ code: 'invalid_tls' });
    await expect(px.setEndpoint({ ...spec, tls: { cert: 'not a cert', key: 'nope' } })).rejects.toMatchObject({ code: 'invalid_tls' });
    expect(await tlsExchange(port)).toBe('$1\r\nA\r\n');

    await px.setEndpoint({ ...spec, tls: null });
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
  });

  it('a restarted proxy restores TLS endpoints with their certificates', async () => {
    const port = await freePort();
    const t = { cert: server.certificate, key: server.key };
    await px.setEndpoint({ uid: 'tls-restore', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: a.port }, tls: t });
    await px.shutdown();
    trackProxy((await px.ensureRunning()).pid);
    expect((await px.list()).find((e) => e.uid === 'tls-restore')?.tls?.digest).toBe(tlsDigest(t));
    expect(await tlsExchange(port)).toBe('$1\r\nA\r\n');
  });
});
