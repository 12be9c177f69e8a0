/**
 * Wiring of the dataset actions (export, import, backups, recovery): the controller that runs
 * them, started and stopped with the bdb reconcilers, and the service the routes call.
 * Called from compose-data-plane.ts.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventLog } from '../events/event-log.js';
import type { AdminCredentials } from '../redis/conf-file.js';
import { PortAllocator } from '../redis/ports.js';
import { POLICY_KEY } from './access-reader.js';
import type { ActionService } from '../services/action-service.js';
import { BdbBackupService } from '../services/bdb-backup-service.js';
import { DATA_OPS_PREFIX, type DataOpsRecord } from '../services/bdb-data-ops.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { NodeRecord } from '../services/node-service.js';
import type { ShardInventory } from '../services/shard-inventory.js';
import type { KvBackend } from '../store/kv.js';
import { Collection } from '../store/object-store.js';
import type { Clock } from '../util/clock.js';
import { BackupController } from './backup-controller.js';
import { bdbKey } from './bdb-controller.js';
import type { DataPlane } from './data-plane.js';
import type { ControllerManager } from './manager.js';

export function composeBackups(o: {
  config: Config;
  kv: KvBackend;
  log: Logger;
  clock: Clock;
  events: EventLog;
  bdbs: Collection<BdbRecord>;
  shards: ShardInventory;
  actions: ActionService;
  plane: DataPlane;
  manager: ControllerManager;
  admin: AdminCredentials;
}): { service: BdbBackupService; controller: BackupController } {
  const ops = new Collection<DataOpsRecord>(o.kv, DATA_OPS_PREFIX);
  const nodes = new Collection<NodeRecord>(o.kv, '/nodes/');
  const storeFile = /^sqlite:\/\/(.+)$/.exec(o.config.store)?.[1];
  // The node's own storage: no export, backup or import location may be inside it (backup-files.ts assertOutsidePrivate).
  const privateRoots = async (): Promise<string[]> => [
    path.resolve(o.config.data_dir),
    ...(storeFile && storeFile !== ':memory:' ? [path.dirname(path.resolve(storeFile))] : []),
    ...(await nodes.list()).flatMap((n) => [n.persistent_storage_path, n.ephemeral_storage_path].filter((p): p is string => !!p)),
  ];
  const controller = new BackupController({
    kv: o.kv, bdbs: o.bdbs, ops, shards: o.shards, actions: o.actions, plane: o.plane, events: o.events, log: o.log, clock: o.clock,
    importDeps: {
      ports: new PortAllocator('127.0.0.1'),
      portRange: o.config.shard_ports,
      takenPorts: async () => new Set((await o.shards.all()).map((s) => s.port).filter((p): p is number => p !== undefined)),
      scratchDir: path.join(path.resolve(o.config.data_dir), 'tmp'),
      admin: o.admin,
    },
    privateRoots,
    enqueueBdb: (uid) => o.manager.queue.add(bdbKey(uid)),
    autoRecovery: async () => (await o.kv.get<{ auto_recovery?: boolean }>(POLICY_KEY))?.value.auto_recovery === true,
    startRecovery: async (uid) => {
      await service.recover(uid, undefined);
    },
  });
  o.manager.addSidecar(controller);
  const service = new BdbBackupService({
    kv: o.kv, bdbs: o.bdbs, ops, actions: o.actions, clock: o.clock,
    recoveryPlan: (uid) => controller.plan(uid),
    anyShardRunning: (uid) => controller.anyShardRunning(uid),
  });
  return { service, controller };
}
