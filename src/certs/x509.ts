/**
 * X.509 helpers for the cluster certificates (api, cm, proxy, syncer,
 * metrics_exporter, internode encryption, ...).
 *
 * Generation goes through @peculiar/x509 on top of Node's WebCrypto, so no
 * openssl binary is needed at runtime. Parsing and key matching go through
 * Node's own `crypto.X509Certificate` / `createPrivateKey`, i.e. OpenSSL: if a
 * certificate passes here, `tls.createSecureContext` will accept it too.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  X509Certificate as NodeX509Certificate,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API
// loaded first (ES module imports evaluate in order).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';


/**
 * Organization put in the subject of generated certificates. Mirrors what a
 * real Redis Software cluster puts in its self-signed certs (see the
 * `proxy_certificate` of the captured cluster), so tooling that inspects the
 * subject sees the same shape from openrs as from RS.
 */
export const DEFAULT_ORGANIZATION = 'RedisLabs Enterprise Cluster';

/**
 * Why a certificate or key was rejected. Route handlers map these onto the
 * documented status codes: `expired` / `not_yet_valid` → 406 Not Acceptable,
 * everything else → 400 Bad Request.
 */
export type CertificateErrorReason =
  | 'invalid_certificate'
  | 'invalid_key'
  | 'key_mismatch'
  | 'expired'
  | 'not_yet_valid';

/**
 * Thrown for any user-supplied certificate/key that cannot be installed.
 * Carries a machine-readable `reason` so callers can pick a status code
 * without string-matching messages.
 */
export class CertificateError extends Error {
  readonly reason: CertificateErrorReason;

  constructor(reason: CertificateErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateError';
    this.reason = reason;
  }
}

/** Fields extracted from a (leaf) certificate, in API-friendly form. */
export interface ParsedCertificate {
  /** RFC 4514-ish, e.g. `CN=cluster.local, OU=redisdb, O=RedisLabs Enterprise Cluster`. */
  subject: string;
  issuer: string;
  /** ISO 8601 UTC. */
  not_before: string;
  /** ISO 8601 UTC. */
  not_after: string;
  /** Uppercase hex, no separators (as `openssl x509 -serial` prints it). */
  serial: string;
  /** Uppercase colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint_sha256: string;
  /** SAN values without type prefix: DNS names and IP addresses, in certificate order. */
  san: string[];
}

export interface GenerateSelfSignedOptions {
  commonName: string;
  /** DNS SAN entries (e.g. `[fqdn, '*.' + fqdn]`). */
  altNames: string[];
  /** e.g. `redisdb` for proxy, `syncer` for syncer, as RS does. */
  organizationalUnit?: string;
  /** Validity in days; RS defaults to 365. */
  days?: number;
  /** IP SAN entries (v4 or v6). */
  ipAddresses?: string[];
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const DAY_MS = 86_400_000;
// Back-date notBefore slightly so a peer whose clock lags a little does not
// reject a certificate generated a second ago.
const BACKDATE_MS = 60_000;

const subtle = webcrypto.subtle;
// @peculiar/x509 is typed against the DOM `Crypto`; Node's webcrypto is
// structurally the same at runtime but not nominally in the typings.
const cryptoImpl = webcrypto as unknown as Crypto;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Creates a self-signed leaf certificate like the ones RS auto-generates for
 * its services (RSA 2048 / SHA-256, EKU serverAuth+clientAuth, CA:false), so
 * a fresh openrs cluster can serve TLS on every endpoint before the operator
 * uploads CA-signed certificates, and so `rotate` has something to produce.
 *
 * The key is returned as unencrypted PKCS#8 PEM; both strings can be handed
 * straight to `tls.createSecureContext({ cert, key })`.
 *
 * If neither `altNames` nor `ipAddresses` is given, `commonName` is used as
 * the single DNS SAN, because modern TLS clients ignore the CN entirely.
 */
export async function generateSelfSigned(
  opts: GenerateSelfSignedOptions,
): Promise<{ certificate: string; key: string }> {
  const days = opts.days ?? 365;
  if (!opts.commonName) throw new TypeError('commonName is required');
  if (!Number.isFinite(days) || days <= 0) throw new TypeError(`invalid days: ${days}`);
  const ips = opts.ipAddresses ?? [];
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new TypeError(`invalid IP address: ${ip}`);
  }
  const dnsNames = opts.altNames.length === 0 && ips.length === 0 ? [opts.commonName] : opts.altNames;

  const alg: RsaHashedKeyGenParams = {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  };
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;

  // JsonName form (not a DN string) so cluster names containing `,` `=` `+`
  // need no escaping.
  const name: x509.JsonName = [{ CN: [opts.commonName] }];
  if (opts.organizationalUnit) name.push({ OU: [opts.organizationalUnit] });
  name.push({ O: [DEFAULT_ORGANIZATION] });

  // Whole seconds: X.509 times carry no milliseconds, and keeping them would
  // make not_after - not_before differ from `days` after a round trip.
  const notBefore = new Date(Math.floor((Date.now() - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);

  // 16 random bytes with the top bit cleared: positive INTEGER, non-guessable.
  const serialBytes = webcrypto.getRandomValues(new Uint8Array(16));
  serialBytes[0] = (serialBytes[0] & 0x7f) | 0x01;
  const serialNumber = Buffer.from(serialBytes).toString('hex');

  const sanEntries: x509.JsonGeneralName[] = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ips.map((value) => ({ type: 'ip' as const, value })),
  ];

  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber,
      name,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
          false,
        ),
        new x509.SubjectAlternativeNameExtension(sanEntries, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, cryptoImpl),
      ],
    },
    cryptoImpl,
  );

  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  return { certificate: cert.toString('pem') + '\n', key: toPem(pkcs8, 'PRIVATE KEY') };
}

/** Splits a PEM bundle into its CERTIFICATE blocks (leaf first, as uploaded). */
function certificateBlocks(pem: string): string[] {
  if (typeof pem !== 'string') {
    throw new CertificateError('invalid_certificate', 'certificate must be a PEM string');
  }
  const blocks = pem.match(PEM_CERT_RE);
  if (!blocks || blocks.length === 0) {
    throw new CertificateError('invalid_certificate', 'no PEM CERTIFICATE block found');
  }
  return blocks;
}

function parseNode(block: string): NodeX509Certificate {
  try {
    return new NodeX509Certificate(block);
  } catch (err) {
    throw new CertificateError('invalid_certificate', `unparseable certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Every certificate of a PEM bundle, each described as parseCertificate describes a leaf. */
export function parseCertificates(pem: string): ParsedCertificate[] {
  return certificateBlocks(pem).map((block) => parseCertificate(block));
}

/**
 * Parses the leaf (first) certificate of a PEM bundle into the fields the API
 * reports (expiry, fingerprint, SANs). Uploaded certificates may carry the
 * whole chain (leaf → intermediates → root, as the RS docs ask); every block
 * must parse, but only the leaf is described.
 *
 * @throws CertificateError (`invalid_certificate`) on anything OpenSSL or the
 *   ASN.1 decoder rejects.
 */
export function parseCertificate(pem: string): ParsedCertificate {
  const blocks = certificateBlocks(pem);
  const nodeCerts = blocks.map(parseNode);
  const leaf = nodeCerts[0];

  let peculiar: x509.X509Certificate;
  try {
    peculiar = new x509.X509Certificate(blocks[0]);
  } catch (err) {
    throw new CertificateError('invalid_certificate', `unparseable certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }

  const san: string[] = [];
  try {
    const ext = peculiar.getExtension(x509.SubjectAlternativeNameExtension);
    for (const n of ext?.names.items ?? []) {
      if (n.type === 'dns' || n.type === 'ip') san.push(n.value);
    }
  } catch (err) {
    throw new CertificateError('invalid_certificate', `malformed subjectAltName: ${(err as Error).message}`, {
      cause: err,
    });
  }

  return {
    subject: peculiar.subject,
    issuer: peculiar.issuer,
    not_before: peculiar.notBefore.toISOString(),
    not_after: peculiar.notAfter.toISOString(),
    serial: leaf.serialNumber.toUpperCase(),
    fingerprint_sha256: createHash('sha256')
      .update(leaf.raw)
      .digest('hex')
      .toUpperCase()
      .match(/../g)!
      .join(':'),
    san,
  };
}

function loadPrivateKey(keyPem: string): KeyObject {
  if (typeof keyPem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
    throw new CertificateError('invalid_key', 'key must be a PEM private key');
  }
  try {
    // Handles PKCS#8 (PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY) and SEC1 (EC PRIVATE KEY).
    // Encrypted keys fail here: nodes must be able to load the key unattended.
    return createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (err) {
    throw new CertificateError('invalid_key', `unparseable private key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Checks that an uploaded certificate/key pair is installable before it is
 * stored or pushed to nodes, mirroring RS's "validates all provided
 * certificates before actually updating the cluster": the chain must parse,
 * the key must be the leaf's private key (RSA or EC; PKCS#1, PKCS#8 or SEC1
 * PEM), and the leaf must be inside its validity window at `opts.now`
 * (default: now; injectable for tests).
 *
 * @returns the parsed leaf, so callers need not parse twice.
 * @throws CertificateError with reason `invalid_certificate`, `invalid_key`,
 *   `key_mismatch`, `expired` or `not_yet_valid`.
 */
export function validatePair(
  certPem: string,
  keyPem: string,
  opts: { now?: Date } = {},
): ParsedCertificate {
  const parsed = parseCertificate(certPem);
  const leaf = parseNode(certificateBlocks(certPem)[0]);
  const privateKey = loadPrivateKey(keyPem);

  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCert = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) {
    throw new CertificateError('key_mismatch', 'private key does not match the certificate public key');
  }

  const now = (opts.now ?? new Date()).getTime();
  if (now < Date.parse(parsed.not_before)) {
    throw new CertificateError('not_yet_valid', `certificate is not valid before ${parsed.not_before}`);
  }
  if (now > Date.parse(parsed.not_after)) {
    throw new CertificateError('expired', `certificate expired at ${parsed.not_after}`);
  }
  return parsed;
}
