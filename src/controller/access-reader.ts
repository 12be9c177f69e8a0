/**
 * What the bdb reconciler reads from the CCS besides bdbs and shards: users, Redis ACLs and the
 * cluster pub/sub default (database users, db-users.ts), the certificate of each TLS endpoint
 * (the database's own, else the cluster's `proxy` one) and the proxy settings (every endpoint). The keys here are also what the manager watches to re-apply them (ACCESS_WATCHES).
 */
import { USERS_PREFIX, type UserRecord } from '../auth/user-record.js';
import type { PubsubDefault } from '../redis/config-map.js';
import type { RedisAcl } from '../schemas/redis-acl.js';
import { REDIS_ACLS_PREFIX, ROLES_PREFIX } from '../services/access-defaults.js';
import { BDB_CERTIFICATES_PREFIX, type BdbCertificateRecord } from '../services/bdb-certificate-service.js';
import type { CertificateRecord } from '../services/certificate-service.js';
import { defaultProxySettings, proxyKey, type ProxySettings } from '../services/proxy-settings.js';
import type { KvBackend, WatchEvent } from '../store/kv.js';
import type { AccessReader, PasswordRemovalPolicy } from './bdb-controller.js';
import type { CertPair, DataTlsPolicy } from './endpoint-spec.js';

export const PROXY_CERT_KEY = '/certificates/proxy';
export const POLICY_KEY = '/cluster_policy';
export const CLUSTER_KEY = '/cluster';

/** The cluster fields that make the data-plane TLS policy (every TLS endpoint's spec). */
export function dataTlsPolicyOf(c: DataTlsPolicy | undefined): DataTlsPolicy {
  return { min_data_TLS_version: c?.min_data_TLS_version, data_cipher_list: c?.data_cipher_list, data_cipher_suites_tls_1_3: c?.data_cipher_suites_tls_1_3 };
}

/** Changes under these keys re-apply database users (users, roles, ACLs, pub/sub default). */
export const ACCESS_WATCHES = [USERS_PREFIX, ROLES_PREFIX, REDIS_ACLS_PREFIX, POLICY_KEY] as const;

/**
 * Filters watch events down to changes that can change database users. User records are also
 * rewritten by logins (last_login, lockout counters): those are ignored by remembering, per user
 * key, the fields database users are made of.
 */
export class AccessChanges {
  private readonly seen = new Map<string, string>();

  relevant(ev: WatchEvent): boolean {
    if (!ev.key.startsWith(USERS_PREFIX)) return true;
    if (ev.type === 'delete') {
      this.seen.delete(ev.key);
      return true;
    }
    const u = ev.value as Partial<UserRecord> | undefined;
    const print = JSON.stringify([u?.name, u?.role_uids, u?.auth_method, u?.db_password_sha256]);
    if (this.seen.get(ev.key) === print) return false;
    this.seen.set(ev.key, print);
    return true;
  }
}

export class KvAccessReader implements AccessReader {
  constructor(private readonly kv: KvBackend) {}

  async dbUsersInput(): Promise<{ users: UserRecord[]; acls: RedisAcl[]; pubsubDefault: PubsubDefault }> {
    const [users, acls, policy] = await Promise.all([
      this.kv.list<UserRecord>(USERS_PREFIX),
      this.kv.list<RedisAcl>(REDIS_ACLS_PREFIX),
      this.kv.get<{ acl_pubsub_default?: PubsubDefault }>(POLICY_KEY),
    ]);
    return {
      users: users.map((e) => e.value),
      acls: acls.map((e) => e.value),
      pubsubDefault: policy?.value.acl_pubsub_default ?? 'resetchannels',
    };
  }

  async clusterPasswordRemoval(): Promise<PasswordRemovalPolicy> {
    return (await this.kv.get<{ disconnect_clients_on_password_removal?: PasswordRemovalPolicy }>(CLUSTER_KEY))?.value.disconnect_clients_on_password_removal ?? 'auto';
  }

  async dataTlsPolicy(): Promise<DataTlsPolicy> {
    return dataTlsPolicyOf((await this.kv.get<DataTlsPolicy>(CLUSTER_KEY))?.value);
  }

  async proxyCertificate(bdbUid: number): Promise<CertPair | undefined> {
    const own = (await this.kv.get<BdbCertificateRecord>(BDB_CERTIFICATES_PREFIX + bdbUid))?.value;
    return own ?? (await this.kv.get<CertificateRecord>(PROXY_CERT_KEY))?.value;
  }

  async proxySettings(nodeUid: number): Promise<ProxySettings> {
    return (await this.kv.get<ProxySettings>(proxyKey(nodeUid)))?.value ?? defaultProxySettings(nodeUid);
  }
}
