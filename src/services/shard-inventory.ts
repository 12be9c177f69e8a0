/**
 * What the node and license views need to know about shards: which exist, on which node,
 * with which role. Read from the CCS (`/shards/<uid>`, written by the databases feature),
 * so these views stay true as databases come and go.
 */
import type { KvBackend } from '../store/kv.js';

export interface ShardSummary {
  uid: number;
  node_uid: number;
  role: 'master' | 'slave';
  bdb_uid: number;
  /** Bytes the shard may use (its share of the database's memory_size). */
  memory_limit?: number;
  flash?: boolean;
  /** Loopback port of the shard's redis-server. */
  port?: number;
  /** The shard's directory (redis.conf, pid file, persistence files). */
  dir?: string;
  assigned_slots?: string;
}

export const SHARDS_PREFIX = '/shards/';

export class ShardInventory {
  constructor(private readonly kv: KvBackend) {}

  async all(): Promise<ShardSummary[]> {
    return (await this.kv.list<ShardSummary>(SHARDS_PREFIX)).map((e) => e.value).sort((a, b) => a.uid - b.uid);
  }

  /** The shards of one database. */
  async ofBdb(bdbUid: number): Promise<ShardSummary[]> {
    return (await this.all()).filter((s) => s.bdb_uid === bdbUid);
  }

  async onNode(nodeUid: number): Promise<ShardSummary[]> {
    return (await this.all()).filter((s) => s.node_uid === nodeUid);
  }

  async usage(): Promise<{ total: number; ram: number; flash: number }> {
    const all = await this.all();
    const flash = all.filter((s) => s.flash).length;
    return { total: all.length, ram: all.length - flash, flash };
  }
}
