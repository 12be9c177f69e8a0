/** Composition root: store → domain stores → services. The only place that wires with `new`. */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Authenticator } from './auth/authenticate.js';
import { JWT_KEY, JwtAuth, type JwtSigningKey } from './auth/jwt.js';
import { LdapAuth } from './auth/ldap-auth.js';
import { LocalUsers } from './auth/local-users.js';
import { USERS_PREFIX, type UserRecord } from './auth/user-record.js';
import { TlsManager } from './certs/tls-manager.js';
import type { BootstrapStatus } from './schemas/bootstrap.js';
import type { ClusterSettings, CmSettings } from './schemas/cluster-settings.js';
import { BootstrapService } from './services/bootstrap-service.js';
import { CertificateService } from './services/certificate-service.js';
import { BdbCertificateService } from './services/bdb-certificate-service.js';
import type { ClusterRecord } from './services/cluster-defaults.js';
import { ClusterService } from './services/cluster-service.js';
import { LdapConfigService } from './services/ldap-config-service.js';
import { LdapMappingService, ROLES_PREFIX, type RoleRef } from './services/ldap-mapping-service.js';
import { LicenseService, type LicenseRecord } from './services/license-service.js';
import { NodeService, type NodeRecord } from './services/node-service.js';
import { ShardInventory } from './services/shard-inventory.js';
import { BdbSyncService } from './services/bdb-sync-service.js';
import { BdbModuleService } from './services/bdb-module-service.js';
import { ModuleService } from './services/module-service.js';
import { SuffixService } from './services/suffix-service.js';
import { UsageReportService } from './services/usage-report-service.js';
import { ShardMigrateService } from './services/shard-migrate-service.js';
import { BDBS_PREFIX } from './services/bdb-service.js';
import type { BdbRecord } from './services/bdb-view.js';
import { REDIS_ACLS_PREFIX } from './services/access-defaults.js';
import { RedisAclService } from './services/redis-acl-service.js';
import { RoleService } from './services/role-service.js';
import { UserService } from './services/user-service.js';
import { SsoService } from './services/sso-service.js';
import type { SsoRecord } from './schemas/sso.js';
import { bdbScopeOf, scopedBdbs, type BdbScope } from './auth/bdb-scope.js';
import type { Caller } from './api/route-types.js';
import type { RedisAcl } from './schemas/redis-acl.js';
import type { Role } from './schemas/role.js';
import type { LdapMapping } from './schemas/ldap.js';
import type { KvBackend } from './store/kv.js';
import { Collection, Singleton } from './store/object-store.js';
import { openStore } from './store/open-store.js';
import { composeDataPlane } from './controller/compose-data-plane.js';
import { composeStats, type StatsParts } from './stats/compose-stats.js';
import { composeAlerts } from './events/alerts-compose.js';
import type { AlertService } from './events/alerts.js';
import { composeMetrics } from './metrics/compose-metrics.js';
import type { MetricsExporter } from './metrics/exporter.js';
import type { ControllerManager } from './controller/manager.js';
import type { WatchdogOptions } from './controller/watchdog.js';
import type { ActionService } from './services/action-service.js';
import type { BdbService } from './services/bdb-service.js';
import type { ShardService } from './services/shard-service.js';
import type { BdbBackupService } from './services/bdb-backup-service.js';
import type { AvailabilityService } from './services/availability-service.js';
import type { EventStore } from './store/event-store.js';
import { SqliteEventStore } from './store/sqlite/sqlite-events.js';
import { EventLog } from './events/event-log.js';
import { shardDebugFiles } from './controller/shard-debug.js';
import { DebugInfoService } from './services/debuginfo-service.js';
import { ProxyService } from './services/proxy-service.js';
import { systemClock, type Clock } from './util/clock.js';
import { detectRedisVersion, SOFTWARE_VERSION } from './util/product.js';
import { NodeChecks, readLocalPortRange } from './controller/node-checks.js';
import { NodeCheckService } from './services/node-check-service.js';
import { CrdbService } from './services/crdb-service.js';
import { OcspService } from './services/ocsp-service.js';
import type { OcspRecord } from './schemas/ocsp.js';

export interface Services {
  bootstrap: BootstrapService;
  cluster: ClusterService;
  nodes: NodeService;
  license: LicenseService;
  certificates: CertificateService;
  jwt: JwtAuth;
  ldapConfig: LdapConfigService;
  ldapMappings: LdapMappingService;
  users: UserService;
  roles: RoleService;
  redisAcls: RedisAclService;
  sso: SsoService;
  health: { ccsReachable(): Promise<boolean> };
  bdbs: BdbService;
  /** Per-database proxy certificates (/v1/bdbs/{uid}/certificates). */
  bdbCertificates: BdbCertificateService;
  actions: ActionService;
  controllers: ControllerManager;
  shardViews: ShardService;
  availability: AvailabilityService;
  bdbData: BdbBackupService;
  /** Peer / sync source stats and syncer state (none: openrs runs no syncer). */
  bdbSync: BdbSyncService;
  /** modules/config and modules/upgrade. */
  bdbModules: BdbModuleService;
  /** The cluster's modules (none) and the refused upload. */
  modules: ModuleService;
  /** DNS suffixes (the cluster name). */
  suffixes: SuffixService;
  /** GET /v1/usage_report. */
  usageReport: UsageReportService;
  /** Shard migration (single node: only to the node a shard is on). */
  shardMigrate: ShardMigrateService;
  /** debuginfo.tar.gz archives. */
  debugInfo: DebugInfoService;
  /** /v1/proxies: the node's proxy. */
  proxies: ProxyService;
  /** GET /v1/nodes/check/{uid}, /v1/cluster/check: real checks of this node. */
  nodeChecks: NodeCheckService;
  /** Active-Active routes (none can exist). */
  crdbs: CrdbService;
  /** OCSP settings (stapling cannot be turned on). */
  ocsp: OcspService;
}

export interface Composed {
  /** Start the reconcilers (once the node is part of a cluster); idempotent. */
  startControllers(): Promise<void>;
  /** Tell the services which port the API listens on (the configured port may be 0). */
  setListeningPort(port: number): void;
  kv: KvBackend;
  events: EventStore;
  eventLog: EventLog;
  tls: TlsManager;
  services: Services;
  authenticator: Authenticator;
  policy: Singleton<ClusterSettings>;
  /** Stats sampler, rollups and the stats API (started with the controllers). */
  stats: StatsParts;
  /** Cluster, node and database alerts, evaluated at every stats sample. */
  alerts: AlertService;
  /** The Prometheus exporter (node-runtime makes it listen on metrics_port). */
  metrics: MetricsExporter;
  /** The databases a caller's roles limit it to (role.md `resources`), undefined = all. */
  bdbScope(caller: Caller): Promise<BdbScope | undefined>;
}

/** What compose takes besides the configuration: injected time, and watchdog thresholds (tests shorten them). */
export interface ComposeOptions {
  clock?: Clock;
  watchdog?: WatchdogOptions;
}

export async function compose(config: Config, log: Logger, opts: ComposeOptions = {}): Promise<Composed> {
  const clock = opts.clock ?? systemClock;
  let listeningPort: number | undefined;
  const kv = openStore(config.store);
  const storeFile = /^sqlite:\/\/(.+)$/.exec(config.store)?.[1];
  const events = new SqliteEventStore(storeFile ?? ':memory:');
  const eventLog = new EventLog(events, clock);
  const tls = new TlsManager(path.join(config.data_dir, 'tls'));
  await tls.init();

  const cluster = new Singleton<ClusterRecord>(kv, '/cluster');
  const policy = new Singleton<ClusterSettings>(kv, '/cluster_policy');
  const cmSettings = new Singleton<CmSettings>(kv, '/cm_settings');
  const licenseRec = new Singleton<LicenseRecord>(kv, '/license');
  const status = new Singleton<BootstrapStatus>(kv, '/local/bootstrap_status');
  const nodes = new Collection<NodeRecord>(kv, '/nodes/');
  const users = new Collection<UserRecord>(kv, USERS_PREFIX);
  const shards = new ShardInventory(kv);
  const roles = new Collection<Role>(kv, ROLES_PREFIX);
  const userService = new UserService({ kv, users, roles, cluster, policy, events: eventLog, clock });
  const roleService = new RoleService(kv, roles, users, eventLog);
  const redisAclService = new RedisAclService(kv, new Collection<RedisAcl>(kv, REDIS_ACLS_PREFIX), policy, eventLog);
  const localUsers = new LocalUsers(users, { settings: () => userService.loginSettings(), events: eventLog, clock });
  const jwt = new JwtAuth(new Singleton<JwtSigningKey>(kv, JWT_KEY), users, clock, async () => (await userService.loginSettings()).policy);
  const ldapConfig = new LdapConfigService(kv, eventLog);
  const ldapMappings = new LdapMappingService(kv, new Collection<LdapMapping>(kv, '/ldap_mappings/'), new Collection<RoleRef>(kv, ROLES_PREFIX), eventLog);

  const redis = await detectRedisVersion(config.redis_server);
  if (!redis) log.warn({ redis_server: config.redis_server }, 'redis-server not found: databases cannot be created until it is installed');

  const dataPlane = await composeDataPlane({ config, kv, log, clock, eventLog, shards, cluster, policy, nodes, redis, watchdog: opts.watchdog });
  let controllersStarted: Promise<void> | undefined;
  const stats = composeStats({ config, log, clock, kv, plane: dataPlane.plane, shards, nodes, shardViews: dataPlane.shardViews });
  dataPlane.shardViews.readInfoFrom((uid) => {
    const latest = stats.sampler.latest;
    const info = latest?.snapshot.shards.find((x) => x.uid === uid)?.info;
    return latest && info ? { info, time: latest.snapshot.time } : undefined;
  });
  const startControllers = () => (controllersStarted ??= dataPlane.manager.start().then(() => stats.start()));

  const clusterName = async () => (await cluster.get())?.value.name ?? '';
  const certificates = new CertificateService(kv, tls, clusterName, clock);
  const license = new LicenseService(licenseRec, shards, clusterName, clock);
  const alerts = composeAlerts({
    kv, log, clock, eventLog, cluster, nodes, sampler: stats.sampler,
    licenseExpiry: async () => new Date((await license.get()).expiration_date),
    certificates: () => certificates.list(),
  });
  const authenticator = new Authenticator([localUsers, new LdapAuth(ldapConfig, ldapMappings)], jwt,
    (login) => eventLog.write('user_login_failed', { login, reason: 'unknown_user' }, 'WARNING'),
    // disable-basic-authentication.md: cluster-wide switch, read at each request.
    async () => (await cluster.get())?.value.control_plane_basic_authentication !== false);
  const metrics = composeMetrics({
    config, log, clock, tls, kv, stats, cluster, policy, nodes, users, license: () => license.get(), certificates: () => certificates.list(),
    // metrics_auth: scrapes are checked like REST requests.
    authenticate: (req) => authenticator.authenticate(req),
    scoped: async (caller) => (await scopedBdbs(caller, roles)) !== undefined,
  });
  let bootstrap: BootstrapService;
  const nodeService = new NodeService(nodes, shards, clock, redis ? [redis] : [], () => (bootstrap?.isBootstrapped() ? 1 : undefined));
  const clusterService = new ClusterService(cluster, policy, cmSettings, certificates, tls);
  const dataDir = path.resolve(config.data_dir);
  bootstrap = new BootstrapService({
    kv, status, cluster, policy, cmSettings, license: licenseRec, nodes, users, certificates, licenses: license, clock, log,
    defaultPaths: {
      persistent_path: path.join(dataDir, 'persist'),
      ephemeral_path: path.join(dataDir, 'tmp'),
      bigstore_path: path.join(dataDir, 'flash'),
    },
    apiPort: () => listeningPort ?? config.api_port,
    storeDir: storeFile && storeFile !== ':memory:' ? path.dirname(path.resolve(storeFile)) : undefined,
    defaultRedisVersion: redis?.redis_version ?? '7.0',
    onCompleted: (api) => {
      tls.setPair(api);
      void startControllers().catch((e: unknown) => log.error({ err: e }, 'cannot start the database controllers'));
    },
  });
  await bootstrap.init();
  if (bootstrap.isBootstrapped()) {
    // The CCS copy of the api certificate is authoritative (it may have been replaced while we were down).
    const api = await certificates.get('api');
    if (api?.key && api.certificate !== tls.current().certificate) tls.setPair({ certificate: api.certificate, key: api.key });
    await clusterService.applyTlsPolicy();
  }
  if (bootstrap.isBootstrapped()) await roleService.ensureDefaults();
  const bdbRecords = new Collection<BdbRecord>(kv, BDBS_PREFIX);
  // openrs installs no Redis modules (bootstrap refuses user_defined_modules, upload is refused):
  // this one list is what GET /v1/modules answers and what modules/upgrade checks against.
  const modules = new ModuleService(() => []);
  const localUid = () => (bootstrap.isBootstrapped() ? 1 : undefined);
  const nodeChecks = new NodeChecks({
    clock, kv,
    bootstrapState: async () => (await bootstrap.status()).state,
    bdbs: async () => (await bdbRecords.list()).map((b) => ({ uid: b.uid, status: b.status })),
    shards: () => shards.onNode(localUid() ?? 1),
    probeShard: (target, timeoutMs) => dataPlane.plane.supervisor.probe(target, timeoutMs),
    pingProxy: () => dataPlane.plane.proxy.ping(),
    configSocket: dataPlane.configSocket,
    lastSample: () => (stats.sampler.latest ? stats.sampler.latest.etimeSec * 1000 : undefined),
    portRanges: [{ name: 'database port range', range: config.db_ports }, { name: 'shard port range', range: config.shard_ports }],
    localPortRange: () => readLocalPortRange(),
    storagePaths: async () => {
      const node = (await nodes.get(localUid() ?? 1))?.value;
      return [dataDir, ...(node ? [node.persistent_storage_path, node.ephemeral_storage_path] : [])];
    },
    minFreeBytes: config.min_free_disk_mb * 1024 * 1024,
  });

  return {
    startControllers,
    setListeningPort: (port) => (listeningPort = port),
    kv,
    events,
    eventLog,
    stats,
    alerts,
    metrics,
    tls,
    policy,
    authenticator,
    bdbScope: (caller) => bdbScopeOf(caller, roles, () => shards.all()),
    services: {
      bootstrap,
      cluster: clusterService,
      nodes: nodeService,
      license,
      certificates,
      ldapConfig,
      ldapMappings,
      jwt,
      users: userService,
      roles: roleService,
      redisAcls: redisAclService,
      sso: new SsoService(new Singleton<SsoRecord>(kv, '/sso'), cluster, async () => (await certificates.get('sso_service'))?.key !== undefined),
      bdbs: dataPlane.bdbs,
      bdbCertificates: new BdbCertificateService(kv, bdbRecords, certificates),
      actions: dataPlane.actions,
      controllers: dataPlane.manager,
      shardViews: dataPlane.shardViews,
      availability: dataPlane.availability,
      bdbData: dataPlane.bdbData,
      bdbSync: new BdbSyncService(bdbRecords),
      bdbModules: new BdbModuleService(bdbRecords, () => modules.names()),
      modules,
      suffixes: new SuffixService(clusterName),
      usageReport: new UsageReportService({
        cluster: async () => (await cluster.get())?.value,
        bdbs: () => bdbRecords.list(),
        shards: () => shards.all(),
        license: async () => ((await licenseRec.get()) ? license.get() : undefined),
        latestBdbSample: (uid) => stats.store.entries('bdb', String(uid), '1sec').at(-1),
        softwareVersion: SOFTWARE_VERSION,
        clock,
      }),
      shardMigrate: new ShardMigrateService(shards, nodes, dataPlane.actions),
      proxies: new ProxyService({
        kv,
        nodeUids: async () => (await nodes.list()).map((n) => n.uid),
        bdbs: () => bdbRecords.list(),
        ping: () => dataPlane.plane.proxy.ping().catch(() => undefined),
        endpoints: () => dataPlane.plane.proxy.list(),
        logLevel: config.log_level === 'silent' ? 'warn' : config.log_level,
        listeners: config.db_ports.to - config.db_ports.from + 1,
      }),
      debugInfo: new DebugInfoService({
        cluster: () => clusterService.get(),
        nodes: () => nodeService.list(),
        bdb: (uid) => dataPlane.bdbs.get(uid, { hidePasswords: true }),
        bdbUids: async () => (await bdbRecords.list()).map((b) => b.uid),
        shards: (uid) => shards.ofBdb(uid),
        shardViews: (uid) => dataPlane.shardViews.list(uid),
        events: (limit) => events.query({ order: 'desc', limit }),
        shardFiles: (x) => shardDebugFiles(dataPlane.plane, x),
        logsDir: path.join(path.resolve(config.data_dir), 'logs'),
        tmpDir: path.join(path.resolve(config.data_dir), 'tmp'),
      }),
      nodeChecks: new NodeCheckService(nodes, nodeChecks, localUid),
      crdbs: new CrdbService(),
      ocsp: new OcspService(new Singleton<OcspRecord>(kv, '/ocsp'), async () => (await certificates.get('proxy'))?.certificate),
      health: {
        async ccsReachable() {
          try {
            await kv.revision();
            return true;
          } catch {
            return false;
          }
        },
      },
    },
  };
}
