/**
 * A database's own proxy certificate (openapi.json /v1/bdbs/{uid}/certificates): its TLS endpoint
 * presents it instead of the cluster's `proxy` certificate (the reconciler picks it up through
 * KvAccessReader.proxyCertificate; the manager's watch on BDB_CERTIFICATES_PREFIX re-applies the
 * endpoint). Kept at `/bdb_certificates/<uid>` with its key, as the cluster certificates are kept at
 * `/certificates/<name>`, but outside that prefix so the cluster's certificate list never shows them.
 */
import { RsError } from '../errors.js';
import { parseCertificate } from '../certs/x509.js';
import { tlsEnabled } from '../controller/endpoint-spec.js';
import type { BdbCertificatesQuery, BdbProxyCertificate, BdbProxyCertificateSetRequest } from '../schemas/bdb-certificate.js';
import type { KvBackend } from '../store/kv.js';
import { Collection } from '../store/object-store.js';
import { rsTime } from '../util/clock.js';
import { timeParam } from '../util/iso-time.js';
import type { BdbRecord } from './bdb-view.js';
import type { CertificateService } from './certificate-service.js';

export const BDB_CERTIFICATES_PREFIX = '/bdb_certificates/';

export interface BdbCertificateRecord {
  /** The database's uid. */
  uid: number;
  certificate: string;
  key: string;
}

const view = (r: BdbCertificateRecord): BdbProxyCertificate => {
  const p = parseCertificate(r.certificate);
  // RS timestamps (clock.ts rsTime): no milliseconds, like every other date-time openrs answers.
  return { bdb_uid: String(r.uid), cert: r.certificate, not_before: rsTime(new Date(p.not_before)), not_after: rsTime(new Date(p.not_after)) };
};

/** The database's effective tls_mode (the deprecated `ssl: true` means enabled). */
const tlsModeOf = (b: BdbRecord): string => (tlsEnabled(b) ? 'enabled' : b.tls_mode ?? 'disabled');

export class BdbCertificateService {
  private readonly certs: Collection<BdbCertificateRecord>;

  constructor(
    private readonly kv: KvBackend,
    private readonly bdbs: Collection<BdbRecord>,
    private readonly validator: Pick<CertificateService, 'validateServable'>,
  ) {
    this.certs = new Collection(kv, BDB_CERTIFICATES_PREFIX);
  }

  async get(uid: number): Promise<BdbProxyCertificate> {
    return view(await this.own(uid));
  }

  /** Validate, then store (not on dry_run) only while the database exists: a concurrent delete cannot leave an orphan behind. */
  async set(uid: number, body: BdbProxyCertificateSetRequest, opts: { dryRun?: boolean } = {}): Promise<BdbProxyCertificate> {
    await this.bdb(uid);
    this.validator.validateServable(`bdb ${uid} certificate`, body.cert, body.private_key, 'private_key');
    const rec: BdbCertificateRecord = { uid, certificate: body.cert, key: body.private_key };
    if (opts.dryRun) return view(rec);
    for (;;) {
      const bdb = await this.bdb(uid);
      const res = await this.kv.txn([{ key: this.bdbs.key(uid), modRevision: bdb.modRevision }], [this.certs.putOp(rec)]);
      if (res.succeeded) return view(rec);
    }
  }

  async delete(uid: number): Promise<void> {
    await this.own(uid);
    await this.kv.delete(this.certs.key(uid));
  }

  /** Every database's certificate, by database uid: filtered, then paged (1-based; no page_size: one page of all). */
  async list(q: BdbCertificatesQuery): Promise<BdbProxyCertificate[]> {
    const before = timeParam(q.expires_before, 'expires_before');
    const [certs, bdbs] = await Promise.all([this.certs.list(), this.bdbs.list()]);
    const modes = new Map(bdbs.map((b) => [b.uid, tlsModeOf(b)]));
    const all = certs
      .filter((c) => modes.has(c.uid) && (q.tls_mode === undefined || modes.get(c.uid) === q.tls_mode))
      .map(view)
      .filter((c) => before === undefined || Date.parse(c.not_after) < before);
    const size = q.page_size === undefined ? all.length : Number(q.page_size);
    const page = q.page === undefined ? 1 : Number(q.page);
    return all.slice((page - 1) * size, page * size);
  }

  private async bdb(uid: number) {
    const b = await this.bdbs.get(uid);
    if (!b) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    return b;
  }

  private async own(uid: number): Promise<BdbCertificateRecord> {
    await this.bdb(uid);
    const c = await this.certs.get(uid);
    if (!c) throw new RsError('certificate_not_found', `Database ${uid} has no certificate of its own; its endpoint presents the cluster's proxy certificate`);
    return c.value;
  }
}
