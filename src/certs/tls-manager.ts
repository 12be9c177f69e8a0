/**
 * The TLS material the REST API serves: the `api` certificate plus the cluster's control-plane
 * TLS policy (min_control_TLS_version, control_cipher_suites). Kept in <data-dir>/tls so the same
 * certificate is served across restarts (and before bootstrap, when there is no CCS copy yet).
 * A change is pushed to the listening server without a restart (https.Server.setSecureContext).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls, { type SecureContextOptions } from 'node:tls';
import { generateSelfSigned } from './x509.js';

export interface TlsPair {
  certificate: string;
  key: string;
}
export interface ControlTlsPolicy {
  min_control_TLS_version?: '1.2' | '1.3';
  control_cipher_suites?: string;
}

export class TlsManager {
  private pair!: TlsPair;
  private policy: ControlTlsPolicy = {};
  private listeners: ((opts: SecureContextOptions) => void)[] = [];

  constructor(private readonly dir: string) {}

  private get certFile() { return path.join(this.dir, 'api_cert.pem'); }
  private get keyFile() { return path.join(this.dir, 'api_key.pem'); }

  /** Load the kept pair, or generate a self-signed one on first start. */
  async init(): Promise<TlsPair> {
    if (fs.existsSync(this.certFile) && fs.existsSync(this.keyFile)) {
      this.pair = { certificate: fs.readFileSync(this.certFile, 'utf8'), key: fs.readFileSync(this.keyFile, 'utf8') };
    } else {
      const host = os.hostname();
      this.pair = await generateSelfSigned({
        commonName: host,
        altNames: [host, 'localhost'],
        ipAddresses: ['127.0.0.1', '::1'],
        organizationalUnit: 'api',
      });
      this.persist();
    }
    return this.pair;
  }

  current(): TlsPair {
    return this.pair;
  }

  /** Options for https.createServer / setSecureContext. */
  contextOptions(pair: TlsPair = this.pair, policy: ControlTlsPolicy = this.policy): SecureContextOptions {
    return {
      cert: pair.certificate,
      key: pair.key,
      minVersion: policy.min_control_TLS_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
      ...(policy.control_cipher_suites ? { ciphers: policy.control_cipher_suites } : {}),
    };
  }

  /** Throws (OpenSSL's message) if the pair or the policy cannot make a TLS context. */
  check(pair: TlsPair = this.pair, policy: ControlTlsPolicy = this.policy): void {
    tls.createSecureContext(this.contextOptions(pair, policy));
  }

  onChange(fn: (opts: SecureContextOptions) => void): void {
    this.listeners.push(fn);
  }

  setPair(pair: TlsPair): void {
    this.check(pair, this.policy);
    this.pair = pair;
    this.persist();
    this.emit();
  }

  setPolicy(policy: ControlTlsPolicy): void {
    this.check(this.pair, policy);
    this.policy = { ...policy };
    this.emit();
  }

  private emit(): void {
    const opts = this.contextOptions();
    for (const fn of this.listeners) fn(opts);
  }

  private persist(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Write-then-rename so a crash never leaves a half-written key next to a new certificate.
    for (const [file, content] of [[this.keyFile, this.pair.key], [this.certFile, this.pair.certificate]] as const) {
      fs.writeFileSync(`${file}.tmp`, content, { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    }
  }
}
