/**
 * The proxy endpoint a database wants (pure): port, current master, connection limit, traffic,
 * RESP3 policy and TLS. TLS uses the cluster's `proxy` certificate, as RS presents it on database
 * endpoints (security/encryption/tls); client certificates are required when
 * enforce_client_authentication is on and authentication_ssl_client_certs lists some.
 */
import type { ProxySettings } from '../services/proxy-settings.js';
import type { EndpointSpec, EndpointTls } from '../proxy/protocol.js';
import { defaultCluster } from '../services/cluster-defaults.js';
import type { BdbRecord } from '../services/bdb-view.js';

export interface CertPair {
  certificate: string;
  key?: string;
}

/** The cluster's data-plane TLS policy (objects/cluster, security/encryption/tls): applied on every TLS endpoint. */
export interface DataTlsPolicy {
  min_data_TLS_version?: '1.2' | '1.3';
  data_cipher_list?: string;
  data_cipher_suites_tls_1_3?: string[];
}

/** The cluster's defaults (cluster-defaults.ts): TLS 1.2 and up, RS's default cipher string, no TLS 1.3 suite list. */
export function isDefaultDataTls(policy: DataTlsPolicy | undefined): boolean {
  const d = defaultCluster({ name: '', created_time: '', api_port: 0 });
  return (policy?.min_data_TLS_version ?? '1.2') === d.min_data_TLS_version
    && (policy?.data_cipher_list ?? d.data_cipher_list) === d.data_cipher_list
    && !(policy?.data_cipher_suites_tls_1_3 ?? []).length;
}

/**
 * The policy to put in endpoint specs. A proxy of an older build (a manager upgrade keeps it running) knows no TLS
 * options: at the cluster's defaults none are sent, so that it is kept with its clients connected (it serves TLS 1.2
 * and up with Node's default ciphers, as it always did); a policy an admin changed is sent, and the proxy is then
 * replaced by this build's to apply it (ProxyClient, proxy.md "Upgrades").
 */
export function dataTlsFor(policy: DataTlsPolicy | undefined, legacyProxy: boolean): DataTlsPolicy | undefined {
  return legacyProxy && isDefaultDataTls(policy) ? undefined : policy;
}

/** The endpoint TLS options the policy gives: minVersion, and one cipher string with the TLS 1.3 suites appended. */
export function dataTlsOptions(policy: DataTlsPolicy | undefined): Pick<EndpointTls, 'minVersion' | 'ciphers'> {
  const ciphers = [policy?.data_cipher_list, ...(policy?.data_cipher_suites_tls_1_3 ?? [])].filter((c) => !!c?.trim()).join(':');
  return {
    ...(policy?.min_data_TLS_version ? { minVersion: policy.min_data_TLS_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2' } : {}),
    ...(ciphers ? { ciphers } : {}),
  };
}

export const endpointUid = (bdbUid: number) => `${bdbUid}:1`;

/** tls_mode 'enabled', or the deprecated `ssl: true`. */
export function tlsEnabled(rec: Pick<BdbRecord, 'tls_mode' | 'ssl'>): boolean {
  return rec.tls_mode === 'enabled' || rec.ssl === true;
}

/** The endpoint's TLS settings; null for plain TCP. Throws when TLS is on and there is no usable proxy certificate. */
export function endpointTls(rec: BdbRecord, proxyCert: CertPair | undefined, policy?: DataTlsPolicy): EndpointTls | null {
  if (!tlsEnabled(rec)) return null;
  if (!proxyCert?.key) throw new Error('tls_mode is enabled but the cluster has no proxy certificate with a key');
  const clientCerts = (rec.authentication_ssl_client_certs ?? []).map((c) => c.client_cert.trim()).filter(Boolean);
  // enforce_client_authentication defaults to 'enabled'; without trusted certificates it cannot be enforced (the service refuses that combination when asked for explicitly).
  const enforce = rec.enforce_client_authentication !== 'disabled' && clientCerts.length > 0;
  return {
    cert: proxyCert.certificate,
    key: proxyCert.key,
    ...(enforce ? { ca: clientCerts.join('\n'), requestClientCert: true } : {}),
    ...dataTlsOptions(policy),
  };
}

/** The client limit the endpoint enforces: the database's `max_connections`, unless the proxy ignores them. */
export function endpointMaxConnections(rec: Pick<BdbRecord, 'max_connections'>, proxy?: Pick<ProxySettings, 'ignore_bdb_cconn_limit'>): number {
  return proxy?.ignore_bdb_cconn_limit ? 0 : rec.max_connections ?? 0;
}

export function endpointSpec(rec: BdbRecord, o: { addr: string; master: { host: string; port: number; socket?: string }; proxyCert?: CertPair; dataTls?: DataTlsPolicy; configSocket?: string; proxy?: ProxySettings }): EndpointSpec {
  return {
    uid: endpointUid(rec.uid),
    port: rec.endpoint_port,
    addr: o.addr,
    target: { host: o.master.host, port: o.master.port, ...(o.master.socket ? { socket: o.master.socket } : {}) },
    max_connections: endpointMaxConnections(rec, o.proxy),
    ...(o.proxy ? { client_keepidle: o.proxy.client_keepidle } : {}),
    traffic: rec.traffic,
    resp3: rec.resp3 !== false,
    // The proxy's connection settings (mux.ts); absent ones take RS's defaults there.
    ...(rec.conns !== undefined ? { conns: Math.min(rec.conns, 1024) } : {}),
    ...(rec.max_client_pipeline !== undefined ? { max_client_pipeline: rec.max_client_pipeline } : {}),
    ...(rec.max_pipelined !== undefined ? { max_pipelined: rec.max_pipelined } : {}),
    ...(rec.sched_policy !== undefined ? { sched_policy: rec.sched_policy } : {}),
    tls: endpointTls(rec, o.proxyCert, o.dataTls),
    ...(o.configSocket ? { config_socket: o.configSocket } : {}),
  };
}
