/**
 * Moving a replicated database's persistence between its master and its replicas without a moment
 * in which no shard holds the data on disk.
 *
 * A replicated database persists on its replicas (unless master_persistence). Two changes move the
 * persistence, and each had a window in which a crash of every shard lost the whole dataset (QA):
 * - replication turned on: the master stopped its AOF at once, while the new replica had not even
 *   synced. Worse, the replica's fresh, empty AOF was then the newest file of the database, so the
 *   restart after a crash took the empty replica for the master and the real master resynced from it.
 * - replication turned off: the replica (the only shard with files) was stopped and its directory
 *   removed before the master's own AOF rewrite (or snapshot) had been written.
 *
 * So: a replica counts as holding the data only once it has synced and its own persistence has
 * settled (no AOF rewrite running or scheduled); the reconciler then leaves a marker file in its
 * directory, and only the master and marked replicas are candidates when everything restarts from
 * the newest files. Until a replica holds the data, the master keeps persisting. A removed replica
 * is stopped only once the master's own persistence has settled.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ShardAdmin } from '../redis/admin.js';
import { bgsaveAndWait } from './backup-export.js';

/** In a shard's directory: this shard has held the database's data in its persistence files. */
export const SYNCED_MARKER = 'openrs-synced';

export function markSynced(dir: string): void {
  const file = path.join(dir, SYNCED_MARKER);
  if (!fs.existsSync(file)) fs.writeFileSync(file, `${new Date().toISOString()}\n`, { mode: 0o600 });
}

export function hasSynced(dir: string): boolean {
  return fs.existsSync(path.join(dir, SYNCED_MARKER));
}

/** No AOF rewrite running or waiting, and the last one did not fail (INFO persistence). */
function aofSettled(p: Record<string, string>): boolean {
  return p.loading !== '1' && p.aof_rewrite_in_progress === '0' && p.aof_rewrite_scheduled === '0' && p.aof_last_bgrewrite_status !== 'err';
}

/**
 * A replica holds the data on disk: its link to the master is up, its sync done, and (AOF) the
 * rewrite that follows a sync finished. With snapshots the synced RDB is its file.
 */
export async function replicaHoldsData(admin: ShardAdmin, kind: 'aof' | 'snapshot'): Promise<boolean> {
  const info = await admin.info().catch(() => undefined);
  const r = info?.replication ?? {};
  if (r.role !== 'slave' || r.master_link_status !== 'up' || r.master_sync_in_progress === '1') return false;
  return kind === 'snapshot' || aofSettled(info?.persistence ?? {});
}

/**
 * The master's own persistence holds the data: its AOF is on and written out, or (snapshot) a BGSAVE
 * made now has completed. False while an AOF rewrite is still running: ask again.
 */
export async function masterHoldsData(admin: ShardAdmin, kind: 'aof' | 'snapshot'): Promise<boolean> {
  if (kind === 'snapshot') {
    await bgsaveAndWait(admin, 60_000);
    return true;
  }
  const p = (await admin.info('persistence')).persistence ?? {};
  return p.aof_enabled === '1' && aofSettled(p);
}
