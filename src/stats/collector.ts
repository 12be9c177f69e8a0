/**
 * Reads one raw snapshot: INFO of every shard in the CCS inventory (over the data plane's admin
 * connections), the proxy's endpoint counters, and the node's /proc and statfs figures. Every
 * source is injected, so the sampler can be driven with fakes. A source that fails leaves its
 * part out (a shard that does not answer has no `info`); collection itself never throws.
 */
import type { InfoSections } from '../redis/replies.js';
import type { EndpointStats } from '../proxy/protocol.js';
import type { StorageFacts } from '../host/host-facts.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import type { Clock } from '../util/clock.js';
import { commandNames } from './derive-shard.js';
import type { CommandClasses } from './command-classes.js';
import type { CpuTimes, RawEndpoint, RawNode, RawShard, RawSnapshot } from './raw.js';

/** The two admin operations the collector needs from a shard connection (redis/admin.ts ShardAdmin). */
export interface ShardInfoClient {
  info(section?: string): Promise<InfoSections>;
  command(name: string, args?: (string | number)[]): Promise<unknown>;
}

export interface NodePaths {
  uid: number;
  persistent_storage_path: string;
  ephemeral_storage_path: string;
}

export interface CollectorSources {
  clock: Clock;
  shards(): Promise<ShardSummary[]>;
  admin(shard: ShardSummary): ShardInfoClient;
  /** The proxy's counters by endpoint uid; rejects when no proxy runs. */
  endpointStats(): Promise<Record<string, EndpointStats>>;
  bdbs(): Promise<{ uid: number; memory_size?: number }[]>;
  nodes(): Promise<NodePaths[]>;
  host(): Promise<{ cpu?: CpuTimes; memory: { total: number; free: number; available: number }; net?: { rx: number; tx: number } }>;
  storage(path: string): Promise<StorageFacts>;
  cores(): number;
}

export class Collector {
  /** Commands sent to each shard since its last INFO: subtracted from its traffic. */
  private readonly own = new Map<number, Record<string, number>>();

  constructor(private readonly src: CollectorSources, private readonly classes: CommandClasses) {}

  async collect(): Promise<RawSnapshot> {
    const time = this.src.clock.now().getTime();
    const [summaries, bdbs, nodes, epStats] = await Promise.all([
      this.src.shards().catch(() => [] as ShardSummary[]),
      this.src.bdbs().catch(() => []),
      this.src.nodes().catch(() => [] as NodePaths[]),
      this.src.endpointStats().catch(() => undefined),
    ]);
    const shards = await Promise.all(summaries.map((s) => this.shard(s)));
    for (const uid of [...this.own.keys()]) if (!summaries.some((s) => s.uid === uid)) this.own.delete(uid);

    const endpoints: RawEndpoint[] = bdbs.map((b) => {
      const uid = `${b.uid}:1`;
      const master = summaries.find((s) => s.bdb_uid === b.uid && s.role === 'master');
      return { uid, bdb_uid: b.uid, node_uid: master?.node_uid ?? nodes[0]?.uid ?? 1, stats: epStats?.[uid] };
    });
    const host = await this.src.host().catch(() => undefined);
    const rawNodes: RawNode[] = await Promise.all(nodes.map(async (n) => ({
      uid: n.uid,
      cores: this.src.cores(),
      cpu: host?.cpu,
      memory: host?.memory ?? { total: 0, free: 0, available: 0 },
      net: host?.net,
      persistent: await this.src.storage(n.persistent_storage_path).catch(() => undefined),
      ephemeral: await this.src.storage(n.ephemeral_storage_path).catch(() => undefined),
    })));
    return { time, shards, nodes: rawNodes, endpoints, bdbs: bdbs.map((b) => ({ uid: b.uid, memory_size: b.memory_size ?? 0 })) };
  }

  private async shard(s: ShardSummary): Promise<RawShard> {
    const base = { uid: s.uid, bdb_uid: s.bdb_uid, node_uid: s.node_uid, role: s.role, assigned_slots: s.assigned_slots ?? '0-16383', memory_limit: s.memory_limit ?? 0 };
    if (s.port === undefined) return { ...base, own: {} };
    const admin = this.src.admin(s);
    const own = this.own.get(s.uid) ?? {};
    let info: InfoSections;
    try {
      info = await admin.info('everything');
    } catch {
      this.own.delete(s.uid);
      return { ...base, own: {} };
    }
    // This INFO shows up in the next snapshot's commandstats, as does a COMMAND INFO sent now.
    const next: Record<string, number> = { info: 1 };
    const unknown = this.classes.unknown(commandNames(info));
    if (unknown.length) {
      next['command|info'] = 1;
      try {
        this.classes.learn(unknown, await admin.command('COMMAND', ['INFO', ...unknown]));
      } catch {
        // classified as 'other' until a later snapshot learns them
      }
    }
    this.own.set(s.uid, next);
    return { ...base, info, own };
  }
}
