/**
 * The proxy's endpoint table on disk, so a restarted proxy (after a crash or an upgrade) serves
 * the same endpoints before the manager has said anything. Written whole on every change:
 * temp file, fsync, rename, so a crash mid-write leaves the old table, never half a new one.
 * The file holds TLS private keys, hence mode 0600.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { resolveSpec, type ResolvedSpec } from './endpoint.js';
import { EndpointTls, Target, Traffic } from './protocol.js';

const StateSchema = Type.Object({
  version: Type.Literal(1),
  endpoints: Type.Array(
    Type.Object({
      uid: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
      addr: Type.String({ minLength: 1 }),
      target: Target,
      max_connections: Type.Integer({ minimum: 0 }),
      tls: Type.Union([EndpointTls, Type.Null()]),
      traffic: Traffic,
      // Absent in files written before the setting existed: RESP3 allowed.
      resp3: Type.Optional(Type.Boolean()),
      // Absent in files written before multiplexing: RS's defaults.
      conns: Type.Optional(Type.Integer({ minimum: 1 })),
      max_client_pipeline: Type.Optional(Type.Integer({ minimum: 1 })),
      max_pipelined: Type.Optional(Type.Integer({ minimum: 1 })),
      sched_policy: Type.Optional(Type.Union([Type.Literal('cmp'), Type.Literal('mru'), Type.Literal('spread'), Type.Literal('mnp')])),
      client_keepidle: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
});

export function saveState(file: string, endpoints: ResolvedSpec[]): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify({ version: 1, endpoints }, null, 1) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * The saved endpoints; [] when there is no file yet. A file that cannot be parsed is moved
 * aside (kept for inspection) and the proxy starts empty: the manager re-sends what it wants.
 */
export function loadState(file: string): { endpoints: ResolvedSpec[]; problem?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { endpoints: [] };
    throw err;
  }
  try {
    const data: unknown = JSON.parse(text);
    if (Value.Check(StateSchema, data)) return { endpoints: data.endpoints.map((e) => resolveSpec(e)) };
    const first = Value.Errors(StateSchema, data).First();
    throw new Error(`${first?.path ?? ''} ${first?.message ?? 'invalid'}`);
  } catch (err) {
    const aside = `${file}.corrupt-${Date.now()}`;
    fs.renameSync(file, aside);
    return { endpoints: [], problem: `state file unreadable (${(err as Error).message}), moved to ${aside}` };
  }
}
