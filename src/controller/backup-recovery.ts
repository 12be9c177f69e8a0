/**
 * Recovery from persistence files (requests/bdbs/actions/recover.md, databases/recover.md): the
 * recovery plan: which files each shard would load when it starts.
 */
import { dbPersistence, persists } from '../redis/config-map.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import { aofIsNewest, persistenceFiles, type PersistenceFile } from './backup-files.js';

export interface PlanFile {
  filename: string;
  last_modified: number;
  node_uid: string;
  shard_role: string;
  shard_slots: string;
  shard_uid: string;
  size: number;
}

/** 'ready' or 'missing-files', the two states `rladmin recover list` shows. */
export interface RecoveryPlan {
  data_files: PlanFile[];
  status: 'ready' | 'missing-files';
}

/**
 * The shard starts with appendonly yes, so redis-server loads its AOF: it persists with AOF in its
 * role, or (replicated AOF database) its AOF is its newest file, as on a replica promoted after a
 * crash of everything (the reconciler starts it so, bdb-controller's spec()).
 */
export function startsFromAof(rec: BdbRecord, role: ShardSummary['role'], dir: string): boolean {
  return persists(rec, role) === 'aof' || (!!rec.replication && rec.data_persistence === 'aof' && aofIsNewest(dir));
}

/**
 * The files redis-server would load when this shard starts: its AOF when it starts with appendonly
 * yes (startsFromAof), else `dump.rdb` if there is one.
 */
export function filesToLoad(rec: BdbRecord, shard: ShardSummary): PersistenceFile[] {
  if (!shard.dir) return [];
  const found = persistenceFiles(shard.dir);
  if (startsFromAof(rec, shard.role, shard.dir)) return found.aof;
  return found.rdb ? [found.rdb] : [];
}

export function recoveryPlan(rec: BdbRecord, shards: ShardSummary[]): RecoveryPlan {
  const data_files: PlanFile[] = [];
  const withFiles = new Set<number>();
  for (const s of [...shards].sort((a, b) => a.uid - b.uid)) {
    const files = filesToLoad(rec, s);
    if (files.length) withFiles.add(s.uid);
    for (const f of files) {
      data_files.push({
        filename: f.filename, last_modified: f.last_modified, node_uid: String(s.node_uid), shard_role: s.role,
        shard_slots: s.assigned_slots ?? '0-16383', shard_uid: String(s.uid), size: f.size,
      });
    }
  }
  // Without persistence a database recovers empty (recover.md); with it, the data of every slot
  // range must be somewhere (openrs: one master, whose replicas hold the same slots).
  const ready = dbPersistence(rec) === undefined || shards.length === 0 || withFiles.size > 0;
  return { data_files, status: ready ? 'ready' : 'missing-files' };
}
