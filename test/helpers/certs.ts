/** Certificates for tests that generateSelfSigned cannot make (arbitrary validity dates), and the one an endpoint presents. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';
import tls from 'node:tls';

const cryptoImpl = webcrypto as unknown as Crypto;

/** A self-signed RSA pair valid from `notBefore` to `notAfter`, CN and DNS SAN `cn` (default db.test.local). */
export async function pairWithDates(notBefore: Date, notAfter: Date, opts: { cn?: string; modulusLength?: number } = {}): Promise<{ certificate: string; key: string }> {
  const cn = opts.cn ?? 'db.test.local';
  const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: opts.modulusLength ?? 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: `CN=${cn}`, keys, notBefore, notAfter, signingAlgorithm: alg as Algorithm, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }])] },
    cryptoImpl,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certificate: cert.toString('pem'), key };
}

/** The certificate a new TLS connection to a loopback endpoint is presented. */
export function peerCert(port: number): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate());
      s.destroy();
    });
    s.on('error', reject);
  });
}
