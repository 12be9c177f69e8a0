/**
 * Actions: the asynchronous work behind create/update/delete (objects/state-machine.md).
 * A service writes the desired object and a `pending` action in one transaction; the reconciler
 * moves the action through the state table below and reports progress. Kept at `/actions/<uid>`.
 */
import { randomUUID } from 'node:crypto';
import type { Compare, KvBackend, Op } from '../store/kv.js';
import { BdbRuleError } from './bdb-rules.js';
import type { Clock } from '../util/clock.js';

export type SmStatus = 'pending' | 'active' | 'completed' | 'failed';

/** Allowed state-machine status transitions; anything else is a bug in the caller. */
export const SM_TRANSITIONS: Record<SmStatus, readonly SmStatus[]> = {
  pending: ['active', 'completed', 'failed'],
  active: ['active', 'completed', 'failed'],
  completed: [],
  failed: [],
};

export interface ActionRecord {
  action_uid: string;
  /** State machine name, e.g. SMCreateBDB, SMUpdateBDB, SMDeleteBDB. */
  name: string;
  /** e.g. "bdb:1". */
  object_name: string;
  status: SmStatus;
  progress: number;
  /** Seconds since the epoch of the last change. */
  heartbeat: number;
  creation_time: number;
  node_uid: string;
  state?: string;
  error?: string;
  error_code?: string;
}

const PREFIX = '/actions/';
/** Finished actions kept for GET /v1/actions; older ones are pruned when new ones start. */
const KEEP_FINISHED = 500;

export class ActionService {
  constructor(private readonly kv: KvBackend, private readonly clock: Clock) {}

  private now(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** A new pending action and the op that stores it (to put in the caller's transaction). */
  create(name: string, objectName: string): { action: ActionRecord; op: Op } {
    const now = this.now();
    const action: ActionRecord = {
      action_uid: randomUUID(), name, object_name: objectName, status: 'pending', progress: 0,
      heartbeat: now, creation_time: now, node_uid: '1',
    };
    return { action, op: { type: 'put', key: PREFIX + action.action_uid, value: action } };
  }

  /** Store an action created with `create` outside a larger transaction. */
  async record(op: Op): Promise<void> {
    await this.kv.txn([], [op]);
  }

  async get(uid: string): Promise<ActionRecord | undefined> {
    return (await this.kv.get<ActionRecord>(PREFIX + uid))?.value;
  }

  async list(): Promise<ActionRecord[]> {
    return (await this.kv.list<ActionRecord>(PREFIX)).map((e) => e.value).sort((a, b) => a.creation_time - b.creation_time);
  }

  /** 409 `busy` when `objectName` (e.g. "bdb:1") has an action pending or running, naming that action. */
  async ensureIdle(objectName: string): Promise<void> {
    const open = await this.openFor(objectName);
    if (open) {
      throw new BdbRuleError('busy', `${objectName.replace(/^bdb:/, 'Database ')} is busy: action ${open.name} (${open.action_uid}) is ${open.status}; retry once it ends`);
    }
  }

  /** The unfinished action on an object, if any (a second change must wait: 409). */
  async openFor(objectName: string): Promise<ActionRecord | undefined> {
    return (await this.list()).find((a) => a.object_name === objectName && (a.status === 'pending' || a.status === 'active'));
  }

  /** Move an action to `status` with progress/state/error; retried on concurrent writes. */
  async transition(uid: string, status: SmStatus, patch: Partial<Pick<ActionRecord, 'progress' | 'state' | 'error' | 'error_code'>> = {}): Promise<ActionRecord> {
    for (;;) {
      const t = await this.transitionOp(uid, status, patch);
      if (!t) return (await this.get(uid))!;
      if ((await this.kv.txn([t.compare], [t.op])).succeeded) return (t.op as { value: ActionRecord }).value;
    }
  }

  /**
   * The guarded write that moves an action to `status`, for a caller's own transaction;
   * undefined when it is already there.
   */
  async transitionOp(uid: string, status: SmStatus, patch: Partial<Pick<ActionRecord, 'progress' | 'state' | 'error' | 'error_code'>> = {}): Promise<{ compare: Compare; op: Op } | undefined> {
    const e = await this.kv.get<ActionRecord>(PREFIX + uid);
    if (!e) throw new Error(`action ${uid} does not exist`);
    const cur = e.value;
    if (cur.status === status && status !== 'active') return undefined;
    if (!SM_TRANSITIONS[cur.status].includes(status)) throw new Error(`action ${uid}: ${cur.status} → ${status} is not a valid transition`);
    const next: ActionRecord = {
      ...cur, ...patch, status, heartbeat: this.now(),
      progress: status === 'completed' ? 100 : Math.max(cur.progress, patch.progress ?? cur.progress),
    };
    // `state` is "the current state within the state machine" (objects/state-machine.md): a finished
    // one has none, as the capture's completed SMCreateBDB shows; a failure is told by error/error_code.
    if (status === 'completed' || status === 'failed') delete next.state;
    return { compare: { key: PREFIX + uid, modRevision: e.modRevision }, op: { type: 'put', key: PREFIX + uid, value: next } };
  }

  /** Drop the oldest finished actions beyond the retention limit. */
  async prune(): Promise<void> {
    const finished = (await this.list()).filter((a) => a.status === 'completed' || a.status === 'failed');
    const excess = finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED));
    if (excess.length) await this.kv.txn([], excess.map((a) => ({ type: 'delete' as const, key: PREFIX + a.action_uid })));
  }
}
