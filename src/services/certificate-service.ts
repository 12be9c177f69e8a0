/**
 * Cluster certificates (requests/cluster/certificates): kept at `/certificates/<name>` in the
 * CCS. The `api` certificate is the one the REST API serves; a change to it reaches the
 * listener through the TlsManager without a restart.
 */
import { RsError } from '../errors.js';
import { CertificateError, generateSelfSigned, parseCertificate, validatePair, type ParsedCertificate } from '../certs/x509.js';
import type { TlsManager } from '../certs/tls-manager.js';
import { CERT_ONLY, CERTIFICATE_NAMES, GENERATED_CERTIFICATES, type CertificateName, type CertificateUpdate } from '../schemas/certificates.js';
import type { KvBackend, Op } from '../store/kv.js';
import type { Clock } from '../util/clock.js';

export interface CertificateRecord {
  name: CertificateName;
  certificate: string;
  key?: string;
}

const PREFIX = '/certificates/';
/** Internal (internode) certificates: what a rotate without a name regenerates (rotate.md). */
const INTERNAL: readonly CertificateName[] = ['ccs_internode_encryption', 'data_internode_encryption'];
/** The organizational unit RS puts in each generated certificate's subject. */
const OU: Partial<Record<CertificateName, string>> = { proxy: 'redisdb', syncer: 'syncer', api: 'api', cm: 'cm' };

const isName = (n: string): n is CertificateName => (CERTIFICATE_NAMES as readonly string[]).includes(n);

function certError(e: unknown, name: string): unknown {
  if (!(e instanceof CertificateError)) return e;
  const expired = e.reason === 'expired' || e.reason === 'not_yet_valid';
  return new RsError(expired ? 'certificate_expired' : 'invalid_certificate', `${name}: ${e.message}`);
}

/**
 * A combined PEM (certificate + key) in the certificate field would be stored, listed and shown
 * (e.g. as /v1/cluster proxy_certificate) with the private key inside.
 */
function refuseKeyInCertificate(label: string, certificate: string, keyField: string): void {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certificate)) {
    throw new RsError('invalid_certificate', `${label}: the certificate field contains a private key; pass it in "${keyField}"`);
  }
}

export class CertificateService {
  constructor(
    private readonly kv: KvBackend,
    private readonly tls: TlsManager,
    private readonly clusterName: () => Promise<string>,
    private readonly clock: Clock,
  ) {}

  /** A self-signed certificate for `name`, as RS generates them: CN and SANs from the cluster name. */
  async generate(name: CertificateName, clusterName: string): Promise<CertificateRecord> {
    const internal = INTERNAL.includes(name);
    const altNames = [clusterName, `*.${clusterName}`];
    if (name === 'api') altNames.push('localhost');
    const pair = await generateSelfSigned({
      commonName: clusterName,
      altNames,
      ipAddresses: name === 'api' ? ['127.0.0.1', '::1'] : [],
      organizationalUnit: OU[name] ?? name,
      days: internal ? 90 : 365,
    });
    return { name, ...pair };
  }

  /** Ops that install every generated certificate; used by bootstrap inside its transaction. */
  async bootstrapOps(clusterName: string): Promise<{ ops: Op[]; api: CertificateRecord }> {
    const records = await Promise.all(GENERATED_CERTIFICATES.map((n) => this.generate(n, clusterName)));
    return {
      ops: records.map((r) => ({ type: 'put' as const, key: PREFIX + r.name, value: r })),
      api: records.find((r) => r.name === 'api')!,
    };
  }

  async get(name: CertificateName): Promise<CertificateRecord | undefined> {
    return (await this.kv.get<CertificateRecord>(PREFIX + name))?.value;
  }

  /** GET body: `<name>_cert` and `<name>_key` for every certificate that is set. */
  async list(opts: { withKeys?: boolean } = {}): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const { value: r } of await this.kv.list<CertificateRecord>(PREFIX)) {
      out[`${r.name}_cert`] = r.certificate;
      if (r.key !== undefined && opts.withKeys !== false) out[`${r.name}_key`] = r.key;
    }
    return out;
  }

  /** Validate every entry first, then install them all in one transaction (all or nothing). */
  async update(entries: CertificateUpdate[]): Promise<void> {
    const unknown = entries.map((e) => e.name).filter((n) => !isName(n));
    if (unknown.length) throw new RsError('unknown_certificate', `Unknown certificate name(s): ${unknown.join(', ')}`);
    const seen = new Set<string>();
    const records: CertificateRecord[] = entries.map((e) => {
      const name = e.name as CertificateName;
      if (seen.has(name)) throw new RsError('invalid_certificate', `${name}: given more than once`);
      seen.add(name);
      try {
        refuseKeyInCertificate(name, e.certificate, 'key');
        if (CERT_ONLY.includes(name)) {
          if (e.key !== undefined) throw new RsError('invalid_certificate', `${name}: takes no private key`);
          const parsed = parseCertificate(e.certificate);
          const now = this.clock.now().getTime();
          if (now < Date.parse(parsed.not_before)) throw new CertificateError('not_yet_valid', `certificate is not valid before ${parsed.not_before}`);
          if (now >= Date.parse(parsed.not_after)) throw new CertificateError('expired', `certificate expired at ${parsed.not_after}`);
          return { name, certificate: e.certificate };
        }
        if (e.key === undefined) throw new RsError('invalid_certificate', `${name}: a private key is required`);
        this.checkServable(name, e.certificate, e.key);
        return { name, certificate: e.certificate, key: e.key };
      } catch (err) {
        throw certError(err, name);
      }
    });
    await this.kv.txn([], records.map((r) => ({ type: 'put', key: PREFIX + r.name, value: r })));
    this.applyLocal(records);
  }

  async delete(name: string): Promise<void> {
    if (!isName(name)) throw new RsError('certificate_not_found', `Unknown certificate name '${name}'`);
    if (GENERATED_CERTIFICATES.includes(name)) throw new RsError('required_certificate', `'${name}' is required and cannot be deleted`);
    await this.kv.delete(PREFIX + name);
  }

  /**
   * The checks a certificate a TLS listener will serve must pass (a cluster one, or a database's
   * own proxy certificate): the chain parses, the key is the leaf's, the leaf is valid now, and
   * OpenSSL accepts the pair (it refuses, e.g., RSA keys below its security level). Failures are
   * RS errors: 400 invalid_certificate, 406 certificate_expired, the message prefixed by `label`.
   */
  validateServable(label: string, certificate: string, key: string, keyField = 'key'): ParsedCertificate {
    try {
      refuseKeyInCertificate(label, certificate, keyField);
      return this.checkServable(label, certificate, key);
    } catch (err) {
      throw certError(err, label);
    }
  }

  private checkServable(label: string, certificate: string, key: string): ParsedCertificate {
    const parsed = validatePair(certificate, key, { now: this.clock.now() });
    try {
      this.tls.check({ certificate, key });
    } catch (err) {
      throw new RsError('invalid_certificate', `${label}: not usable for TLS: ${(err as Error).message}`);
    }
    return parsed;
  }

  /** Regenerate one generated certificate, or (no name) the internal ones. */
  async rotate(name: string | undefined): Promise<void> {
    const names = name === undefined ? INTERNAL : [name];
    for (const n of names) {
      if (!isName(n) || !GENERATED_CERTIFICATES.includes(n)) {
        throw new RsError('unsupported_rotation', `Certificate '${n}' is not generated by the cluster and cannot be rotated; replace it with PUT /v1/cluster/certificates`);
      }
    }
    const clusterName = await this.clusterName();
    const records = await Promise.all(names.map((n) => this.generate(n as CertificateName, clusterName)));
    await this.kv.txn([], records.map((r) => ({ type: 'put', key: PREFIX + r.name, value: r })));
    this.applyLocal(records);
  }

  /** Push certificates this node serves itself to their listeners. */
  private applyLocal(records: CertificateRecord[]): void {
    const api = records.find((r) => r.name === 'api');
    if (api?.key) this.tls.setPair({ certificate: api.certificate, key: api.key });
  }
}
