/** src/schemas/action.ts against objects/action.md, objects/state-machine.md and actions_list.json. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  Action, ACTION_ERROR_CODES, ACTION_STATUSES, ACTION_TRANSITIONS, ActionsList, ActionV2, canTransition, StateMachine,
  STATE_MACHINE_STATUSES, STATE_MACHINE_TRANSITIONS,
} from '../../src/schemas/action.js';

const OBJECTS = new URL('../../../shared/spec/references/rest-api/objects/', import.meta.url);
const ACTION_MD = fileURLToPath(new URL('action.md', OBJECTS));
const CAPTURE = fileURLToPath(new URL('../../../shared/fixtures/redis-enterprise-rs/actions_list.json', import.meta.url));
const HAVE_SPEC = existsSync(ACTION_MD);

describe.skipIf(!HAVE_SPEC)('actions against the spec', () => {
  const md = HAVE_SPEC ? readFileSync(ACTION_MD, 'utf8') : '';

  it('the lifecycle diagram of action.md', () => {
    const edges = [...md.matchAll(/^\s+(\w+) --> (\w+)$/gm)].map((m) => `${m[1]}>${m[2]}`).sort();
    const ours = Object.entries(ACTION_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`)).sort();
    expect(ours).toEqual(edges);
  });

  it('the status values and error codes of action.md', () => {
    const section = md.split('| status')[1]!.split('When a task fails')[0]!;
    const statuses = [...section.matchAll(/^\|\s*(?:status)?\s*\|\s*(\w+)\s*\|/gm)].map((m) => m[1]);
    expect(['queued', ...statuses].sort()).toEqual([...ACTION_STATUSES].sort());
    const codes = [...md.split('Possible `error_code` values')[1]!.matchAll(/^\|\s*(\w+)\s*\|/gm)].map((m) => m[1]);
    expect(codes).toEqual([...ACTION_ERROR_CODES]);
  });

  it('the fields and statuses of state-machine.md', () => {
    const sm = readFileSync(fileURLToPath(new URL('state-machine.md', OBJECTS)), 'utf8');
    const rows = [...sm.matchAll(/^\|\s*(\w*)\s*\|\s*(\w+)\s*\|/gm)].filter((m) => m[1] !== 'Name');
    const fields = rows.map((m) => m[1]).filter(Boolean);
    expect(fields.filter((f) => !(f! in StateMachine.properties))).toEqual([]);
    const statusRows = rows.slice(rows.findIndex((m) => m[1] === 'status')).filter((m, i) => i === 0 || !m[1]);
    expect(statusRows.map((m) => m[2]).sort()).toEqual([...STATE_MACHINE_STATUSES].sort());
  });
});

describe.skipIf(!existsSync(CAPTURE))('actions against actions_list.json', () => {
  it('the capture validates as the GET /v1/actions body', () => {
    const body = JSON.parse(readFileSync(CAPTURE, 'utf8')) as unknown;
    const errors = [...Value.Errors(ActionsList, body)].map((e) => `${e.path}: ${e.message}`);
    if (errors.length) console.error(errors.join('\n'));
    expect(errors).toEqual([]);
  });
});

describe('action shapes and transitions', () => {
  it('tasks take a numeric or string progress; failures carry a documented error_code', () => {
    const task = { action_uid: 'a', name: 'retry_bdb', status: 'running', progress: 42.5 };
    expect(Value.Check(Action, task)).toBe(true);
    expect(Value.Check(Action, { ...task, progress: '100' })).toBe(true);
    expect(Value.Check(Action, { ...task, progress: 101 })).toBe(false);
    expect(Value.Check(Action, { ...task, status: 'failed', error_code: 'insufficient_resources', error_message: 'x' })).toBe(true);
    expect(Value.Check(Action, { ...task, status: 'failed', error_code: 'nope' })).toBe(false);
  });

  it('state machines and v2 actions', () => {
    const sm = { action_uid: 'a', object_name: 'bdb:1', status: 'active', name: 'SMUpdateBDB', state: 'proxy_policy', progress: 50, pending_ops: {} };
    expect(Value.Check(StateMachine, sm)).toBe(true);
    expect(Value.Check(StateMachine, { ...sm, status: 'running' })).toBe(false);
    expect(Value.Check(ActionV2, {
      action_type: 'task', action_uid: 'x', additional_info: { object_type: 'node', object_uid: '1' },
      creation_time: 1742595918, name: 'retry_bdb', progress: 100.0, status: 'completed',
    })).toBe(true);
  });

  it('transition tables', () => {
    expect(canTransition(ACTION_TRANSITIONS, 'queued', 'starting')).toBe(true);
    expect(canTransition(ACTION_TRANSITIONS, 'completed', 'running')).toBe(false);
    expect(canTransition(STATE_MACHINE_TRANSITIONS, 'pending', 'active')).toBe(true);
    expect(canTransition(STATE_MACHINE_TRANSITIONS, 'failed', 'active')).toBe(false);
  });
});
