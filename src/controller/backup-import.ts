/**
 * Import: replace a database's dataset with the contents of RDB files (plain or gzipped).
 *
 * Each file is loaded by a temporary redis-server (started through the supervisor, in a scratch
 * directory, on a free shard port): redis-server itself is the RDB parser, so a damaged file
 * fails there, before anything in the database is touched. Only when every file has loaded and
 * the total fits memory_size is the master flushed and the keys copied into it with MIGRATE
 * (COPY REPLACE, TTLs kept, each logical db to the same db). The copy goes through the master
 * like any write: replicas follow by replication and an AOF records it, so no shard restarts
 * and persistence stays correct. docs/notes-backup.md has the alternatives and why not.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AdminCredentials } from '../redis/conf-file.js';
import { isReplyError, type ShardAdmin } from '../redis/admin.js';
import type { PortAllocator } from '../redis/ports.js';
import { killGroup, waitGone } from '../redis/proc.js';
import type { ShardHandle, ShardSupervisor } from '../redis/supervisor.js';
import type { PortRange } from '../config.js';
import type { DatasetImportSource } from '../schemas/bdb.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import { DataOpError, stageRdb } from './backup-files.js';
import type { DataPlane } from './data-plane.js';

export interface ImportDeps {
  plane: DataPlane;
  ports: PortAllocator;
  portRange: PortRange;
  /** Ports the CCS already gives to shards. */
  takenPorts: () => Promise<Set<number>>;
  /** Scratch space (the node's ephemeral path). */
  scratchDir: string;
  /** The node's own storage, where no import source may be (assertOutsidePrivate). */
  privateRoots?: readonly string[];
  admin?: AdminCredentials;
  log: Logger;
  /**
   * The database's master now (the CCS record), that answers PING; undefined while there is none. A failover or
   * a restart of the master during the copy makes the import start the copy over into it.
   */
  currentMaster?: () => Promise<ShardSummary | undefined>;
}

export type ImportPhase = 'initializing' | 'importing';

const BATCH = 200;
const MIGRATE_TIMEOUT_MS = 10_000;
/** Copies into the master, the first included: a failover (or restart) of the master meanwhile starts the copy over. */
const COPY_ATTEMPTS = 3;
/** How long a copy cut short by the master's end waits for a master that answers again. */
const MASTER_BACK_MS = 30_000;

function sourcePath(s: DatasetImportSource): string {
  if (s.type !== 'mount_point') throw new DataOpError('general-error', `${s.type} import sources are not supported`);
  return s.path;
}

/** `db0:keys=3,expires=0,avg_ttl=0` → { 0: 3 }. */
function keyspace(info: Record<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(info)) {
    const db = /^db(\d+)$/.exec(k)?.[1];
    const keys = /keys=(\d+)/.exec(v)?.[1];
    if (db !== undefined && keys !== undefined) out.set(Number(db), Number(keys));
  }
  return out;
}

/**
 * Remove an import's scratch directory, first stopping the scratch redis-servers working in it: a manager
 * ended mid-import (kill -9) leaves them running, holding the dataset in memory, without a password.
 */
export async function discardStage(sup: ShardSupervisor, stage: string): Promise<void> {
  if (!fs.existsSync(stage)) return;
  for (const name of fs.readdirSync(stage)) {
    const pid = sup.pidOf(path.join(stage, name));
    if (pid === undefined) continue;
    killGroup(pid);
    await waitGone(pid, 5_000);
  }
  fs.rmSync(stage, { recursive: true, force: true });
}

/** Every import's scratch directory (at start, no import runs yet): see discardStage. */
export async function discardStages(sup: ShardSupervisor, scratchDir: string): Promise<void> {
  if (!fs.existsSync(scratchDir)) return;
  for (const name of fs.readdirSync(scratchDir)) if (name.startsWith('import-')) await discardStage(sup, path.join(scratchDir, name));
}

export async function importDataset(
  d: ImportDeps, rec: BdbRecord, master: ShardSummary, sources: DatasetImportSource[], runId: string,
  progress: (phase: ImportPhase, p: number) => Promise<void>,
): Promise<{ keys: number }> {
  const stage = path.join(d.scratchDir, `import-bdb-${rec.uid}-${runId}`);
  const temps: ShardHandle[] = [];
  const sup = d.plane.supervisor;
  await discardStage(sup, stage);
  fs.mkdirSync(stage, { recursive: true, mode: 0o700 });
  try {
    // 1. Fetch (copy / gunzip) every file and let a scratch redis-server load it.
    const taken = await d.takenPorts();
    let dataset = 0;
    let staged = 0;
    const counts: Map<number, number>[] = [];
    for (const [i, src] of sources.entries()) {
      const dir = path.join(stage, `source-${i + 1}`);
      fs.mkdirSync(dir, { mode: 0o700 });
      staged += await stageRdb(sourcePath(src), path.join(dir, 'dump.rdb'), { limit: rec.memory_size ?? 0, used: staged }, d.privateRoots);
      await progress('initializing', ((i + 0.5) / sources.length) * 10);
      const port = await d.ports.allocate(d.portRange, taken);
      if (port === undefined) throw new DataOpError('general-error', 'no free port for the import');
      taken.add(port);
      try {
        temps.push(await sup.start({ uid: 0, port, dir, directives: { maxmemory: '0' } }));
      } catch (e) {
        const msg = (e as Error).message;
        if (/Address already in use|another process/.test(msg)) throw new DataOpError('general-error', msg);
        throw new DataOpError('file-corrupted', `'${sourcePath(src)}' could not be loaded: ${msg.split('\n').filter((l) => /RDB|DB|signature|read/i.test(l)).slice(-2).join(' ') || msg}`);
      }
      const admin = sup.admin({ port });
      try {
        dataset += Number((await admin.info('memory')).memory?.used_memory_dataset ?? 0);
        counts.push(keyspace((await admin.info('keyspace')).keyspace ?? {}));
      } finally {
        admin.close();
      }
    }
    const limit = rec.memory_size ?? 0;
    if (limit > 0 && dataset > limit) {
      throw new DataOpError(`file-larger-than-mem-limit:${dataset}:${limit}`, `the dataset needs ${dataset} bytes; memory_size is ${limit}`);
    }

    // 2. Only now replace the data: flush, then copy every key in.
    const total = counts.reduce((n, c) => n + [...c.values()].reduce((a, b) => a + b, 0), 0);
    await progress('importing', 10);
    let moved = 0;
    const copyInto = async (target: ShardSummary): Promise<void> => {
      moved = 0;
      try {
        await d.plane.admin(target).flushAll();
      } catch (e) {
        throw new DataOpError('general-error', `flushing the database failed: ${(e as Error).message}`);
      }
      for (const [i, t] of temps.entries()) {
        const admin = sup.admin({ port: t.port }, 5000);
        try {
          for (const db of [...counts[i]!.keys()].sort((a, b) => a - b)) {
            moved += await migrateDb(admin, db, target.port!, d.admin, async (n) => {
              await progress('importing', 10 + (90 * Math.min(total, moved + n)) / Math.max(1, total));
            });
          }
        } finally {
          admin.close();
        }
      }
    };
    let target = master;
    for (let attempt = 1; ; attempt++) {
      try {
        await copyInto(target);
        break;
      } catch (e) {
        // The scratch copies are intact: when the master went away (failover, crash) the whole copy is made again into
        // the master there is now. Keys the old master had not passed on to its replica would otherwise be missing.
        if (!(e instanceof DataOpError) || e.reason !== 'general-error' || attempt >= COPY_ATTEMPTS || !d.currentMaster) throw e;
        const next = await masterBack(d.currentMaster);
        if (!next) throw e;
        d.log.warn({ bdb: rec.uid, from: target.uid, to: next.uid, err: (e as Error).message }, 'import: the master went away during the copy; copying again into the master now');
        target = next;
      }
    }
    d.log.info({ bdb: rec.uid, files: sources.length, keys: moved }, 'import done');
    return { keys: moved };
  } finally {
    for (const t of temps) await sup.stop(t, { save: false }).catch((e: unknown) => d.log.warn({ err: e }, 'scratch redis-server did not stop'));
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** A master that answers, waited for up to MASTER_BACK_MS. */
async function masterBack(current: () => Promise<ShardSummary | undefined>): Promise<ShardSummary | undefined> {
  const deadline = Date.now() + MASTER_BACK_MS;
  while (Date.now() < deadline) {
    const m = await current().catch(() => undefined);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/**
 * Copy one logical db of a scratch server into the same db of the target. The scratch server
 * is ours alone, so SWAPDB brings the db to 0 (no SELECT on a connection that may reconnect).
 */
async function migrateDb(tmp: ShardAdmin, db: number, targetPort: number, auth: AdminCredentials | undefined, onBatch: (moved: number) => Promise<void>): Promise<number> {
  if (db !== 0) {
    await tmp.command('FLUSHDB');
    await tmp.command('SWAPDB', [0, db]);
  }
  const authArgs = auth ? ['AUTH2', auth.user, auth.password] : [];
  let cursor = '0';
  let moved = 0;
  do {
    // Binary-safe: key names travel as Buffers, whatever bytes they hold.
    const [next, keys] = (await tmp.commandBuffer('SCAN', [cursor, 'COUNT', BATCH])) as [Buffer, Buffer[]];
    cursor = next.toString();
    if (keys.length) {
      try {
        await tmp.commandBuffer('MIGRATE', ['127.0.0.1', targetPort, '', db, MIGRATE_TIMEOUT_MS, 'COPY', 'REPLACE', ...authArgs, 'KEYS', ...keys], MIGRATE_TIMEOUT_MS + 2000);
      } catch (e) {
        const msg = isReplyError(e) ? (e as Error).message : String(e);
        throw new DataOpError(/OOM/.test(msg) ? 'out-of-memory' : 'general-error', `copying keys into the database failed: ${msg}`);
      }
      moved += keys.length;
      await onBatch(moved);
    }
  } while (cursor !== '0');
  return moved;
}
