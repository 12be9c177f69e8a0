/** Helpers for replicated databases: direct shard connections, INFO replication, waiting for sync. */
import { Redis } from 'ioredis';
import { shardsOf } from './bdb.js';
import type { TestNode } from './test-node.js';
import { waitFor } from './wait-for.js';

export interface ShardRec {
  uid: number;
  role: string;
  port: number;
  dir: string;
}

/** A direct connection to a shard as its `default` user (the database's: open unless a password is set). */
export function shardClient(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null }).on('error', () => undefined);
}

export async function replicationInfo(port: number): Promise<Record<string, string>> {
  const c = shardClient(port);
  try {
    await c.connect();
    const text = await c.info('replication');
    return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  } finally {
    c.disconnect();
  }
}

/** Two shards, the replica replicating the master with the same offset. */
export async function waitInSync(t: TestNode, uid: number, timeoutMs = 15_000): Promise<{ master: ShardRec; replica: ShardRec }> {
  return waitFor(async () => {
    const shards = await shardsOf(t, uid);
    const master = shards.find((s) => s.role === 'master');
    const replica = shards.find((s) => s.role === 'slave');
    if (shards.length !== 2 || !master || !replica) return undefined;
    const r = await replicationInfo(replica.port);
    const m = await replicationInfo(master.port);
    const ok = r.role === 'slave' && r.master_port === String(master.port) && r.master_link_status === 'up' && r.master_sync_in_progress === '0'
      && m.role === 'master' && m.connected_slaves === '1' && m.master_repl_offset === r.slave_repl_offset;
    return ok ? { master, replica } : undefined;
  }, { timeoutMs, what: `bdb ${uid} replica in sync` });
}
