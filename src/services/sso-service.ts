/**
 * Single sign-on (requests/cluster/sso.md, objects/sso.md). openrs does not implement SAML yet,
 * so SSO can be described but never enabled:
 * - GET answers the object in its documented default state (control_plane and
 *   enforce_control_plane false, protocol saml2, service.address = cluster name + CM port),
 *   with whatever issuer / address settings were stored.
 * - PUT stores issuer id/URLs and service.address while SSO stays off. A PUT that would turn SSO
 *   on is checked like RS does (400 missing_param, 406 missing_certificate without the
 *   `sso_service` certificate), then refused: 400 unsupported_option.
 * - DELETE clears the stored settings.
 * - The SAML metadata routes answer 406 missing_certificate while no `sso_service` certificate is
 *   installed (the page's "not configured" answer), else 400 unsupported_option. IdP metadata that
 *   is not base64 XML → 400 saml_metadata_parsing_error first, as the page documents.
 */
import { RsError } from '../errors.js';
import type { Sso, SsoRecord, SsoUpdate } from '../schemas/sso.js';
import type { Singleton } from '../store/object-store.js';
import type { ClusterRecord } from './cluster-defaults.js';

const NOT_SUPPORTED = 'SAML single sign-on is not supported by openrs yet; users sign in with passwords, LDAP or JWT';

export class SsoService {
  constructor(
    private readonly store: Singleton<SsoRecord>,
    private readonly cluster: Singleton<ClusterRecord>,
    /** True when the `sso_service` certificate (SP certificate + key) is installed. */
    private readonly hasServiceCertificate: () => Promise<boolean>,
  ) {}

  async get(): Promise<Sso> {
    const rec = (await this.store.get())?.value ?? {};
    const c = (await this.cluster.get())?.value;
    return {
      control_plane: false,
      enforce_control_plane: false,
      protocol: 'saml2',
      issuer: { ...rec.issuer },
      service: { address: rec.service?.address ?? `https://${c?.name ?? 'localhost'}:${c?.cm_port ?? 8443}` },
    };
  }

  async update(body: SsoUpdate): Promise<void> {
    if (body.issuer?.metadata !== undefined) throw new RsError('read_only_field', 'issuer.metadata is read-only: upload IdP metadata with POST /v1/cluster/sso/saml/metadata/idp');
    if (body.service?.saml2 !== undefined) throw new RsError('read_only_field', 'service.saml2 is read-only');
    const merge = (cur: SsoRecord | undefined): SsoRecord => ({
      issuer: { ...cur?.issuer, ...body.issuer },
      service: { ...cur?.service, ...body.service },
    });
    if (body.control_plane === true || body.enforce_control_plane === true) {
      const issuer = merge((await this.store.get())?.value).issuer ?? {};
      const missing = (['id', 'login_url'] as const).filter((k) => !issuer[k]);
      if (missing.length) throw new RsError('missing_param', `Enabling SSO needs issuer.${missing.join(', issuer.')}`);
      await this.requireCertificate('SSO certificate (sso_service) is not found while SSO is being enabled');
      throw new RsError('unsupported_option', NOT_SUPPORTED);
    }
    await this.store.update(merge);
  }

  async delete(): Promise<void> {
    await this.store.update(() => ({}));
  }

  async spMetadata(): Promise<never> {
    await this.requireCertificate('Service certificate (sso_service) is missing: SSO is not configured');
    throw new RsError('unsupported_option', NOT_SUPPORTED);
  }

  async uploadIdpMetadata(b64: string): Promise<never> {
    const xml = /^[A-Za-z0-9+/\s]+=*\s*$/.test(b64) ? Buffer.from(b64, 'base64').toString('utf8').trim() : '';
    if (!xml.startsWith('<') || !/EntityDescriptor/.test(xml)) {
      throw new RsError('saml_metadata_parsing_error', 'idp_metadata is not base64-encoded SAML metadata XML');
    }
    await this.requireCertificate('SSO certificate (sso_service) is not found');
    throw new RsError('unsupported_option', NOT_SUPPORTED);
  }

  private async requireCertificate(message: string): Promise<void> {
    if (!(await this.hasServiceCertificate())) throw new RsError('missing_certificate', message);
  }
}
