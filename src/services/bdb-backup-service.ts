/**
 * Dataset actions (requests/bdbs/actions/export.md, import.md, *_reset_status.md, recover.md):
 * validate, then record the operation, its action and the bdb's status fields in ONE
 * transaction and return; controller/backup-controller.ts runs it. Only NAS/local
 * (`mount_point`) locations are supported; the other location types are refused with 400.
 */
import { RsError } from '../errors.js';
import type { BackupLocation, DatasetImportSource } from '../schemas/bdb.js';
import type { ExportRequest, ImportRequest, RecoverRequest, RecoveryPlanView } from '../schemas/bdb-actions.js';
import type { KvBackend } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import type { Clock } from '../util/clock.js';
import type { ActionService } from './action-service.js';
import { BdbRuleError } from './bdb-rules.js';
import type { BdbRecord } from './bdb-view.js';
import {
  DATA_ACTION_NAMES, IDLE_STATUS, opRunning, withStatus, type DataOp, type DataOpKind, type DataOpsRecord, type StatusKind,
} from './bdb-data-ops.js';

export interface BdbBackupServiceDeps {
  kv: KvBackend;
  bdbs: Collection<BdbRecord>;
  ops: Collection<DataOpsRecord>;
  actions: ActionService;
  clock: Clock;
  /** The files each shard would load (the controller reads the shard directories). */
  recoveryPlan(uid: number): Promise<RecoveryPlanView>;
  /** Whether any shard process of the database is running. */
  anyShardRunning(uid: number): Promise<boolean>;
}

const LOCATION_NAMES: Record<string, string> = {
  url: 'FTP/FTPS/HTTP (url)', sftp: 'SFTP', s3: 'Amazon S3', gs: 'Google Cloud Storage', abs: 'Azure Blob Storage',
};

/** Only NAS/local storage: openrs has no FTP, SFTP or cloud storage client. */
function requireMountPoint(loc: BackupLocation | DatasetImportSource, what: string): void {
  if (loc.type === 'mount_point') return;
  throw new RsError('unsupported_option', `${LOCATION_NAMES[loc.type] ?? loc.type} ${what} locations are not supported by openrs; use a NAS/local location {"type": "mount_point", "path": ...}`);
}

export class BdbBackupService {
  constructor(private readonly d: BdbBackupServiceDeps) {}

  private async rec(uid: number): Promise<{ value: BdbRecord; modRevision: number }> {
    const r = await this.d.bdbs.get(uid);
    if (!r) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    return r;
  }

  async export(uid: number, body: ExportRequest): Promise<{ action_uid: string }> {
    await this.rec(uid);
    requireMountPoint(body.export_location, 'export');
    return this.start(uid, ['active'], { kind: 'export', location: body.export_location },
      (r) => withStatus(r, 'export', { status: 'exporting', progress: 0, reason: '' }));
  }

  /** Import replaces the dataset; sources from the body, else those configured on the database. */
  async import(uid: number, body: ImportRequest | undefined): Promise<{ action_uid: string }> {
    const cur = await this.rec(uid);
    const sources = body?.dataset_import_sources ?? cur.value.dataset_import_sources ?? [];
    if (!sources.length) throw new RsError('missing_field', 'dataset_import_sources: at least one source file is required');
    for (const s of sources) requireMountPoint(s, 'import');
    return this.start(uid, ['active'], { kind: 'import', sources },
      (r) => ({ ...withStatus(r, 'import', { status: 'initializing', progress: 0, reason: '' }), status: 'import-pending' }));
  }

  /** `*_reset_status`: back to idle, progress 0 and no failure reason, unless that operation is running (409). */
  async resetStatus(uid: number, kind: StatusKind): Promise<Record<string, never>> {
    for (let i = 0; i < 20; i++) {
      const cur = await this.rec(uid);
      const open = await this.d.actions.openFor(`bdb:${uid}`);
      if (opRunning(cur.value, kind) || open?.name === DATA_ACTION_NAMES[kind]) {
        throw new BdbRuleError('busy', `A ${kind} of database ${uid} is in progress`);
      }
      // Progress too: an idle status beside the last run's progress (idle at 5 %) reads as a run stuck at 5 % (QA).
      const next = withStatus(cur.value, kind, { status: IDLE_STATUS[kind], progress: 0, reason: '' });
      const res = await this.d.kv.txn([{ key: this.d.bdbs.key(uid), modRevision: cur.modRevision }], [this.d.bdbs.putOp(next)]);
      if (res.succeeded) return {};
    }
    throw new BdbRuleError('busy', 'The database was changed concurrently; retry');
  }

  async recoveryPlan(uid: number): Promise<RecoveryPlanView> {
    await this.rec(uid);
    return this.d.recoveryPlan(uid);
  }

  /**
   * Recover a database whose shards are all down: status 'recovery', or no shard process
   * running. Refused (409) while anything else runs on it, when it is not recoverable, or when
   * files are missing (unless ignore_errors or recover_without_data).
   */
  async recover(uid: number, body: RecoverRequest | undefined): Promise<{ action_uid: string }> {
    const cur = (await this.rec(uid)).value;
    await this.d.actions.ensureIdle(`bdb:${uid}`);
    const down = ['active', 'active-change-pending', 'import-pending'].includes(cur.status ?? '') && !(await this.d.anyShardRunning(uid));
    if (cur.status !== 'recovery' && !down) {
      throw RsError.custom('not_recoverable', 409, `Database ${uid} is '${cur.status}' with running shards: it is not in a recoverable state`);
    }
    const plan = await this.d.recoveryPlan(uid);
    if (plan.status !== 'ready' && !body?.ignore_errors && !body?.recover_without_data) {
      throw RsError.custom('not_recoverable', 409, `Database ${uid} cannot be recovered: persistence files are missing (see GET /v1/bdbs/${uid}/actions/recover)`);
    }
    for (const f of body?.data_files ?? []) {
      const known = plan.data_files.some((p) => p.filename === f.filename && (f.node_uid === undefined || p.node_uid === f.node_uid)
        && (f.shard_slots === undefined || p.shard_slots === f.shard_slots));
      if (!known) throw new RsError('invalid_param', `data_files: '${f.filename}' is not in the recovery plan of database ${uid}`);
    }
    const recover = {
      ...(body?.ignore_errors !== undefined ? { ignore_errors: body.ignore_errors } : {}),
      ...(body?.recover_without_data !== undefined ? { recover_without_data: body.recover_without_data } : {}),
      ...(body?.data_files ? { data_files: body.data_files } : {}),
    };
    return this.start(uid, [cur.status ?? 'active'], { kind: 'recover', recover }, (r) => r);
  }

  /** Record op + action + the bdb's fields in one transaction (compare-and-set on both records). */
  private async start(uid: number, statuses: string[], fields: Omit<DataOp, 'action_uid' | 'requested_at'> & { kind: DataOpKind },
    patch: (r: BdbRecord) => BdbRecord): Promise<{ action_uid: string }> {
    for (let i = 0; i < 20; i++) {
      const cur = await this.rec(uid);
      if (!statuses.includes(cur.value.status ?? '')) throw new BdbRuleError('busy', `Database ${uid} is '${cur.value.status}'`);
      await this.d.actions.ensureIdle(`bdb:${uid}`);
      const ops = await this.d.ops.get(uid);
      if (ops?.value.op) throw new BdbRuleError('busy', `Database ${uid} is busy with a ${ops.value.op.kind}`);
      const { action, op: actionOp } = this.d.actions.create(DATA_ACTION_NAMES[fields.kind], `bdb:${uid}`);
      const op: DataOp = { ...fields, action_uid: action.action_uid, requested_at: this.d.clock.now().toISOString() };
      const res = await this.d.kv.txn(
        [{ key: this.d.bdbs.key(uid), modRevision: cur.modRevision }, { key: this.d.ops.key(uid), modRevision: ops?.modRevision ?? 0 }],
        [this.d.bdbs.putOp(patch(cur.value)), this.d.ops.putOp({ ...(ops?.value ?? { uid }), op }), actionOp],
      );
      if (res.succeeded) {
        await this.d.actions.prune();
        return { action_uid: action.action_uid };
      }
    }
    throw new BdbRuleError('busy', 'The database was changed concurrently; retry');
  }
}
