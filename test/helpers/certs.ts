/** Certificates for tests that generateSelfSigned cannot make: arbitrary validity dates. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';

const cryptoImpl = webcrypto as unknown as Crypto;

/** A self-signed RSA pair valid from `notBefore` to `notAfter`, CN and DNS SAN `cn`. */
export async function pairWithDates(notBefore: Date, notAfter: Date, cn = 'db.test.local'): Promise<{ certificate: string; key: string }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: `CN=${cn}`, keys, notBefore, notAfter, signingAlgorithm: alg as Algorithm, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }])] },
    cryptoImpl,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certificate: cert.toString('pem'), key };
}
