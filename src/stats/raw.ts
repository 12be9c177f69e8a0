/**
 * What the sampler reads each second, before anything is derived: per shard its INFO, per
 * endpoint the proxy's counters, per node the /proc counters. Counters are cumulative; the
 * derive functions turn two snapshots into rates.
 */
import type { EndpointStats } from '../proxy/protocol.js';
import type { InfoSections } from '../redis/replies.js';
import type { StorageFacts } from '../host/host-facts.js';

export interface RawShard {
  uid: number;
  bdb_uid: number;
  node_uid: number;
  role: 'master' | 'slave';
  assigned_slots: string;
  /** The shard's memory_limit from the CCS (bytes), for provisional memory. */
  memory_limit: number;
  /** INFO everything; undefined when the shard did not answer. */
  info?: InfoSections;
  /**
   * Commands the sampler itself sent to the shard between the previous INFO and this one, by
   * commandstats name (`info`, `command|info`), so they are not counted as database traffic.
   */
  own: Record<string, number>;
}

/** /proc/stat "cpu" line, in clock ticks. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface RawNode {
  uid: number;
  cores: number;
  cpu?: CpuTimes;
  /** Bytes: MemTotal, MemFree and MemAvailable of /proc/meminfo. */
  memory: { total: number; free: number; available: number };
  /** Bytes received and sent on all non-loopback interfaces (/proc/net/dev). */
  net?: { rx: number; tx: number };
  persistent?: StorageFacts;
  ephemeral?: StorageFacts;
}

export interface RawEndpoint {
  /** The bdb endpoint uid, e.g. `1:1`. */
  uid: string;
  bdb_uid: number;
  node_uid: number;
  /** Undefined when the proxy did not answer (no proxy running yet). */
  stats?: EndpointStats;
}

export interface RawBdb {
  uid: number;
  memory_size: number;
}

export interface RawSnapshot {
  /** Epoch milliseconds when collection started. */
  time: number;
  shards: RawShard[];
  nodes: RawNode[];
  endpoints: RawEndpoint[];
  bdbs: RawBdb[];
}

/** How a command counts in the read/write/other request figures (from its Redis command flags). */
export type CommandClass = 'read' | 'write' | 'other';
export type Classify = (cmdstatName: string) => CommandClass;
