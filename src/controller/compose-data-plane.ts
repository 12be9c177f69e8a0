/**
 * Composition of the database side: shard supervisor, proxy client, reconciler, watchdog and the
 * bdb service. Called from compose.ts (kept apart so the composition root stays readable).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventLog } from '../events/event-log.js';
import { ProxyClient } from '../proxy/control.js';
import type { AdminCredentials } from '../redis/conf-file.js';
import { PortAllocator } from '../redis/ports.js';
import { ShardSupervisor } from '../redis/supervisor.js';
import type { ClusterSettings } from '../schemas/cluster-settings.js';
import { ActionService } from '../services/action-service.js';
import { ShardService } from '../services/shard-service.js';
import { BdbService, BDBS_PREFIX } from '../services/bdb-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ClusterRecord } from '../services/cluster-defaults.js';
import type { NodeRecord } from '../services/node-service.js';
import { SHARDS_PREFIX, type ShardInventory, type ShardSummary } from '../services/shard-inventory.js';
import type { KvBackend } from '../store/kv.js';
import { Collection, Singleton } from '../store/object-store.js';
import { detectRedisVersion, type DatabaseVersion } from '../util/product.js';
import type { Clock } from '../util/clock.js';
import { AvailabilityService } from '../services/availability-service.js';
import { KvAccessReader } from './access-reader.js';
import { AvailabilityProbe } from './availability.js';
import { BdbController } from './bdb-controller.js';
import { ClientConfig } from './client-config.js';
import { ConfigSocket } from './config-socket.js';
import { composeBackups } from './backup-compose.js';
import type { BdbBackupService } from '../services/bdb-backup-service.js';
import { openFilesLimit } from '../host/host-facts.js';
import { DataPlane } from './data-plane.js';
import { ControllerManager } from './manager.js';
import type { WatchdogOptions } from './watchdog.js';

export interface DataPlaneParts {
  bdbs: BdbService;
  actions: ActionService;
  manager: ControllerManager;
  plane: DataPlane;
  shardViews: ShardService;
  availability: AvailabilityService;
  /** Export, import, backups and recovery (services/bdb-backup-service.ts). */
  bdbData: BdbBackupService;
  /** The manager's config socket the proxy asks for client settings (node checks connect to it). */
  configSocket: string;
}

export async function composeDataPlane(o: {
  config: Config;
  kv: KvBackend;
  log: Logger;
  clock: Clock;
  eventLog: EventLog;
  shards: ShardInventory;
  cluster: Singleton<ClusterRecord>;
  policy: Singleton<ClusterSettings>;
  nodes: Collection<NodeRecord>;
  redis: DatabaseVersion | undefined;
  /** Watchdog thresholds (tests shorten them). */
  watchdog?: WatchdogOptions;
}): Promise<DataPlaneParts> {
  const { kv, config, log } = o;
  // The shards' internal admin user: one random password per cluster, kept in the CCS.
  const adminStore = new Singleton<AdminCredentials>(kv, '/internal/shard_admin');
  const admin = await adminStore.update((cur) => cur ?? { user: 'openrs-admin', password: randomBytes(24).toString('base64url') });
  const supervisor = new ShardSupervisor({ redisServer: config.redis_server, log, admin });
  const runDir = path.join(path.resolve(config.data_dir), 'run');
  const proxy = new ProxyClient({
    socketPath: path.join(runDir, 'proxy.sock'),
    stateFile: path.join(runDir, 'proxy-state.json'),
    logFile: path.join(path.resolve(config.data_dir), 'logs', 'proxy.log'),
    logLevel: config.log_level === 'silent' ? 'warn' : config.log_level,
    onReplace: (why) => log.warn({ why }, 'replacing the running proxy with this build\'s: its client connections drop'),
  });
  const plane = new DataPlane(supervisor, proxy);
  const configSocket = path.join(runDir, 'manager.sock');
  const bdbStore = new Collection<BdbRecord>(kv, BDBS_PREFIX);
  const shardsStore = new Collection<ShardSummary>(kv, SHARDS_PREFIX);
  const actions = new ActionService(kv, o.clock);
  const controller = new BdbController({
    kv, bdbs: bdbStore, shardsStore, shards: o.shards, actions, plane, events: o.eventLog, log, endpointAddr: config.api_addr,
    access: new KvAccessReader(kv), adminUser: admin.user, configSocket,
    freeShardPort: (taken) => new PortAllocator('127.0.0.1').allocate(config.shard_ports, taken),
    installedRedisVersion: async () => (await detectRedisVersion(config.redis_server))?.version,
  });
  const manager = new ControllerManager(kv, bdbStore, o.shards, controller, plane, log, o.watchdog);
  const clientConfig = new ClientConfig({
    bdbs: bdbStore, shards: o.shards, admin: (s) => plane.admin(s), probeRules: (rec, user) => controller.configProbeRules(rec, user),
  });
  manager.addSidecar(new ConfigSocket(configSocket, clientConfig, log));
  const bdbs = new BdbService({
    kv, bdbs: bdbStore, shardsStore, shards: o.shards, cluster: o.cluster, policy: o.policy, nodes: o.nodes, actions,
    ports: new PortAllocator(config.api_addr), config, clock: o.clock, events: o.eventLog,
    redisVersion: () => o.redis?.version, totalMemory: () => os.totalmem(), openFilesHard: () => openFilesLimit()?.hard ?? Infinity,
    runCommand: (uid, cmd, args) => controller.runCommand(uid, cmd, args),
    restartShards: (uid, opts, step) => controller.restartShards(uid, opts, step),
  });
  const shardViews = new ShardService(o.shards, {
    shardState: (uid) => manager.shardState(uid),
    failover: (bdb, reason, opts) => controller.failover(bdb, reason, opts),
    replicaAnswers: (bdb) => controller.replicaAnswers(bdb),
  }, actions, o.clock, async (uid) => (await bdbStore.get(uid)) !== undefined, () => o.redis?.version ?? '0');
  const availability = new AvailabilityService(kv, bdbStore, o.cluster, new AvailabilityProbe(plane, o.shards));
  const backups = composeBackups({ config, kv, log, clock: o.clock, events: o.eventLog, bdbs: bdbStore, shards: o.shards, actions, plane, manager, admin });
  return { bdbs, actions, manager, plane, shardViews, availability, bdbData: backups.service, configSocket };
}
