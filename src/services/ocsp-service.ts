/**
 * OCSP stapling settings (requests/ocsp/, objects/ocsp.md, objects/ocsp_status.md). openrs's proxy
 * does not staple OCSP responses and openrs has no OCSP client, so OCSP stays off:
 * - GET answers the stored settings over the documented defaults (the real capture's shape), with
 *   `ocsp_functionality: false` and `responder_url` read from the proxy certificate's Authority
 *   Information Access extension ("" when it names no OCSP responder).
 * - PUT stores the settings that do nothing while OCSP is off; turning `ocsp_functionality` on is
 *   refused with the pages' 406 ocsp_unsupported_by_capability ("Not all nodes support OCSP
 *   capability": this node does not), whatever the responder URL; nothing is stored then.
 *   A `responder_url` that differs from the certificate's is 400 read_only_field.
 * - GET /v1/ocsp/status: the latest cached status; none is ever cached, so `{}`.
 * - POST /v1/ocsp/test: 500 no_responder_url without a responder URL (as the page documents, and
 *   what RS answers for a self-signed proxy certificate), else 406: openrs cannot query the responder.
 */
import { X509Certificate } from 'node:crypto';
import { RsError } from '../errors.js';
import type { Ocsp, OcspRecord, OcspStatus, OcspUpdate } from '../schemas/ocsp.js';
import type { Singleton } from '../store/object-store.js';

const DEFAULTS = { query_frequency: 3600, recovery_frequency: 60, recovery_max_tries: 5, response_timeout: 1 } as const;
const NO_STAPLING = "OCSP cannot be enabled: this node lacks the OCSP capability (openrs's proxy does not staple OCSP responses)";

export class OcspService {
  constructor(
    private readonly store: Singleton<OcspRecord>,
    /** The proxy certificate (PEM, leaf first), if installed. */
    private readonly proxyCertificate: () => Promise<string | undefined>,
  ) {}

  async get(): Promise<Ocsp> {
    const rec = (await this.store.get())?.value ?? {};
    const s = { ...DEFAULTS, ...rec };
    return {
      ocsp_functionality: false,
      query_frequency: s.query_frequency,
      recovery_frequency: s.recovery_frequency,
      recovery_max_tries: s.recovery_max_tries,
      responder_url: await this.responderUrl(),
      response_timeout: s.response_timeout,
    };
  }

  async update(body: OcspUpdate): Promise<Ocsp> {
    if (body.responder_url !== undefined && body.responder_url !== (await this.responderUrl())) {
      throw new RsError('read_only_field', 'responder_url is read-only: it is the OCSP URL embedded in the proxy certificate');
    }
    if (body.ocsp_functionality === true) throw new RsError('ocsp_unsupported_by_capability', NO_STAPLING);
    const { ocsp_functionality: _on, responder_url: _url, ...settings } = body;
    await this.store.update((cur) => ({ ...cur, ...settings }));
    return this.get();
  }

  /** No status is ever cached: OCSP cannot be on, and test results are cached only while it is. */
  status(): OcspStatus {
    return {};
  }

  async test(): Promise<never> {
    const url = await this.responderUrl();
    if (!url) throw new RsError('no_responder_url', 'The proxy certificate names no OCSP responder (no OCSP URI in its Authority Information Access extension)');
    throw new RsError('ocsp_unsupported_by_capability', `Cannot query the OCSP responder ${url}: openrs has no OCSP client`);
  }

  /** The first OCSP URI of the proxy certificate's Authority Information Access, or "". */
  private async responderUrl(): Promise<string> {
    const pem = await this.proxyCertificate();
    const leaf = pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)?.[0];
    if (!leaf) return '';
    try {
      const access = new X509Certificate(leaf).infoAccess ?? '';
      return /^OCSP - URI:(.+)$/m.exec(access)?.[1]?.trim() ?? '';
    } catch {
      return '';
    }
  }
}
