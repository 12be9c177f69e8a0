/**
 * Data operations on a database's dataset: export, import, scheduled backup and recovery.
 * The service records the request at `/bdb_data_ops/<bdb uid>` together with an action and the
 * bdb's `*_status` fields, in one transaction; controller/backup-controller.ts watches that
 * prefix and runs it. One operation per database at a time (a second one is 409 busy).
 */
import type { BackupLocation, DatasetImportSource } from '../schemas/bdb.js';
import type { BdbRecord } from './bdb-view.js';

export const DATA_OPS_PREFIX = '/bdb_data_ops/';

export type DataOpKind = 'export' | 'import' | 'backup' | 'recover';

/** State-machine names of the actions (openrs's names; objects/state-machine.md lists none for these). */
export const DATA_ACTION_NAMES: Readonly<Record<DataOpKind, string>> = {
  export: 'SMExportBDB',
  import: 'SMImportBDB',
  backup: 'SMBackupBDB',
  recover: 'SMRecoverBDB',
};
const NAMES = new Set(Object.values(DATA_ACTION_NAMES));

/** Actions the backup controller runs; the bdb reconciler leaves them alone. */
export function isDataAction(name: string): boolean {
  return NAMES.has(name);
}

const OTHER = new Set([DATA_ACTION_NAMES.export, DATA_ACTION_NAMES.import, DATA_ACTION_NAMES.backup]);
/**
 * Export, import and backup: requests/actions "GET /v1/actions ... does not return any
 * information about other actions, such as import, export, and backup" (v2 does, action_type
 * "other"). Recovery stays a state machine.
 */
export function isOtherAction(name: string): boolean {
  return OTHER.has(name);
}

export interface RecoverOptions {
  ignore_errors?: boolean;
  recover_without_data?: boolean;
  data_files?: { filename: string; node_uid?: string; shard_slots?: string }[];
}

export interface DataOp {
  kind: DataOpKind;
  action_uid: string;
  /** ISO time of the request (with milliseconds). */
  requested_at: string;
  location?: BackupLocation;
  sources?: DatasetImportSource[];
  recover?: RecoverOptions;
}

/** Kept per database at `/bdb_data_ops/<uid>`; never shown by the API. */
export interface DataOpsRecord {
  /** The bdb uid. */
  uid: number;
  /** The operation to run (or running); removed when it ends. */
  op?: DataOp;
  /** The backup schedule this record was armed for (interval, offset, location) and when. */
  backup_armed?: { key: string; at: string };
  /** Start of the last scheduled backup attempt (ISO, milliseconds). */
  last_backup_attempt?: string;
  last_backup_failed?: boolean;
}

/** The bdb fields each kind reports through (objects/bdb/_index.md). */
export const STATUS_FIELDS = {
  export: { status: 'export_status', progress: 'export_progress', reason: 'export_failure_reason', last: 'last_export_time' },
  backup: { status: 'backup_status', progress: 'backup_progress', reason: 'backup_failure_reason', last: 'last_backup_time' },
  import: { status: 'import_status', progress: 'import_progress', reason: 'import_failure_reason', last: undefined },
} as const;

/** The values `*_reset_status` goes back to: import has 'idle'; export and backup report '' when idle (capture). */
export const IDLE_STATUS = { export: '', backup: '', import: 'idle' } as const;

export type StatusKind = keyof typeof STATUS_FIELDS;

/** The running statuses a reset may not clear. */
export function opRunning(rec: BdbRecord, kind: StatusKind): boolean {
  const v = (rec as Record<string, unknown>)[STATUS_FIELDS[kind].status];
  return v === 'exporting' || v === 'importing' || v === 'initializing';
}

/** The bdb with one kind's status fields replaced. */
export function withStatus(rec: BdbRecord, kind: StatusKind, s: { status?: string; progress?: number; reason?: string; last?: string }): BdbRecord {
  const f = STATUS_FIELDS[kind];
  const out: Record<string, unknown> = { ...rec };
  if (s.status !== undefined) out[f.status] = s.status;
  if (s.progress !== undefined) out[f.progress] = Math.max(0, Math.min(100, Math.round(s.progress)));
  if (s.reason !== undefined) out[f.reason] = s.reason;
  if (s.last !== undefined && f.last) out[f.last] = s.last;
  return out as BdbRecord;
}

/**
 * When the next scheduled backup is due: backups run at every `interval` seconds from the epoch
 * plus `offset` (objects/bdb `backup_interval_offset`: "offset from round backup interval").
 * Due when such a point lies after `since` (the last attempt, or when the schedule was armed).
 */
export function backupDue(now: Date, since: Date, intervalSec: number, offsetSec = 0): boolean {
  if (!(intervalSec > 0)) return false;
  const t = now.getTime() / 1000;
  const off = ((offsetSec % intervalSec) + intervalSec) % intervalSec;
  const lastPoint = Math.floor((t - off) / intervalSec) * intervalSec + off;
  return lastPoint * 1000 > since.getTime();
}

/** A failed backup is retried (schedule-backups.md "retries the backup until it succeeds") this often. */
export function backupRetrySec(intervalSec: number): number {
  return Math.max(1, Math.min(intervalSec, 300));
}
