/**
 * Runs the dataset operations the service records at `/bdb_data_ops/<uid>` (export, import,
 * recover) and the scheduled backups, one database at a time (a work queue keyed `bdb:<uid>`),
 * reporting through the action and the bdb's `*_status` / `*_progress` / `*_failure_reason`.
 *
 * A ticker (injectable period) enqueues databases with `backup: true`, whose reconcile starts a
 * backup when one is due, and watches for databases whose shards are all down and stay down:
 * those go to status 'recovery' (the bdb reconciler then leaves them alone until
 * POST /v1/bdbs/{uid}/actions/recover). An operation interrupted by a manager stop is left in
 * the CCS and runs again from the start on the next start: each is idempotent.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventLog } from '../events/event-log.js';
import type { ActionService } from '../services/action-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import { BDBS_PREFIX } from '../services/bdb-service.js';
import {
  backupDue, backupRetrySec, DATA_ACTION_NAMES, DATA_OPS_PREFIX, withStatus, type DataOp, type DataOpsRecord, type StatusKind,
} from '../services/bdb-data-ops.js';
import type { ShardInventory, ShardSummary } from '../services/shard-inventory.js';
import type { KvBackend, Unwatch } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import { rsTime, type Clock } from '../util/clock.js';
import { exportDataset } from './backup-export.js';
import { DataOpError, discardPersistence, expiredBackups, NAME_CHARS_IN_FILES } from './backup-files.js';
import { discardStages, importDataset, type ImportDeps } from './backup-import.js';
import { filesToLoad, recoveryPlan, type RecoveryPlan } from './backup-recovery.js';
import type { DataPlane } from './data-plane.js';
import { WorkQueue, type ReconcileResult } from './queue.js';

export interface BackupControllerDeps {
  kv: KvBackend;
  bdbs: Collection<BdbRecord>;
  ops: Collection<DataOpsRecord>;
  shards: ShardInventory;
  actions: ActionService;
  plane: DataPlane;
  events: EventLog;
  log: Logger;
  clock: Clock;
  importDeps: Omit<ImportDeps, 'plane' | 'log' | 'privateRoots' | 'currentMaster'>;
  /** The node's own storage, where no export, backup or import location may be (backup-files.ts assertOutsidePrivate). */
  privateRoots?: () => Promise<readonly string[]>;
  /** Make the bdb reconciler look at a database now (after a recover prepared it). */
  enqueueBdb(uid: number): void;
  /** How often schedules and shard liveness are checked (ms). Default 500. */
  tickMs?: number;
  /** Every shard of an active database down this long → status 'recovery' (ms). Default 8000. */
  recoveryAfterMs?: number;
  /** The cluster policy's auto_recovery: databases in 'recovery' are recovered without a request. */
  autoRecovery?: () => Promise<boolean>;
  /** Start a recover action, as POST /v1/bdbs/{uid}/actions/recover with no options does. */
  startRecovery?: (uid: number) => Promise<void>;
  /** Between two automatic recover attempts of one database (ms). Default 30000. */
  autoRecoveryEveryMs?: number;
}

/** The manager is stopping: leave the operation recorded, to run again on the next start. */
class Interrupted extends Error {}

const key = (uid: number) => `bdb:${uid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Status/progress writes during an operation are at most this frequent (each write is a CCS revision). */
const PROGRESS_EVERY_MS = 300;

export class BackupController {
  readonly queue: WorkQueue;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: Unwatch[] = [];
  private stopping = false;
  private ticking = false;
  private readonly downSince = new Map<number, number>();
  /** The shard process each shard had at the previous liveness pass. */
  private readonly seenPid = new Map<number, number>();
  /** When each database's last automatic recover was tried. */
  private readonly autoTried = new Map<number, number>();

  constructor(private readonly d: BackupControllerDeps) {
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (k, err, attempt) => d.log.warn({ key: k, attempt, err: (err as Error).message }, 'data operation reconcile failed'),
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    await discardStages(this.d.plane.supervisor, this.d.importDeps.scratchDir).catch((e: unknown) => this.d.log.warn({ err: String(e) }, 'cannot clean up after earlier imports'));
    const rev = await this.d.kv.revision();
    for (const r of await this.d.ops.list()) if (r.op) this.queue.add(key(r.uid));
    const uidOf = (k: string) => Number(k.slice(k.lastIndexOf('/') + 1));
    this.unwatch.push(this.d.kv.watch(DATA_OPS_PREFIX, rev, (evs) => evs.forEach((e) => {
      if (e.type === 'put' && (e.value as DataOpsRecord | undefined)?.op) this.queue.add(key(uidOf(e.key)));
    })));
    this.unwatch.push(this.d.kv.watch(BDBS_PREFIX, rev, (evs) => evs.forEach((e) => {
      if (e.type === 'delete') this.queue.add(key(uidOf(e.key)));
    })));
    this.timer = setInterval(() => void this.tick(), this.d.tickMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unwatch.forEach((u) => u());
    this.unwatch = [];
    await this.queue.stop();
  }

  /** One scheduler pass: enqueue databases with backups on; mark databases whose shards stay down. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const all = await this.d.shards.all();
      const armed = new Set((await this.d.ops.list()).filter((r) => r.backup_armed).map((r) => r.uid));
      const bdbs = await this.d.bdbs.list();
      for (const rec of bdbs) {
        // Armed but switched off: the reconcile disarms it, so switching on again starts a new schedule.
        if ((rec.backup && rec.backup_interval) || armed.has(rec.uid)) this.queue.add(key(rec.uid));
        await this.watchLiveness(rec, all.filter((s) => s.bdb_uid === rec.uid));
      }
      // The list read for this pass: a database it just put in recovery is seen by the next one.
      await this.autoRecover(bdbs);
    } catch (e) {
      this.d.log.warn({ err: e }, 'backup scheduler pass failed');
    } finally {
      this.ticking = false;
    }
  }

  /** GET /v1/bdbs/{uid}/actions/recover: the files each shard would load. */
  async plan(uid: number): Promise<RecoveryPlan> {
    const rec = (await this.d.bdbs.get(uid))?.value;
    if (!rec) return { data_files: [], status: 'missing-files' };
    return recoveryPlan(rec, await this.d.shards.ofBdb(uid));
  }

  /** Whether a redis-server of the database runs (its pid file names a live redis-server in its dir). */
  async anyShardRunning(uid: number): Promise<boolean> {
    return (await this.d.shards.all()).some((s) => s.bdb_uid === uid && this.alive(s));
  }

  private alive(s: ShardSummary): boolean {
    return s.dir !== undefined && this.d.plane.supervisor.pidOf(s.dir) !== undefined;
  }

  /**
   * An active database with no shard process for recoveryAfterMs cannot be restarted as it is:
   * 'recovery'. A shard counts as running when the same process was there at the previous pass too:
   * one that the reconciler keeps restarting and that keeps failing (a corrupt file) is there now
   * and then, but never the same one twice.
   */
  private async watchLiveness(rec: BdbRecord, shards: ShardSummary[]): Promise<void> {
    let running = false;
    for (const s of shards) {
      const pid = s.dir !== undefined ? this.d.plane.supervisor.pidOf(s.dir) : undefined;
      if (pid !== undefined && this.seenPid.get(s.uid) === pid) running = true;
      if (pid === undefined) this.seenPid.delete(s.uid);
      else this.seenPid.set(s.uid, pid);
    }
    if (rec.status !== 'active' || !shards.length || running) {
      this.downSince.delete(rec.uid);
      return;
    }
    const now = Date.now();
    const since = this.downSince.get(rec.uid) ?? now;
    this.downSince.set(rec.uid, since);
    if (now - since < (this.d.recoveryAfterMs ?? 8000)) return;
    this.downSince.delete(rec.uid);
    if (await this.patchBdb(rec.uid, (r) => (r.status === 'active' ? { ...r, status: 'recovery' } : undefined))) {
      this.d.log.error({ bdb: rec.uid }, 'database shards cannot be restarted; status recovery');
      this.d.events.write('bdb_recovery_needed', { bdb_uid: String(rec.uid), bdb_name: rec.name }, 'ERROR');
    }
  }

  /**
   * With the cluster policy's auto_recovery on, a database in 'recovery' is recovered as if
   * POST .../actions/recover had been sent (at most every autoRecoveryEveryMs per database); a
   * refusal (missing persistence files, another action running) leaves it for the operator.
   */
  private async autoRecover(bdbs: BdbRecord[]): Promise<void> {
    if (!this.d.startRecovery || !this.d.autoRecovery) return;
    const waiting = bdbs.filter((r) => r.status === 'recovery');
    for (const uid of [...this.autoTried.keys()]) if (!waiting.some((r) => r.uid === uid)) this.autoTried.delete(uid);
    if (!waiting.length || !(await this.d.autoRecovery())) return;
    const now = Date.now();
    for (const rec of waiting) {
      const last = this.autoTried.get(rec.uid);
      if (last !== undefined && now - last < (this.d.autoRecoveryEveryMs ?? 30_000)) continue;
      this.autoTried.set(rec.uid, now);
      try {
        await this.d.startRecovery(rec.uid);
        this.d.log.warn({ bdb: rec.uid }, 'auto_recovery: recovering the database');
      } catch (err) {
        this.d.log.warn({ bdb: rec.uid, err: (err as Error).message }, 'auto_recovery: the database cannot be recovered now');
      }
    }
  }

  async reconcile(k: string): Promise<ReconcileResult | void> {
    const uid = Number(k.split(':')[1]);
    const cur = (await this.d.bdbs.get(uid))?.value;
    const opsRec = (await this.d.ops.get(uid))?.value;
    if (!cur || cur.status === 'delete-pending') {
      if (opsRec?.op) await this.failAction(opsRec.op, 'the database was deleted');
      if (!cur && opsRec) await this.d.kv.delete(this.d.ops.key(uid));
      return;
    }
    const op = opsRec?.op ?? (await this.maybeStartBackup(cur, opsRec));
    if (!op) {
      if (cur.status === 'import-pending') await this.patchBdb(uid, (r) => (r.status === 'import-pending' ? { ...r, status: 'active' } : undefined));
      return;
    }
    const action = await this.d.actions.get(op.action_uid);
    if (!action || action.status === 'completed' || action.status === 'failed') {
      await this.finish(uid, op, (r) => r);
      return;
    }
    await this.d.actions.transition(op.action_uid, 'active', { progress: 1, state: 'running' });
    try {
      await this.run(cur, op);
    } catch (e) {
      if (e instanceof Interrupted) return;
      const reason = e instanceof DataOpError ? e.reason : 'general-error';
      const message = (e as Error).message;
      this.d.log.warn({ bdb: uid, kind: op.kind, reason, err: message }, 'data operation failed');
      const kind = op.kind === 'recover' ? undefined : op.kind;
      await this.finish(uid, op, (r) => {
        const next = kind ? withStatus(r, kind, { status: 'failed', reason }) : r;
        return op.kind === 'import' && next.status === 'import-pending' ? { ...next, status: 'active' } : next;
      }, { failed: true });
      await this.d.actions.transition(op.action_uid, 'failed', { error: message, error_code: reason });
      this.d.events.write(`bdb_${op.kind}_failed`, { bdb_uid: String(uid), bdb_name: cur.name, reason, message }, 'WARNING');
    }
  }

  private async run(rec: BdbRecord, op: DataOp): Promise<void> {
    const shards = await this.d.shards.ofBdb(rec.uid);
    const privateRoots = (await this.d.privateRoots?.()) ?? [];
    if (op.kind === 'export' || op.kind === 'backup') {
      const kind = op.kind;
      const at = this.d.clock.now();
      const dir = op.location?.type === 'mount_point' ? op.location.path : '';
      if (!dir) {
        throw new DataOpError('wrong-file-path', op.location?.type === 'mount_point' ? 'mount_point location: a path is required' : `${op.location?.type ?? 'no'} location: only mount_point is supported`);
      }
      const report = this.reporter(rec.uid, op, kind);
      const files = await exportDataset({ plane: this.d.plane, log: this.d.log, privateRoots }, rec, shards, dir, kind, at, (p) => report({ status: 'exporting', progress: p }), op.action_uid);
      if (kind === 'backup') await this.pruneBackups(rec, dir, at);
      await this.finish(rec.uid, op, (r) => withStatus(r, kind, { status: 'succeeded', progress: 100, reason: '', last: rsTime(at) }));
      await this.d.actions.transition(op.action_uid, 'completed', { state: 'done' });
      this.d.events.write(`bdb_${kind}_succeeded`, { bdb_uid: String(rec.uid), bdb_name: rec.name, files });
      return;
    }
    if (op.kind === 'import') {
      const master = shards.find((s) => s.role === 'master');
      if (!master) throw new DataOpError('general-error', `database ${rec.uid} has no master shard`);
      const report = this.reporter(rec.uid, op, 'import');
      const currentMaster = async (): Promise<ShardSummary | undefined> => {
        const m = (await this.d.shards.ofBdb(rec.uid)).find((s) => s.role === 'master');
        return m?.port !== undefined && m.dir !== undefined && (await this.d.plane.supervisor.ping({ uid: m.uid, port: m.port, dir: m.dir })) ? m : undefined;
      };
      await importDataset({ ...this.d.importDeps, plane: this.d.plane, log: this.d.log, currentMaster, privateRoots }, rec, master, op.sources ?? [], op.action_uid.slice(0, 8),
        (phase, p) => report({ status: phase, progress: p }));
      await this.finish(rec.uid, op, (r) => ({ ...withStatus(r, 'import', { status: 'succeeded', progress: 100, reason: '' }), status: r.status === 'import-pending' ? 'active' : r.status }));
      await this.d.actions.transition(op.action_uid, 'completed', { state: 'done' });
      this.d.events.write('bdb_import_succeeded', { bdb_uid: String(rec.uid), bdb_name: rec.name });
      return;
    }
    await this.recover(rec, shards, op);
  }

  /**
   * Recover: optionally move the files aside (recover_without_data), hand the database back to
   * the bdb reconciler (status 'recovery' → 'active-change-pending'), and wait until every shard
   * runs and the database is active again.
   */
  private async recover(rec: BdbRecord, shards: ShardSummary[], op: DataOp): Promise<void> {
    const startedAt = Date.now();
    const withoutData = op.recover?.recover_without_data === true;
    if ((withoutData || op.recover?.ignore_errors) && !shards.some((s) => this.alive(s))) {
      for (const s of shards) {
        if (!s.dir) continue;
        const aside = withoutData ? discardPersistence(s.dir, this.d.clock.now()) : undefined;
        if (aside) this.d.log.warn({ bdb: rec.uid, shard: s.uid, moved_to: aside }, 'recover without data: persistence files moved aside');
        // The operator accepts starting without the missing files: a shard without files starts as a new one
        // (the reconciler holds back a shard that ran with an AOF and lost it, bdb-controller aofLost).
        if (!filesToLoad(rec, s).length) fs.rmSync(path.join(s.dir, 'redis.conf'), { force: true });
      }
    }
    await this.patchBdb(rec.uid, (r) => (r.status === 'recovery' ? { ...r, status: 'active-change-pending' } : undefined));
    this.d.enqueueBdb(rec.uid);
    const limit = Math.max(30_000, 3 * (this.d.recoveryAfterMs ?? 8000));
    for (;;) {
      if (this.stopping) throw new Interrupted();
      const cur = (await this.d.bdbs.get(rec.uid))?.value;
      if (!cur) throw new DataOpError('general-error', 'the database was deleted');
      const running = shards.filter((s) => this.alive(s)).length;
      if (cur.status === 'active' && running === shards.length) break;
      if (Date.now() - startedAt > limit) {
        await this.patchBdb(rec.uid, (r) => (r.status === 'active-change-pending' ? { ...r, status: 'recovery' } : undefined));
        throw new DataOpError('general-error', `the shards did not start within ${limit} ms (see the shards' logs)`);
      }
      await this.d.actions.transition(op.action_uid, 'active', { progress: 10 + (80 * running) / Math.max(1, shards.length), state: 'restarting shards' });
      await sleep(100);
    }
    await this.finish(rec.uid, op, (r) => r);
    await this.d.actions.transition(op.action_uid, 'completed', { state: 'done' });
    this.d.events.write('bdb_recovered', { bdb_uid: String(rec.uid), bdb_name: rec.name });
  }

  /**
   * Throttled progress for one operation: the bdb's fields and the action. Throws Interrupted when
   * stopping, except for the report of an export or backup at 100%: its files are written then, and
   * an interrupted run would be made again by the next manager (a second full copy in the location).
   */
  private reporter(uid: number, op: DataOp, kind: StatusKind): (s: { status: string; progress: number }) => Promise<void> {
    let last = 0;
    let lastKey = '';
    return async (s) => {
      if (this.stopping) {
        if ((kind === 'export' || kind === 'backup') && s.progress >= 100) return;
        throw new Interrupted();
      }
      const k = `${s.status}:${Math.round(s.progress)}`;
      const now = Date.now();
      if (k === lastKey || (now - last < PROGRESS_EVERY_MS && s.status === lastKey.split(':')[0])) return;
      last = now;
      lastKey = k;
      await this.patchBdb(uid, (r) => withStatus(r, kind, { status: s.status, progress: s.progress }));
      await this.d.actions.transition(op.action_uid, 'active', { progress: Math.max(1, Math.min(99, Math.round(s.progress))), state: s.status });
    };
  }

  /**
   * Delete this database's backups older than backup_history days (0 keeps all). Backups named before the uid
   * was in the names (an upgraded node) are this database's too when no other database's name starts with the
   * same 30 characters (QA: after an upgrade they were kept forever).
   */
  private async pruneBackups(rec: BdbRecord, dir: string, now: Date): Promise<void> {
    try {
      const prefix = rec.name.slice(0, NAME_CHARS_IN_FILES);
      const legacy = !(await this.d.bdbs.list()).some((b) => b.uid !== rec.uid && b.name.slice(0, NAME_CHARS_IN_FILES) === prefix);
      for (const name of expiredBackups(fs.readdirSync(dir), rec.name, rec.uid, rec.backup_history ?? 0, now, legacy)) {
        fs.rmSync(path.join(dir, name), { force: true });
        this.d.log.info({ bdb: rec.uid, file: path.join(dir, name) }, 'old backup removed (backup_history)');
      }
    } catch (e) {
      this.d.log.warn({ bdb: rec.uid, err: (e as Error).message }, 'backup retention failed');
    }
  }

  /**
   * A scheduled backup, when `backup` is on, the schedule is due and the database is idle:
   * recorded like a requested export (action + op + backup_status), then run by the caller.
   */
  private async maybeStartBackup(rec: BdbRecord, opsRec: DataOpsRecord | undefined): Promise<DataOp | undefined> {
    const interval = rec.backup_interval ?? 0;
    const loc = rec.backup_location;
    if (!rec.backup || interval <= 0 || loc?.type !== 'mount_point') {
      if (!rec.backup && opsRec?.backup_armed) {
        const { backup_armed: _off, ...rest } = opsRec;
        await this.putOps(opsRec, rest, true);
      }
      return undefined;
    }
    if (rec.status !== 'active') return undefined;
    const now = this.d.clock.now();
    const armKey = JSON.stringify([interval, rec.backup_interval_offset ?? 0, loc.path]);
    const base: DataOpsRecord = opsRec ?? { uid: rec.uid };
    if (base.backup_armed?.key !== armKey) {
      await this.putOps(base, { ...base, backup_armed: { key: armKey, at: now.toISOString() } });
      return undefined;
    }
    const lastAttempt = base.last_backup_attempt ? new Date(base.last_backup_attempt) : undefined;
    const since = new Date(Math.max(new Date(base.backup_armed.at).getTime(), lastAttempt?.getTime() ?? 0));
    const retry = base.last_backup_failed && lastAttempt && now.getTime() - lastAttempt.getTime() >= backupRetrySec(interval) * 1000;
    if (!backupDue(now, since, interval, rec.backup_interval_offset ?? 0) && !retry) return undefined;
    if (await this.d.actions.openFor(key(rec.uid))) return undefined; // busy: the next pass tries again

    const { action, op: actionOp } = this.d.actions.create(DATA_ACTION_NAMES.backup, key(rec.uid));
    const op: DataOp = { kind: 'backup', action_uid: action.action_uid, requested_at: now.toISOString(), location: loc };
    const curBdb = await this.d.bdbs.get(rec.uid);
    const curOps = await this.d.ops.get(rec.uid);
    if (!curBdb || curOps?.value.op) return undefined;
    const res = await this.d.kv.txn(
      [{ key: this.d.bdbs.key(rec.uid), modRevision: curBdb.modRevision }, { key: this.d.ops.key(rec.uid), modRevision: curOps?.modRevision ?? 0 }],
      [
        this.d.bdbs.putOp(withStatus(curBdb.value, 'backup', { status: 'exporting', progress: 0, reason: '' })),
        this.d.ops.putOp({ ...(curOps?.value ?? base), op, last_backup_attempt: now.toISOString() }),
        actionOp,
      ],
    );
    return res.succeeded ? op : undefined;
  }

  /** Write the schedule fields of the ops record (compare-and-set; a lost race is redone by the next pass). */
  private async putOps(prev: DataOpsRecord, next: DataOpsRecord, replace = false): Promise<void> {
    const cur = await this.d.ops.get(prev.uid);
    const value = replace ? { ...next, ...(cur?.value.op ? { op: cur.value.op } : {}) } : { ...(cur?.value ?? prev), ...next };
    await this.d.kv.txn([{ key: this.d.ops.key(prev.uid), modRevision: cur?.modRevision ?? 0 }], [this.d.ops.putOp(value)]);
  }

  /** End an operation: the bdb's final fields and the op removed, in one transaction. */
  private async finish(uid: number, op: DataOp, patch: (r: BdbRecord) => BdbRecord, o: { failed?: boolean } = {}): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const b = await this.d.bdbs.get(uid);
      const r = await this.d.ops.get(uid);
      if (!r || r.value.op?.action_uid !== op.action_uid) return;
      const { op: _done, ...rest } = r.value;
      const next: DataOpsRecord = op.kind === 'backup' ? { ...rest, last_backup_failed: o.failed === true } : rest;
      const compares = [{ key: this.d.ops.key(uid), modRevision: r.modRevision }, ...(b ? [{ key: this.d.bdbs.key(uid), modRevision: b.modRevision }] : [])];
      const res = await this.d.kv.txn(compares, [this.d.ops.putOp(next), ...(b ? [this.d.bdbs.putOp(patch(b.value))] : [])]);
      if (res.succeeded) return;
    }
    throw new Error(`could not record the end of ${op.kind} on database ${uid}: too many concurrent changes`);
  }

  private async failAction(op: DataOp, message: string): Promise<void> {
    const a = await this.d.actions.get(op.action_uid);
    if (a && (a.status === 'pending' || a.status === 'active')) await this.d.actions.transition(op.action_uid, 'failed', { error: message, error_code: 'general-error' });
  }

  /** Read-modify-write of the bdb record; `fn` returning undefined means "no change". True when written. */
  private async patchBdb(uid: number, fn: (r: BdbRecord) => BdbRecord | undefined): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
      const cur = await this.d.bdbs.get(uid);
      if (!cur) return false;
      const next = fn(cur.value);
      if (!next) return false;
      const res = await this.d.kv.txn([{ key: this.d.bdbs.key(uid), modRevision: cur.modRevision }], [this.d.bdbs.putOp(next)]);
      if (res.succeeded) return true;
    }
    return false;
  }
}
