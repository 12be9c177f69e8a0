import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  CertificateError,
  DEFAULT_ORGANIZATION,
  generateSelfSigned,
  parseCertificate,
  validatePair,
} from '../../src/certs/x509.js';

const DAY_MS = 86_400_000;
const cryptoImpl = webcrypto as unknown as Crypto;

function expectCertError(fn: () => unknown, reason: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertificateError);
    expect((err as CertificateError).reason).toBe(reason);
    return;
  }
  throw new Error(`expected CertificateError(${reason})`);
}

/** An ECDSA P-256 self-signed pair, built without openssl. */
async function ecPair(): Promise<{ certificate: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=ec.example',
      keys,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * DAY_MS),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as Algorithm,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'ec.example' }])],
    },
    cryptoImpl,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
    .export({ type: 'sec1', format: 'pem' })
    .toString();
  return { certificate: cert.toString('pem'), key };
}

describe('generateSelfSigned / parseCertificate', () => {
  it('round-trips subject, SAN and ~365 days validity', async () => {
    const { certificate, key } = await generateSelfSigned({
      commonName: 'cluster.local',
      altNames: ['cluster.local', '*.cluster.local'],
      organizationalUnit: 'redisdb',
      ipAddresses: ['127.0.0.1', '::1'],
    });
    expect(certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const p = parseCertificate(certificate);
    expect(p.subject).toBe(`CN=cluster.local, OU=redisdb, O=${DEFAULT_ORGANIZATION}`);
    expect(p.issuer).toBe(p.subject);
    expect(p.san).toEqual(['cluster.local', '*.cluster.local', '127.0.0.1', '::1']);
    const days = (Date.parse(p.not_after) - Date.parse(p.not_before)) / DAY_MS;
    expect(days).toBe(365);
    expect(Date.parse(p.not_before)).toBeLessThanOrEqual(Date.now());
    expect(p.serial).toMatch(/^[0-9A-F]+$/);
    expect(p.fingerprint_sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    // Cross-check with OpenSSL's view of the same certificate.
    const node = new X509Certificate(certificate);
    expect(p.fingerprint_sha256).toBe(node.fingerprint256);
    expect(p.serial).toBe(node.serialNumber.toUpperCase());
    expect(node.ca).toBe(false);
    expect(node.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(node.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(node.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(node.verify(node.publicKey)).toBe(true);

    expect(validatePair(certificate, key).fingerprint_sha256).toBe(p.fingerprint_sha256);
  });

  it('honours days and gives distinct serials', async () => {
    const a = await generateSelfSigned({ commonName: 'a', altNames: [], days: 30 });
    const b = await generateSelfSigned({ commonName: 'a', altNames: [] });
    const pa = parseCertificate(a.certificate);
    expect((Date.parse(pa.not_after) - Date.parse(pa.not_before)) / DAY_MS).toBe(30);
    expect(pa.san).toEqual(['a']); // CN falls back into SAN
    expect(pa.subject).toBe(`CN=a, O=${DEFAULT_ORGANIZATION}`);
    expect(pa.serial).not.toBe(parseCertificate(b.certificate).serial);
  });

  it('parses the captured RS proxy certificate', () => {
    const cluster = JSON.parse(
      readFileSync('/work/shared/fixtures/redis-enterprise-rs/cluster.json', 'utf8'),
    ) as { name: string; proxy_certificate: string };
    const p = parseCertificate(cluster.proxy_certificate);
    expect(p.subject).toBe(`CN=${cluster.name}, OU=redisdb, O=RedisLabs Enterprise Cluster`);
    expect(p.san).toEqual([cluster.name, `*.${cluster.name}`]);
    expect(p.serial).toBe('01');
  });

  it('describes the leaf of a chain bundle', async () => {
    const leaf = await generateSelfSigned({ commonName: 'leaf', altNames: ['leaf'] });
    const other = await generateSelfSigned({ commonName: 'root', altNames: ['root'] });
    const bundle = leaf.certificate + other.certificate;
    expect(parseCertificate(bundle).subject).toMatch(/^CN=leaf,/);
    expect(() => validatePair(bundle, leaf.key)).not.toThrow();
    expectCertError(() => validatePair(other.certificate + leaf.certificate, leaf.key), 'key_mismatch');
  });
});

describe('TLS', () => {
  it('serves a real handshake with the generated pair', async () => {
    const { certificate, key } = await generateSelfSigned({
      commonName: 'tls-test.local',
      altNames: ['tls-test.local'],
      ipAddresses: ['127.0.0.1'],
    });
    const server = tls.createServer({ cert: certificate, key }, (sock) => sock.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      await once(sock, 'secureConnect');
      expect(sock.getPeerCertificate().subject.CN).toBe('tls-test.local');
      expect(sock.getPeerCertificate().subjectaltname).toContain('DNS:tls-test.local');
      sock.destroy();

      // And it verifies when the client trusts it as a CA-less pinned cert.
      const strict = tls.connect({ host: '127.0.0.1', port, ca: certificate, servername: 'tls-test.local' });
      await once(strict, 'secureConnect');
      expect(strict.authorized).toBe(true);
      strict.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('validatePair', () => {
  it('rejects a key that belongs to another certificate', async () => {
    const a = await generateSelfSigned({ commonName: 'a', altNames: ['a'] });
    const b = await generateSelfSigned({ commonName: 'b', altNames: ['b'] });
    expectCertError(() => validatePair(a.certificate, b.key), 'key_mismatch');
  });

  it('rejects garbage', async () => {
    const a = await generateSelfSigned({ commonName: 'a', altNames: ['a'] });
    expectCertError(() => parseCertificate('not a cert'), 'invalid_certificate');
    expectCertError(
      () => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      'invalid_certificate',
    );
    expectCertError(() => parseCertificate(''), 'invalid_certificate');
    expectCertError(() => validatePair('garbage', a.key), 'invalid_certificate');
    expectCertError(() => validatePair(a.certificate, 'garbage'), 'invalid_key');
    expectCertError(
      () => validatePair(a.certificate, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
      'invalid_key',
    );
    // A certificate is not a key.
    expectCertError(() => validatePair(a.certificate, a.certificate), 'invalid_key');
  });

  it('rejects certificates outside their validity window', async () => {
    const a = await generateSelfSigned({ commonName: 'a', altNames: ['a'], days: 10 });
    expectCertError(() => validatePair(a.certificate, a.key, { now: new Date(Date.now() + 11 * DAY_MS) }), 'expired');
    expectCertError(
      () => validatePair(a.certificate, a.key, { now: new Date(Date.now() - DAY_MS) }),
      'not_yet_valid',
    );
  });

  it('accepts PKCS#1 RSA keys', async () => {
    const a = await generateSelfSigned({ commonName: 'a', altNames: ['a'] });
    const pkcs1 = createPrivateKey(a.key).export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(validatePair(a.certificate, pkcs1).subject).toMatch(/^CN=a,/);
  });

  it('accepts EC keys in SEC1 and PKCS#8 form', async () => {
    const ec = await ecPair();
    expect(ec.key).toMatch(/BEGIN EC PRIVATE KEY/);
    expect(validatePair(ec.certificate, ec.key).san).toEqual(['ec.example']);
    const pkcs8 = createPrivateKey(ec.key).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(validatePair(ec.certificate, pkcs8).subject).toBe('CN=ec.example');

    const rsa = await generateSelfSigned({ commonName: 'r', altNames: ['r'] });
    expectCertError(() => validatePair(ec.certificate, rsa.key), 'key_mismatch');
    expectCertError(() => validatePair(rsa.certificate, ec.key), 'key_mismatch');
  });
});
