/** GET/PUT /v1/cluster, /v1/cluster/policy and /v1/cm_settings. */
import { RsError } from '../errors.js';
import type { TlsManager } from '../certs/tls-manager.js';
import type { Cluster, ClusterUpdate } from '../schemas/cluster.js';
import { MASKED_PASSWORD } from '../schemas/ldap.js';
import type { ClusterSettings, ClusterSettingsUpdate, CmSettings } from '../schemas/cluster-settings.js';
import { KvConflictError } from '../store/kv.js';
import type { Singleton } from '../store/object-store.js';
import { applyClusterUpdate } from './cluster-rules.js';
import type { ClusterRecord } from './cluster-defaults.js';
import type { CertificateService } from './certificate-service.js';

/**
 * Fields the cluster object reports read-only but the policy (/v1/cluster/policy) sets: the
 * policy is their one source, so both views always agree.
 */
const FROM_POLICY = [
  'default_non_sharded_proxy_policy', 'default_sharded_proxy_policy', 'rack_aware',
  'slave_ha', 'slave_ha_bdb_cooldown_period', 'slave_ha_cooldown_period', 'slave_ha_grace_period',
] as const satisfies readonly (keyof Cluster & keyof ClusterSettings)[];

export class ClusterService {
  constructor(
    private readonly cluster: Singleton<ClusterRecord>,
    private readonly policy: Singleton<ClusterSettings>,
    private readonly cmSettings: Singleton<CmSettings>,
    private readonly certificates: CertificateService,
    private readonly tls: TlsManager,
  ) {}

  private async record(): Promise<{ value: ClusterRecord; modRevision: number }> {
    const rec = await this.cluster.get();
    if (!rec) throw new RsError('node_not_bootstrapped');
    return rec;
  }

  async name(): Promise<string> {
    return (await this.record()).value.name;
  }

  async get(): Promise<Cluster> {
    return this.view((await this.record()).value);
  }

  /**
   * The cluster object as served: the record, the policy-owned fields and the certificate store's
   * certificates, with smtp_password masked.
   */
  private async view(value: ClusterRecord): Promise<Cluster> {
    const [proxy, syncer, policy] = await Promise.all([this.certificates.get('proxy'), this.certificates.get('syncer'), this.policy.get()]);
    const fromPolicy = policy ? Object.fromEntries(FROM_POLICY.map((k) => [k, policy.value[k]])) : {};
    return {
      ...value, ...fromPolicy, proxy_certificate: proxy?.certificate ?? '', syncer_certificate: syncer?.certificate ?? '',
      // Never in clear, to any role (as the LDAP bind_pass): the mailer reads the record itself.
      smtp_password: value.smtp_password ? MASKED_PASSWORD : '',
    } as Cluster;
  }

  /** Apply the stored control-plane TLS policy to the API listener (at start and after a change). */
  async applyTlsPolicy(): Promise<void> {
    const rec = await this.cluster.get();
    if (rec) this.tls.setPolicy({ min_control_TLS_version: rec.value.min_control_TLS_version, control_cipher_suites: rec.value.control_cipher_suites });
  }

  async update(update: ClusterUpdate, opts: { dryRun: boolean }): Promise<Cluster> {
    const { value: current, modRevision } = await this.record();
    const merged = applyClusterUpdate({ ...current, proxy_certificate: '', syncer_certificate: '' } as Cluster, update);
    const { proxy_certificate: _p, syncer_certificate: _s, ...next } = merged;
    if (update.control_cipher_suites !== undefined || update.min_control_TLS_version !== undefined) {
      try {
        this.tls.check(undefined, { min_control_TLS_version: next.min_control_TLS_version, control_cipher_suites: next.control_cipher_suites });
      } catch (e) {
        throw new RsError('invalid_schema', `control_cipher_suites / min_control_TLS_version: ${(e as Error).message}`);
      }
    }
    if (!opts.dryRun) {
      try {
        await this.cluster.put(next, modRevision);
      } catch (e) {
        if (e instanceof KvConflictError) throw new RsError('config_edit_conflict');
        throw e;
      }
      await this.applyTlsPolicy();
    }
    // A dry run answers with what the cluster would look like, certificates included.
    return opts.dryRun ? this.view(next) : this.get();
  }

  async getPolicy(): Promise<ClusterSettings> {
    const rec = await this.policy.get();
    if (!rec) throw new RsError('node_not_bootstrapped');
    return rec.value;
  }

  async updatePolicy(update: ClusterSettingsUpdate): Promise<ClusterSettings> {
    // One node cannot be rack-aware, and the OSS sharding default is documented as "do not change".
    if (update.rack_aware === true) throw new RsError('unsupported_option', 'rack_aware requires nodes in several racks; openrs runs one node');
    if (update.default_oss_sharding === true) throw new RsError('unsupported_option', "default_oss_sharding is reserved for future use and can't be enabled");
    return this.policy.update((cur) => ({ ...(cur as ClusterSettings), ...update }));
  }

  async getCmSettings(): Promise<CmSettings> {
    return (await this.cmSettings.get())?.value ?? { timezone: 'UTC' };
  }

  async updateCmSettings(update: Partial<CmSettings>): Promise<CmSettings> {
    if (update.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: update.timezone });
      } catch {
        throw new RsError('invalid_schema', `Unknown time zone '${update.timezone}'`);
      }
    }
    return this.cmSettings.update((cur) => ({ ...(cur ?? { timezone: 'UTC' }), ...update }));
  }
}
