/**
 * Export (and scheduled backup): an RDB of every master shard, taken with BGSAVE, gzipped into
 * the location as `<kind>_<stamp>_<name>_<n>-of-<N>.rdb.gz` (backup-files.ts).
 *
 * BGSAVE writes the shard's own `dump.rdb`. A shard that persists with snapshots keeps it (it is
 * a fresh snapshot); on any other shard the file is removed after the copy, so that a restart
 * after a crash does not load the exported data as if it had been persisted.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { isReplyError, type ShardAdmin } from '../redis/admin.js';
import { persists } from '../redis/config-map.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import { checkWritableDir, dataFileName, DataOpError, gzipInto, opTempName, removeOpTemps } from './backup-files.js';
import type { DataPlane } from './data-plane.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** BGSAVE and wait until a snapshot started after this call has been written. */
export async function bgsaveAndWait(admin: ShardAdmin, timeoutMs = 10 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const persistence = async () => (await admin.info('persistence')).persistence ?? {};
  const before = await persistence();
  const saves = Number(before.rdb_saves ?? 0);
  const lastSave = Number(before.rdb_last_save_time ?? 0);
  for (;;) {
    try {
      await admin.bgsave();
      break;
    } catch (e) {
      // "already in progress" / "AOF rewriting in progress": the running child finishes first.
      if (!isReplyError(e) || Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
  for (;;) {
    const p = await persistence();
    const done = p.rdb_bgsave_in_progress === '0' && (Number(p.rdb_saves ?? 0) > saves || Number(p.rdb_last_save_time ?? 0) > lastSave);
    if (done) {
      if (p.rdb_last_bgsave_status !== 'ok') throw new DataOpError('general-error', `BGSAVE failed on port ${admin.port} (see the shard's log)`);
      return;
    }
    if (Date.now() > deadline) throw new DataOpError('general-error', `BGSAVE on port ${admin.port} did not finish in time`);
    await sleep(50);
  }
}

export interface ExportDeps {
  plane: DataPlane;
  log: Logger;
  /** The node's own storage, where no location may be (assertOutsidePrivate). */
  privateRoots?: readonly string[];
}

/**
 * Write one gzipped RDB per master shard into `dir`; returns the file names. `progress` gets
 * 0-100. Throws DataOpError with the documented failure reason. `opId` (the action uid) names the
 * temporary files; those an earlier, cut-off run of the same operation left are removed first.
 */
export async function exportDataset(
  d: ExportDeps, rec: BdbRecord, shards: ShardSummary[], dir: string, kind: 'export' | 'backup', at: Date,
  progress: (p: number) => Promise<void>, opId?: string,
): Promise<string[]> {
  checkWritableDir(dir, d.privateRoots);
  if (opId) {
    const stale = removeOpTemps(dir, kind, opId);
    if (stale.length) d.log.info({ bdb: rec.uid, dir, files: stale }, `partial ${kind} files of an interrupted run removed`);
  }
  const masters = shards.filter((s) => s.role === 'master').sort((a, b) => a.uid - b.uid);
  if (!masters.length) throw new DataOpError('general-error', `database ${rec.uid} has no master shard`);
  const files: string[] = [];
  for (const [i, shard] of masters.entries()) {
    const admin = d.plane.admin(shard);
    const step = (f: number) => progress(((i + f) / masters.length) * 100);
    await step(0.05);
    try {
      await bgsaveAndWait(admin);
    } catch (e) {
      if (e instanceof DataOpError) throw e;
      throw new DataOpError('general-error', `shard ${shard.uid}: ${(e as Error).message}`);
    }
    await step(0.5);
    const cfg = await admin.configGetAll('dir', 'dbfilename');
    const rdb = path.join(cfg.dir ?? shard.dir!, cfg.dbfilename ?? 'dump.rdb');
    const name = dataFileName(kind, at, rec.name, rec.uid, i + 1, masters.length);
    const size = await gzipInto(rdb, dir, name, opId ? opTempName(kind, opId, i + 1) : undefined);
    if (persists(rec, shard.role) !== 'snapshot') fs.rmSync(rdb, { force: true });
    d.log.info({ bdb: rec.uid, shard: shard.uid, file: path.join(dir, name), size }, `${kind} written`);
    files.push(name);
    await step(1);
  }
  return files;
}
