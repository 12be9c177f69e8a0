/**
 * The proxy settings openrs honours (objects/proxy.md), kept in the CCS per proxy (one per node, uid = node uid).
 * The reconciler puts them in every endpoint's spec; the proxy routes (proxy-service.ts) read and change them.
 */
export const PROXIES_PREFIX = '/proxies/';
export const proxyKey = (uid: number) => `${PROXIES_PREFIX}${uid}`;

export interface ProxySettings {
  uid: number;
  /** Seconds of client silence before TCP keepalive probes (redis-server's own default, 300). */
  client_keepidle: number;
  /** true: the databases' max_connections are not enforced at the endpoint. */
  ignore_bdb_cconn_limit: boolean;
}

export const defaultProxySettings = (uid: number): ProxySettings => ({ uid, client_keepidle: 300, ignore_bdb_cconn_limit: false });
