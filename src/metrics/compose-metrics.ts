/** Composition of the Prometheus exporter: the scrape context from the stats sampler and the CCS. */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { UserRecord } from '../auth/user-record.js';
import type { TlsManager } from '../certs/tls-manager.js';
import type { Config } from '../config.js';
import { BDBS_PREFIX } from '../services/bdb-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ClusterSettings } from '../schemas/cluster-settings.js';
import type { ClusterRecord } from '../services/cluster-defaults.js';
import type { NodeRecord } from '../services/node-service.js';
import type { KvBackend } from '../store/kv.js';
import { Collection, type Singleton } from '../store/object-store.js';
import type { StatsParts } from '../stats/compose-stats.js';
import type { Clock } from '../util/clock.js';
import { SOFTWARE_VERSION } from '../util/product.js';
import { MetricsExporter } from './exporter.js';
import { metricsAuthorizer, type MetricsAuthOptions } from './metrics-auth.js';

export function composeMetrics(o: {
  config: Config;
  log: Logger;
  clock: Clock;
  tls: TlsManager;
  kv: KvBackend;
  stats: StatsParts;
  cluster: Singleton<ClusterRecord>;
  /** The cluster policy: metrics_exporter_expose_bdb_name. */
  policy: Singleton<ClusterSettings>;
  nodes: Collection<NodeRecord>;
  users: Collection<UserRecord>;
  /** The REST API's credential check and role scope, for metrics_auth. */
  authenticate: MetricsAuthOptions['authenticate'];
  scoped: MetricsAuthOptions['scoped'];
  license(): Promise<{ expiration_date: string; shards_limit?: number; ram_shards_limit?: number | null }>;
  certificates(): Promise<Record<string, string>>;
}): MetricsExporter {
  const bdbs = new Collection<BdbRecord>(o.kv, BDBS_PREFIX);
  return new MetricsExporter({
    host: o.config.api_addr,
    port: o.config.metrics_port,
    tls: o.tls,
    log: o.log,
    classify: o.stats.classify,
    authorize: metricsAuthorizer({
      log: o.log,
      enabled: async () => (await o.cluster.get())?.value.metrics_auth === true,
      authenticate: o.authenticate,
      scoped: o.scoped,
    }),
    context: async () => {
      const now = o.clock.now().getTime();
      const [cluster, policy, nodes, bdbList, users, license, pems] = await Promise.all([
        o.cluster.get(), o.policy.get(), o.nodes.list(), bdbs.list(), o.users.list(), o.license().catch(() => undefined), o.certificates().catch(() => ({}) as Record<string, string>),
      ]);
      const certificates: Record<string, number> = {};
      for (const [k, pem] of Object.entries(pems)) {
        if (!k.endsWith('_cert')) continue;
        try {
          certificates[k.slice(0, -'_cert'.length)] = Math.round((Date.parse(new X509Certificate(pem).validTo) - now) / 1000);
        } catch {
          // unparsable: no expiry to report
        }
      }
      return {
        cluster: cluster?.value.name ?? '',
        exposeBdbName: policy?.value.metrics_exporter_expose_bdb_name === true,
        now: Math.floor(now / 1000),
        latest: o.stats.sampler.latest,
        store: o.stats.store,
        bdbs: bdbList,
        nodes,
        softwareVersion: SOFTWARE_VERSION,
        usersCount: users.length,
        license: license && {
          expirationDays: (Date.parse(license.expiration_date) - now) / 86_400_000,
          shardsLimit: license.shards_limit,
          ramShardsLimit: license.ram_shards_limit ?? undefined,
        },
        certificates,
      };
    },
  });
}
