/**
 * Files of exports, backups, imports and recovery: names, location checks, gzip copies, retention.
 * Everything here works on paths and bytes only; redis-server is driven by the callers through
 * the supervisor and ShardAdmin (docs/notes-backup.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/** Why an export or backup could not write (objects/bdb/_index.md `*_failure_reason`). */
export type WriteFailure = 'no-permission' | 'wrong-file-path' | 'general-error';

/** Why an import failed (objects/bdb/_index.md `import_failure_reason`). */
export type ImportFailure = 'download-error' | 'file-corrupted' | 'general-error' | 'out-of-memory' | `file-larger-than-mem-limit:${number}:${number}`;

/** A failure carrying the documented reason the bdb reports. */
export class DataOpError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'DataOpError';
  }
}

/** schedule-backups.md: "only the first 30 [characters of the database name] are used in backup file names". */
export const NAME_CHARS_IN_FILES = 30;

/** `2024-05-01T12-00-00Z`: the RS timestamp without colons, so the name is valid everywhere. */
export function fileStamp(d: Date): string {
  return d.toISOString().replace(/\.[0-9]{3}Z$/, 'Z').replace(/:/g, '-');
}

/**
 * One file per master shard: `<kind>_<stamp>_<name>_db<uid>_<n>-of-<N>.rdb.gz` (gzipped RDB, as RS
 * backups are). The database name has only letters, digits and hyphens, so `_` separates fields.
 * The uid is there because only 30 characters of the name are: two databases whose names start
 * alike and that back up to one location at the same second would otherwise write the same file
 * (one backup lost), and the retention of one would delete the other's backups.
 */
export function dataFileName(kind: 'export' | 'backup', at: Date, bdbName: string, bdbUid: number, n: number, of: number): string {
  return `${kind}_${fileStamp(at)}_${bdbName.slice(0, NAME_CHARS_IN_FILES)}_db${bdbUid}_${n}-of-${of}.rdb.gz`;
}

/**
 * The backups of this database (name and uid) in a directory listing, with the time in their names.
 * With `legacy`, also the names of releases before the uid was in them (`<stamp>_<name[:30]>_<n>-of-<N>`):
 * a node upgraded from one has those in its location, and without them backup_history would keep them
 * forever. The caller sets it only when no other database shares the first 30 characters of the name,
 * since such a name does not tell whose backup it is.
 */
export function backupFilesOf(names: readonly string[], bdbName: string, bdbUid: number, legacy = false): { name: string; at: Date }[] {
  const esc = bdbName.slice(0, NAME_CHARS_IN_FILES).replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const re = new RegExp(`^backup_(\\d{4}-\\d\\d-\\d\\d)T(\\d\\d)-(\\d\\d)-(\\d\\d)Z_${esc}_${legacy ? `(?:db${bdbUid}_)?` : `db${bdbUid}_`}\\d+-of-\\d+\\.rdb\\.gz$`);
  const out: { name: string; at: Date }[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m) out.push({ name, at: new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) });
  }
  return out;
}

/** backup_history is a number of days (0 keeps everything): the backups older than that (`legacy`: backupFilesOf). */
export function expiredBackups(names: readonly string[], bdbName: string, bdbUid: number, historyDays: number, now: Date, legacy = false): string[] {
  if (!historyDays || historyDays <= 0) return [];
  const cutoff = now.getTime() - historyDays * 86_400_000;
  return backupFilesOf(names, bdbName, bdbUid, legacy).filter((f) => f.at.getTime() < cutoff).map((f) => f.name);
}

function reasonOf(e: unknown): WriteFailure {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'no-permission';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'wrong-file-path';
  return 'general-error';
}

/** `p` with its symbolic links resolved, as far as it exists (the rest appended as given). */
function realOf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realOf(parent), path.basename(p));
  }
}

/**
 * The node's own storage (data directory, CCS, persistent and ephemeral paths) holds every database's
 * persistence files, the certificates' keys and the store: no export, backup or import location may
 * be inside it, or a user allowed to import into one database (db_member) could load another's data,
 * and exports could fill the disk the shards write to. Links are resolved on both sides.
 */
export function assertOutsidePrivate(p: string, privateRoots: readonly string[], reason: string, what: string): void {
  const real = realOf(p);
  for (const root of privateRoots) {
    const r = realOf(root);
    if (real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep)) {
      throw new DataOpError(reason, `${what} '${p}' is inside the node's own storage (${root}), which holds every database's files: use a location outside it`);
    }
  }
}

/**
 * A mount_point location must be an existing directory this process can create files in, outside the
 * node's own storage (assertOutsidePrivate). Tried for real (create + remove a probe file): permission
 * bits say nothing for root or on NFS.
 */
export function checkWritableDir(dir: string, privateRoots: readonly string[] = []): void {
  if (!path.isAbsolute(dir)) throw new DataOpError('wrong-file-path', `location path '${dir}' is not absolute`);
  assertOutsidePrivate(dir, privateRoots, 'no-permission', 'location path');
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new DataOpError(reasonOf(e), `location path '${dir}': ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new DataOpError('wrong-file-path', `location path '${dir}' is not a directory`);
  const probe = path.join(dir, `.openrs-probe-${process.pid}-${Date.now()}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.rmSync(probe, { force: true });
  } catch (e) {
    throw new DataOpError(reasonOf(e), `cannot write to '${dir}': ${(e as Error).message}`);
  }
}

/**
 * The temporary file an operation writes its n-th file through: hidden, named after the operation
 * (its action uid) so that a run of the same operation after a manager crash finds and removes
 * what the cut-off run left (removeOpTemps); otherwise each crash mid-copy left a partial file of
 * up to the whole dataset in the location, matched by no retention.
 */
export function opTempName(kind: 'export' | 'backup', opId: string, n: number): string {
  return `.${kind}-${opId}-${n}.tmp`;
}

/** Remove the temporary files an earlier run of this operation left in `dir` (a crash mid-copy). */
export function removeOpTemps(dir: string, kind: 'export' | 'backup', opId: string): string[] {
  const prefix = `.${kind}-${opId}-`;
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (n.startsWith(prefix) && n.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, n), { force: true });
      removed.push(n);
    }
  }
  return removed;
}

/** Gzip `src` into `dir/name` through a temporary file renamed at the end (no half file on failure). */
export async function gzipInto(src: string, dir: string, name: string, tmpName = `${name}.tmp-${process.pid}`): Promise<number> {
  const dest = path.join(dir, name);
  const tmp = path.join(dir, tmpName);
  try {
    await pipeline(fs.createReadStream(src), zlib.createGzip({ level: 6 }), fs.createWriteStream(tmp, { flags: 'wx', mode: 0o640 }));
    fs.renameSync(tmp, dest);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new DataOpError(reasonOf(e), `cannot write ${dest}: ${(e as Error).message}`);
  }
  return fs.statSync(dest).size;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const RDB_MAGIC = Buffer.from('REDIS');

function head(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Put an import source at `dest` as a plain RDB: gunzipped when it is gzip, copied otherwise; resolves its size.
 * A missing or unreadable source is a `download-error`; anything that is not an RDB (bad gzip,
 * no `REDIS` signature) is `file-corrupted`. Deeper damage shows when redis-server loads it.
 * `budget`: the database's memory_size (`limit`) and what earlier files of the import took (`used`). An RDB
 * is more compact than the dataset it loads into, so one that unpacks past the memory left cannot fit: it is
 * stopped as soon as it does, and a huge file or a gzip bomb never fills the disk. A source inside the node's
 * own storage is refused (assertOutsidePrivate).
 */
export async function stageRdb(src: string, dest: string, budget?: { limit: number; used: number }, privateRoots: readonly string[] = []): Promise<number> {
  const maxBytes = budget && budget.limit > 0 ? budget.limit - budget.used : undefined;
  if (!path.isAbsolute(src)) throw new DataOpError('download-error', `import path '${src}' is not absolute`);
  assertOutsidePrivate(src, privateRoots, 'download-error', 'import path');
  try {
    if (!fs.statSync(src).isFile()) throw new DataOpError('download-error', `import path '${src}' is not a file`);
    fs.accessSync(src, fs.constants.R_OK);
  } catch (e) {
    if (e instanceof DataOpError) throw e;
    throw new DataOpError('download-error', `cannot read '${src}': ${(e as Error).message}`);
  }
  const gz = head(src, 2).equals(GZIP_MAGIC);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) done(new TooBig());
      else done(null, chunk);
    },
  });
  try {
    if (gz) await pipeline(fs.createReadStream(src), zlib.createGunzip(), count, fs.createWriteStream(dest, { mode: 0o600 }));
    else await pipeline(fs.createReadStream(src), count, fs.createWriteStream(dest, { mode: 0o600 }));
  } catch (e) {
    fs.rmSync(dest, { force: true });
    if (e instanceof TooBig) {
      throw new DataOpError(`file-larger-than-mem-limit:${budget!.used + bytes}:${budget!.limit}`, `'${src}' unpacks to more than the ${maxBytes} bytes of memory_size left`);
    }
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_')) throw new DataOpError('file-corrupted', `'${src}' is not a valid gzip file: ${(e as Error).message}`);
    throw new DataOpError('download-error', `cannot read '${src}': ${(e as Error).message}`);
  }
  if (!head(dest, RDB_MAGIC.length).equals(RDB_MAGIC)) throw new DataOpError('file-corrupted', `'${src}' is not an RDB file (no REDIS signature)`);
  return bytes;
}

class TooBig extends Error {}

/** A persistence file of a shard, as the recovery plan lists it (requests/bdbs/actions/recover.md). */
export interface PersistenceFile {
  filename: string;
  path: string;
  size: number;
  /** Seconds since the epoch, fractional. */
  last_modified: number;
}

/**
 * The files a shard would load on start: the AOF (Redis 7 multi-part: the manifest in
 * appendonlydir names the base and increment files) or the RDB snapshot.
 */
export function persistenceFiles(shardDir: string): { aof: PersistenceFile[]; rdb?: PersistenceFile } {
  const stat = (p: string, filename: string): PersistenceFile | undefined => {
    try {
      const st = fs.statSync(p);
      return st.isFile() ? { filename, path: p, size: st.size, last_modified: st.mtimeMs / 1000 } : undefined;
    } catch {
      return undefined;
    }
  };
  const aofDir = path.join(shardDir, 'appendonlydir');
  const aof: PersistenceFile[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(aofDir).filter((n) => n.endsWith('.manifest'));
  } catch {
    // no AOF directory
  }
  for (const manifest of names) {
    const listed = fs.readFileSync(path.join(aofDir, manifest), 'utf8').split('\n')
      .map((l) => /^file (\S+) /.exec(l)?.[1]).filter((f): f is string => f !== undefined);
    for (const f of [manifest, ...listed]) {
      const pf = stat(path.join(aofDir, f), f);
      if (pf) aof.push(pf);
    }
  }
  const rdb = stat(path.join(shardDir, 'dump.rdb'), 'dump.rdb');
  return { aof, ...(rdb ? { rdb } : {}) };
}

/**
 * The shard's AOF is at least as new as its `dump.rdb` (and exists). A replicated AOF database whose
 * shard is started from such files (a replica promoted after a crash of everything) loads the AOF.
 */
export function aofIsNewest(shardDir: string): boolean {
  const aof = aofAt(shardDir);
  return aof > 0 && aof >= mtime(path.join(shardDir, 'dump.rdb'));
}

/** When a shard last persisted (newest mtime of its RDB or AOF files, ms); 0 without any. */
export function persistedAt(shardDir: string): number {
  return Math.max(mtime(path.join(shardDir, 'dump.rdb')), aofAt(shardDir));
}

/** Newest mtime of the files in the shard's appendonlydir (0 without). */
function aofAt(shardDir: string): number {
  const aof = path.join(shardDir, 'appendonlydir');
  let names: string[] = [];
  try {
    names = fs.readdirSync(aof);
  } catch {
    return 0;
  }
  return Math.max(0, ...names.map((f) => mtime(path.join(aof, f))));
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** What a shard directory holds of its data: the AOF directory and the RDB snapshot. */
const PERSISTENCE = ['appendonlydir', 'dump.rdb'];

/** Move a shard's persistence files aside (recover_without_data), into `<dir>/discarded-<stamp>/`. */
export function discardPersistence(shardDir: string, at: Date): string | undefined {
  const targets = PERSISTENCE.filter((n) => fs.existsSync(path.join(shardDir, n)));
  if (!targets.length) return undefined;
  const aside = path.join(shardDir, `discarded-${fileStamp(at)}`);
  fs.mkdirSync(aside, { recursive: true, mode: 0o700 });
  for (const n of targets) fs.renameSync(path.join(shardDir, n), path.join(aside, n));
  return aside;
}

/** Delete a shard's persistence files (files of a database without persistence are not its data). */
export function removePersistence(shardDir: string): void {
  for (const n of PERSISTENCE) fs.rmSync(path.join(shardDir, n), { recursive: true, force: true });
}
