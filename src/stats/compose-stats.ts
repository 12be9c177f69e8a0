/**
 * Composition of the observability side: collector → sampler → rollups → stats API, alert
 * evaluation and email, and the Prometheus exporter on metrics_port. Called from compose.ts
 * (kept apart, like compose-data-plane.ts, so the composition root stays readable).
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DataPlane } from '../controller/data-plane.js';
import { storageFacts } from '../host/host-facts.js';
import { ProxyClient } from '../proxy/control.js';
import { BDBS_PREFIX } from '../services/bdb-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { NodeRecord } from '../services/node-service.js';
import type { ShardInventory } from '../services/shard-inventory.js';
import type { ShardService } from '../services/shard-service.js';
import type { KvBackend } from '../store/kv.js';
import { Collection } from '../store/object-store.js';
import type { Clock } from '../util/clock.js';
import { Collector } from './collector.js';
import { CommandClasses } from './command-classes.js';
import { RollupPersistence, rollupsFile } from './persist.js';
import { readHost } from './proc-host.js';
import { RollupStore } from './rollup.js';
import { Sampler } from './sampler.js';
import { StatsService, type ShardRef } from './stats-service.js';

export interface StatsParts {
  store: RollupStore;
  sampler: Sampler;
  stats: StatsService;
  /** How the sampler classifies commands (read / write / other). */
  classify(name: string): 'read' | 'write' | 'other';
  /** Load the saved history, then start sampling (once the node is part of a cluster); idempotent. */
  start(): void;
  stop(): Promise<void>;
}

export function composeStats(o: {
  config: Config;
  log: Logger;
  clock: Clock;
  plane: DataPlane;
  kv: KvBackend;
  shards: ShardInventory;
  nodes: Collection<NodeRecord>;
  shardViews: ShardService;
}): StatsParts {
  const bdbs = new Collection<BdbRecord>(o.kv, BDBS_PREFIX);
  const runDir = path.join(path.resolve(o.config.data_dir), 'run');
  // A control connection of its own, only for counters: it never starts a proxy.
  const proxy = new ProxyClient({
    socketPath: path.join(runDir, 'proxy.sock'),
    stateFile: path.join(runDir, 'proxy-state.json'),
    logFile: path.join(path.resolve(o.config.data_dir), 'logs', 'proxy.log'),
    requestTimeoutMs: 900,
  });
  const classes = new CommandClasses();
  const collector = new Collector({
    clock: o.clock,
    shards: () => o.shards.all(),
    admin: (s) => o.plane.admin(s),
    endpointStats: () => proxy.stats(undefined, classes.all()),
    bdbs: () => bdbs.list(),
    nodes: () => o.nodes.list(),
    host: () => readHost(),
    storage: (p) => storageFacts(p),
    cores: () => os.cpus().length || os.availableParallelism(),
  }, classes);
  const store = new RollupStore();
  const sampler = new Sampler(collector, classes.classify, store, o.log);
  const stats = new StatsService(store, {
    bdbs: async () => (await bdbs.list()).map((b) => b.uid),
    bdbStatus: async (uid) => (await bdbs.get(uid))?.value.status,
    nodes: async () => (await o.nodes.list()).map((n) => n.uid),
    shards: async () => (await o.shardViews.list()) as unknown as ShardRef[],
  });
  const persistence = new RollupPersistence(store, rollupsFile(o.config.data_dir), o.log);
  // The history of objects that still exist, read before the first sample.
  const restore = async () => {
    const [bdbUids, nodeUids, shardUids] = await Promise.all([
      bdbs.list().then((l) => new Set(l.map((b) => String(b.uid)))),
      o.nodes.list().then((l) => new Set(l.map((n) => String(n.uid)))),
      o.shards.all().then((l) => new Set(l.map((s) => String(s.uid)))),
    ]);
    await persistence.load((kind, uid) => {
      switch (kind) {
        case 'cluster': return true;
        case 'node': return nodeUids.has(uid);
        case 'bdb': return bdbUids.has(uid);
        case 'shard': return shardUids.has(uid);
        case 'endpoint': return bdbUids.has(uid.split(':')[0]!) && nodeUids.has(uid.split(':').at(-1)!);
      }
    });
  };
  let started = false; // also true once stopped: a late start (bootstrap finishing during close) is a no-op
  let stopped = false;
  let starting: Promise<void> | undefined;
  return {
    store,
    sampler,
    stats,
    classify: classes.classify,
    start() {
      if (started) return;
      started = true;
      starting = restore()
        .catch((e: unknown) => o.log.warn({ err: e }, 'stats history not loaded'))
        .then(() => {
          if (stopped) return;
          sampler.start();
          persistence.start();
        });
    },
    async stop() {
      started = true;
      stopped = true;
      await starting;
      await sampler.stop();
      await persistence.stop();
      proxy.close();
    },
  };
}
