/**
 * Actions (objects/action.md) and state machines (objects/state-machine.md), and the
 * GET /v1/actions and /v2/actions bodies (requests/actions). Shapes follow the capture
 * fixtures/redis-enterprise-rs/actions_list.json: `{"actions": [...], "state-machines": [...]}`,
 * with a task's `progress` and `creation_time` as strings ("100", "1760400087") and a state
 * machine's `heartbeat` as an integer.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

/** Task (action) statuses, objects/action.md. */
export const ACTION_STATUSES = ['queued', 'starting', 'running', 'cancelling', 'cancelled', 'aborted', 'completed', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** The lifecycle diagram of objects/action.md; completed, cancelled, aborted and failed are terminal. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  queued: ['starting', 'cancelled'],
  starting: ['running', 'aborted'],
  running: ['completed', 'cancelling', 'failed', 'aborted'],
  cancelling: ['cancelled'],
  cancelled: [],
  aborted: [],
  completed: [],
  failed: [],
};

/** State machine statuses, objects/state-machine.md. */
export const STATE_MACHINE_STATUSES = ['pending', 'active', 'completed', 'failed'] as const;
export type StateMachineStatus = (typeof STATE_MACHINE_STATUSES)[number];

/**
 * The page lists the statuses without transitions; openrs's reading: a state machine starts
 * (or fails before starting) and then completes or fails.
 */
export const STATE_MACHINE_TRANSITIONS: Readonly<Record<StateMachineStatus, readonly StateMachineStatus[]>> = {
  pending: ['active', 'failed'],
  active: ['completed', 'failed'],
  completed: [],
  failed: [],
};

export function canTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return table[from].includes(to);
}

/** The documented action `error_code` values (objects/action.md). */
export const ACTION_ERROR_CODES = ['internal_error', 'insufficient_resources'] as const;

/** Progress is a float since 7.4.2, yet RS still reports task progress as a string ("100"). */
const ProgressValue = Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$' })], {
  description: 'Percent completed (0-100)',
});

const PendingOp = Type.Object({
  heartbeat: Type.Optional(Type.Integer({ description: 'Seconds since the epoch of the last change in progress' })),
  snapshot: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Properties stored by the operation' })),
  last_sample_time: Type.Optional(Type.Integer({ description: 'Seconds since the epoch of the last snapshot' })),
  op_name: Type.Optional(Type.String({ description: 'Name of the running operation from the state machine' })),
  status_code: Type.Optional(Type.String()),
  status_description: Type.Optional(Type.String()),
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
}, { additionalProperties: false });

/** `pending_ops`: shard_id → operation. */
export const PendingOps = Type.Record(Type.String(), PendingOp, { description: 'Operations waiting to run, by shard_id' });

/** A task, as listed under "actions" of GET /v1/actions and returned by GET /v1/actions/{uid}. */
export const Action = Type.Object({
  action_uid: Type.String({ description: "The action's globally unique identifier" }),
  name: Type.String({ description: 'Name of the running or failed action' }),
  status: StrEnum(ACTION_STATUSES, { description: "The action's status" }),
  progress: ProgressValue,
  task_id: Type.Optional(Type.String({ description: 'Task ID assigned by the cluster (equal to action_uid)' })),
  creation_time: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Creation time, Unix seconds as a string (capture)' })),
  node_uid: Type.Optional(Type.String({ description: 'UID of the node where the operation runs' })),
  object_name: Type.Optional(Type.String({ description: 'The object that the action runs on, e.g. "bdb:1"' })),
  state: Type.Optional(Type.String({ description: 'The current state of the action' })),
  pending_ops: Type.Optional(PendingOps),
  error_code: Type.Optional(StrEnum(ACTION_ERROR_CODES, { description: 'Why the action failed' })),
  error_message: Type.Optional(Type.String({ description: 'Description of the failure' })),
}, { additionalProperties: false, description: 'A cluster task (objects/action.md)' });
export type Action = Static<typeof Action>;

/** A state machine (objects/state-machine.md), as listed under "state-machines". */
export const StateMachine = Type.Object({
  action_uid: Type.String({ description: 'A globally unique identifier of the action' }),
  object_name: Type.String({ description: 'Name of the object being manipulated by the state machine, e.g. "bdb:1"' }),
  status: StrEnum(STATE_MACHINE_STATUSES, { description: 'State machine status' }),
  name: Type.String({ description: 'Name of the running (or failed) state machine, e.g. SMCreateBDB' }),
  state: Type.Optional(Type.String({ description: 'Current state within the state machine, when known' })),
  error: Type.Optional(Type.String({ description: 'A descriptive error string for failed state machine, when known' })),
  heartbeat: Type.Optional(Type.Integer({ description: 'Unix seconds of the last progress (capture)' })),
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Percent of completed steps' })),
  node_uid: Type.Optional(Type.String({ description: 'UID of the node where the operation runs (requests/actions)' })),
  pending_ops: Type.Optional(PendingOps),
}, { additionalProperties: false, description: 'A state machine tracking a database action (objects/state-machine.md)' });
export type StateMachine = Static<typeof StateMachine>;

/** GET /v1/actions body. */
export const ActionsList = Type.Object({
  actions: Type.Array(Action),
  'state-machines': Type.Array(StateMachine),
}, { additionalProperties: false });
export type ActionsList = Static<typeof ActionsList>;

/** GET /v1/actions/{uid} and GET /v1/actions/bdb/{bdb_uid} items: a task or a state machine. */
export const ActionOrStateMachine = Type.Union([Action, StateMachine]);

/** The v2 action object (GET /v2/actions, /v2/actions/{uid}). */
export const ActionV2 = Type.Object({
  action_uid: Type.String(),
  action_type: StrEnum(['task', 'state-machine', 'other'], { description: "The action's type" }),
  creation_time: Type.Integer({ description: 'Unix timestamp in seconds' }),
  name: Type.String(),
  progress: Type.Number({ minimum: 0, maximum: 100 }),
  status: StrEnum(['queued', 'running', 'completed', 'failed'], { description: "The action's status" }),
  additional_info: Type.Optional(Type.Object({
    description: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    object_type: Type.Optional(Type.String()),
    object_uid: Type.Optional(Type.String()),
    pending_ops: Type.Optional(PendingOps),
  }, { additionalProperties: false, description: 'Only present when it holds at least one key' })),
  object_name: Type.Optional(Type.String({ description: 'The object the action runs on, e.g. "bdb:1" (as in v1)' })),
  error: Type.Optional(Type.String({ description: 'Why it failed (as in v1)' })),
  error_code: Type.Optional(StrEnum(ACTION_ERROR_CODES, { description: 'Why the action failed (objects/action.md)' })),
  error_message: Type.Optional(Type.String({ description: 'Description of the failure (objects/action.md)' })),
}, { additionalProperties: false, description: 'A v2 action object' });
export type ActionV2 = Static<typeof ActionV2>;
