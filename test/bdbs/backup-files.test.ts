/** The pure parts of backups: file names, retention, the schedule, location and source checks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { backupFilesOf, checkWritableDir, dataFileName, DataOpError, expiredBackups, stageRdb } from '../../src/controller/backup-files.js';
import { exportDataset } from '../../src/controller/backup-export.js';
import { recoveryPlan } from '../../src/controller/backup-recovery.js';
import { backupDue } from '../../src/services/bdb-data-ops.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-backup-files-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const reasonOf = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (e) {
    return e instanceof DataOpError ? e.reason : `unexpected: ${String(e)}`;
  }
};

describe('file names and retention', () => {
  it('names one gzipped RDB per shard with a colon-free timestamp and at most 30 characters of the name', () => {
    const at = new Date('2024-05-01T12:34:56.789Z');
    expect(dataFileName('export', at, 'db1', 1, 1, 1)).toBe('export_2024-05-01T12-34-56Z_db1_db1_1-of-1.rdb.gz');
    const long = 'a'.repeat(40);
    expect(dataFileName('backup', at, long, 7, 2, 3)).toBe(`backup_2024-05-01T12-34-56Z_${'a'.repeat(30)}_db7_2-of-3.rdb.gz`);
  });

  it('two databases whose names share their first 30 characters never get the same file name nor prune each other', () => {
    // QA: 'customer-orders-production-east-1' and '-east-2' backing up to one location every 10 s:
    // one backup overwrote the other's file of the same second, or both failed (EEXIST / ENOENT).
    const at = new Date('2024-05-01T12:00:00Z');
    const a = 'customer-orders-production-east-1';
    const b = 'customer-orders-production-east-2';
    expect(dataFileName('backup', at, a, 3, 1, 1)).not.toBe(dataFileName('backup', at, b, 4, 1, 1));
    expect(dataFileName('export', at, a, 3, 1, 1)).not.toBe(dataFileName('export', at, b, 4, 1, 1));
    const names = [dataFileName('backup', at, a, 3, 1, 1), dataFileName('backup', at, b, 4, 1, 1)];
    const now = new Date('2024-05-10T00:00:00Z');
    expect(expiredBackups(names, a, 3, 1, now)).toEqual([names[0]]);
    expect(expiredBackups(names, b, 4, 1, now)).toEqual([names[1]]);
  });

  it('backup_history keeps N days of this database\'s backups and never touches other files', () => {
    const now = new Date('2024-05-10T00:00:00Z');
    const names = [
      'backup_2024-05-01T00-00-00Z_db1_db5_1-of-1.rdb.gz',
      'backup_2024-05-09T12-00-00Z_db1_db5_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db10_db6_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db1_db55_1-of-1.rdb.gz',
      'export_2024-05-01T00-00-00Z_db1_db5_1-of-1.rdb.gz',
      'notes.txt',
    ];
    expect(backupFilesOf(names, 'db1', 5).map((f) => f.name)).toEqual([names[0], names[1]]);
    expect(expiredBackups(names, 'db1', 5, 1, now)).toEqual([names[0]]);
    expect(expiredBackups(names, 'db1', 5, 30, now)).toEqual([]);
    expect(expiredBackups(names, 'db1', 5, 0, now)).toEqual([]); // 0 is forever
  });

  it('backups named by an earlier release (no uid in the name) are pruned only when asked for (legacy)', () => {
    // QA: after an upgrade, the backups the previous release wrote (`<stamp>_<name>_1-of-1`) were never pruned.
    const now = new Date('2024-05-10T00:00:00Z');
    const names = [
      'backup_2024-05-01T00-00-00Z_db1_1-of-1.rdb.gz',
      'backup_2024-05-09T12-00-00Z_db1_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db1_db5_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db1_db6_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db10_1-of-1.rdb.gz',
      'backup_2024-05-01T00-00-00Z_db1-x_1-of-1.rdb.gz',
    ];
    expect(expiredBackups(names, 'db1', 5, 1, now, true)).toEqual([names[0], names[2]]);
    expect(expiredBackups(names, 'db1', 5, 1, now)).toEqual([names[2]]);
  });
});

describe('export files', () => {
  it('a run of an operation removes the partial file an earlier, cut-off run of it left in the location', async () => {
    // QA: the manager SIGKILLed while gzipping an export: `<file>.rdb.gz.tmp-<pid>` (19 MB) stayed in
    // the location for good (the next run writes under another pid and name; no retention matches it).
    const shardDir = fs.mkdtempSync(path.join(tmp, 'shard-'));
    const loc = fs.mkdtempSync(path.join(tmp, 'loc-'));
    fs.writeFileSync(path.join(shardDir, 'dump.rdb'), 'REDIS0009 an rdb');
    let saves = 0;
    const admin = {
      port: 1,
      info: async () => ({ persistence: { rdb_bgsave_in_progress: '0', rdb_saves: String(saves), rdb_last_save_time: '0', rdb_last_bgsave_status: 'ok' } }),
      bgsave: async () => { saves++; },
      configGetAll: async () => ({ dir: shardDir, dbfilename: 'dump.rdb' }),
    };
    const deps = { plane: { admin: () => admin }, log: { info: () => undefined } } as any;
    const rec = { uid: 3, name: 'db', endpoint_port: 1, passwords: [], traffic: 'on' as const, data_persistence: 'snapshot' as const };
    const shards = [{ uid: 1, node_uid: 1, bdb_uid: 3, role: 'master' as const, dir: shardDir, assigned_slots: '0-16383' }];
    const opId = '0b6c5a3e-1111-4222-8333-944445555666';
    // What the cut-off run left (same operation), and another operation's file, which stays.
    const partial = `.backup-${opId}-1.tmp`;
    const other = '.backup-ffffffff-1111-4222-8333-944445555666-1.tmp';
    fs.writeFileSync(path.join(loc, partial), 'half a gzip');
    fs.writeFileSync(path.join(loc, other), 'another run, still writing');
    const written = await exportDataset(deps, rec, shards as any, loc, 'backup', new Date('2024-05-01T00:00:00Z'), async () => undefined, opId);
    expect(fs.readdirSync(loc).sort()).toEqual([other, ...written].sort());
    expect(zlib.gunzipSync(fs.readFileSync(path.join(loc, written[0]!))).toString()).toBe('REDIS0009 an rdb');
  });
});

describe('schedule', () => {
  const at = (s: number) => new Date(s * 1000);
  it('is due at every interval from the epoch plus the offset, once per point', () => {
    expect(backupDue(at(3600), at(3599), 3600)).toBe(true);
    expect(backupDue(at(3600), at(3600), 3600)).toBe(false);
    expect(backupDue(at(7199), at(3600), 3600)).toBe(false);
    expect(backupDue(at(7200), at(3600), 3600)).toBe(true);
    // offset 600: points at 600, 4200, 7800...
    expect(backupDue(at(4199), at(601), 3600, 600)).toBe(false);
    expect(backupDue(at(4200), at(601), 3600, 600)).toBe(true);
    expect(backupDue(at(10_000), at(0), 0)).toBe(false);
  });
});

describe('locations and sources', () => {
  it('an export location must be an existing, writable, absolute directory', async () => {
    expect(await reasonOf(() => checkWritableDir(tmp))).toBeUndefined();
    expect(await reasonOf(() => checkWritableDir(path.join(tmp, 'missing')))).toBe('wrong-file-path');
    expect(await reasonOf(() => checkWritableDir('relative'))).toBe('wrong-file-path');
    const f = path.join(tmp, 'file');
    fs.writeFileSync(f, '');
    expect(await reasonOf(() => checkWritableDir(f))).toBe('wrong-file-path');
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.openrs-probe'))).toEqual([]);
  });

  it('an import source is gunzipped when gzip and must start with the RDB signature', async () => {
    const rdb = Buffer.concat([Buffer.from('REDIS0009'), Buffer.from([0xff])]);
    const plain = path.join(tmp, 'a.rdb');
    const gz = path.join(tmp, 'a.rdb.gz');
    fs.writeFileSync(plain, rdb);
    fs.writeFileSync(gz, zlib.gzipSync(rdb));
    for (const src of [plain, gz]) {
      const dest = path.join(tmp, `staged-${path.basename(src)}`);
      await stageRdb(src, dest);
      expect(fs.readFileSync(dest)).toEqual(rdb);
    }
    fs.writeFileSync(path.join(tmp, 'text.rdb'), 'hello');
    fs.writeFileSync(path.join(tmp, 'empty.rdb'), '');
    fs.writeFileSync(path.join(tmp, 'text.rdb.gz'), zlib.gzipSync('hello'));
    expect(await reasonOf(stageRdb(path.join(tmp, 'text.rdb'), path.join(tmp, 'x')))).toBe('file-corrupted');
    expect(await reasonOf(stageRdb(path.join(tmp, 'empty.rdb'), path.join(tmp, 'x')))).toBe('file-corrupted');
    expect(await reasonOf(stageRdb(path.join(tmp, 'text.rdb.gz'), path.join(tmp, 'x')))).toBe('file-corrupted');
    expect(await reasonOf(stageRdb(path.join(tmp, 'nope.rdb'), path.join(tmp, 'x')))).toBe('download-error');
    expect(await reasonOf(stageRdb('nope.rdb', path.join(tmp, 'x')))).toBe('download-error');
  });

  it('a source that unpacks past the memory_size left is stopped as it unpacks (a gzip bomb fills no disk)', async () => {
    // 64 MiB of zeros after the signature: a few dozen KiB gzipped.
    const bomb = path.join(tmp, 'bomb.rdb.gz');
    fs.writeFileSync(bomb, zlib.gzipSync(Buffer.concat([Buffer.from('REDIS0009'), Buffer.alloc(64 * 1024 * 1024)])));
    const dest = path.join(tmp, 'staged-bomb');
    expect(await reasonOf(stageRdb(bomb, dest, { limit: 1024 * 1024, used: 0 }))).toMatch(/^file-larger-than-mem-limit:\d+:1048576$/);
    expect(fs.existsSync(dest)).toBe(false);
    // Within the budget (counting what earlier sources took), or no limit (memory_size 0): staged whole.
    const small = path.join(tmp, 'a.rdb');
    expect(await stageRdb(small, dest, { limit: 1024, used: 1000 })).toBe(10);
    expect(await reasonOf(stageRdb(small, dest, { limit: 1024, used: 1020 }))).toBe('file-larger-than-mem-limit:1030:1024');
    expect(await stageRdb(bomb, dest, { limit: 0, used: 0 })).toBe(9 + 64 * 1024 * 1024);
  });
});

describe('recovery plan', () => {
  /** A replicated AOF database's master (shard 1) and replica (shard 2) in `<tmp>/<name>`; an AOF in `aofIn`'s directory. */
  function planFixture(name: string, aofIn: 'master' | 'replica') {
    const m = path.join(tmp, name, 'shard-1');
    const r = path.join(tmp, name, 'shard-2');
    const withAof = aofIn === 'master' ? m : r;
    fs.mkdirSync(path.join(withAof, 'appendonlydir'), { recursive: true });
    fs.mkdirSync(aofIn === 'master' ? r : m, { recursive: true });
    fs.writeFileSync(path.join(withAof, 'appendonlydir', 'appendonly.aof.manifest'),
      'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
    fs.writeFileSync(path.join(withAof, 'appendonlydir', 'appendonly.aof.1.base.rdb'), 'REDIS');
    fs.writeFileSync(path.join(withAof, 'appendonlydir', 'appendonly.aof.1.incr.aof'), '');
    const shards = [
      { uid: 1, node_uid: 1, bdb_uid: 1, role: 'master' as const, dir: m, assigned_slots: '0-16383' },
      { uid: 2, node_uid: 1, bdb_uid: 1, role: 'slave' as const, dir: r, assigned_slots: '0-16383' },
    ];
    const rec = { uid: 1, name: 'db', endpoint_port: 1, passwords: [], traffic: 'on' as const, replication: true, data_persistence: 'aof' as const };
    return { m, r, shards, rec };
  }

  it('lists what each shard would load: the AOF files when it persists with AOF, else dump.rdb', () => {
    const { r, shards, rec } = planFixture('plan', 'replica');
    const plan = recoveryPlan(rec, shards);
    expect(plan.status).toBe('ready');
    expect(plan.data_files.map((f) => [f.shard_uid, f.shard_role, f.filename])).toEqual([
      ['2', 'slave', 'appendonly.aof.manifest'], ['2', 'slave', 'appendonly.aof.1.base.rdb'], ['2', 'slave', 'appendonly.aof.1.incr.aof'],
    ]);
    fs.rmSync(path.join(r, 'appendonlydir'), { recursive: true });
    expect(recoveryPlan(rec, shards).status).toBe('missing-files');
    expect(recoveryPlan({ ...rec, data_persistence: 'disabled' }, shards).status).toBe('ready');
  });

  it('lists the AOF of a master whose AOF is its newest file: it starts with appendonly yes and loads that', () => {
    // QA: every shard of a replicated AOF database killed: the reconciler made the replica with the
    // newest AOF the master (appendonly yes to load it; its AOF was damaged, so: recovery), but the plan
    // listed that shard's dump.rdb from an older full sync, not the AOF it loads and fails on; with no
    // dump.rdb it listed nothing for the shard that holds the data.
    const { m, shards, rec } = planFixture('plan2', 'master');
    const aofFiles = [['1', 'master', 'appendonly.aof.manifest'], ['1', 'master', 'appendonly.aof.1.base.rdb'], ['1', 'master', 'appendonly.aof.1.incr.aof']];
    let plan = recoveryPlan(rec, shards);
    expect(plan.status).toBe('ready');
    expect(plan.data_files.map((f) => [f.shard_uid, f.shard_role, f.filename])).toEqual(aofFiles);
    // An older dump.rdb (a full sync from before) is not what it loads.
    const old = new Date(Date.now() - 60_000);
    fs.writeFileSync(path.join(m, 'dump.rdb'), 'REDIS');
    fs.utimesSync(path.join(m, 'dump.rdb'), old, old);
    plan = recoveryPlan(rec, shards);
    expect(plan.data_files.map((f) => [f.shard_uid, f.shard_role, f.filename])).toEqual(aofFiles);
    // A newer dump.rdb is (the shard starts with appendonly no).
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(m, 'dump.rdb'), later, later);
    plan = recoveryPlan(rec, shards);
    expect(plan.data_files.map((f) => [f.shard_uid, f.shard_role, f.filename])).toEqual([['1', 'master', 'dump.rdb']]);
  });
});
