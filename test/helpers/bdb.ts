/** Helpers for database tests: create and wait, connect a client to the endpoint, read shard pids. */
import { Redis } from 'ioredis';
import { shardFiles } from '../../src/redis/conf-file.js';
import { readPidFile } from '../../src/redis/proc.js';
import type { TestNode } from './test-node.js';
import { waitFor } from './wait-for.js';

export async function waitStatus(t: TestNode, uid: number, status = 'active', timeoutMs = 20_000): Promise<any> {
  return waitFor(async () => {
    const r = await t.req('GET', `/v1/bdbs/${uid}`);
    return r.json?.status === status ? r.json : undefined;
  }, { timeoutMs, what: `bdb ${uid} ${status}` });
}

export async function createBdb(t: TestNode, body: Record<string, unknown>): Promise<any> {
  const r = await t.req('POST', '/v1/bdbs', { body: { memory_size: 100 * 1024 * 1024, ...body } });
  if (r.status !== 200) throw new Error(`create failed: ${r.status} ${r.text}`);
  return waitStatus(t, r.json.uid);
}

/** The action (v2 object) once it has finished (completed or failed), whole, so that a failure shows why. */
export async function waitAction(t: TestNode, actionUid: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(async () => {
    const a = (await t.req('GET', `/v2/actions/${actionUid}`)).json;
    return a?.status === 'completed' || a?.status === 'failed' ? a : undefined;
  }, { timeoutMs, what: `action ${actionUid}` });
}

/** Wait for the action to finish and require it completed; the message of a failure is the action. */
export async function actionCompleted(t: TestNode, actionUid: string, timeoutMs?: number): Promise<any> {
  const a = await waitAction(t, actionUid, timeoutMs);
  if (a.status !== 'completed') throw new Error(`action ${actionUid} ${a.status}: ${JSON.stringify(a)}`);
  return a;
}

export function client(port: number, opts: { password?: string; username?: string } = {}): Redis {
  // Errors surface through the rejected commands the tests check; the event copy is noise.
  return new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1, retryStrategy: () => null, ...opts }).on('error', () => undefined);
}

/** POST `body` to `path` and return the answer's JSON; throws unless 200. */
export async function postOk(t: TestNode, path: string, body: unknown): Promise<any> {
  const r = await t.req('POST', path, { body });
  if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
  return r.json;
}

/** Write `n` keys k:<i> = v<i> through the endpoint on `port`, in one pipeline. */
export async function seed(port: number, n: number): Promise<void> {
  const c = client(port);
  await c.connect();
  const p = c.pipeline();
  for (let i = 0; i < n; i++) p.set(`k:${i}`, `v${i}`);
  await p.exec();
  c.disconnect();
}

/** Shard records straight from the CCS (uid, role, port, dir). */
export async function shardsOf(t: TestNode, bdbUid: number): Promise<{ uid: number; role: string; port: number; dir: string }[]> {
  return (await t.node.composed.kv.list<any>('/shards/')).map((e) => e.value).filter((s) => s.bdb_uid === bdbUid);
}

export function pidOf(dir: string): number | undefined {
  return readPidFile(shardFiles(dir).pid);
}

/**
 * A client on a shard's own port as the manager's internal admin user: database users may not run CONFIG
 * (RS_UNSUPPORTED_COMMANDS), so settings are read the way the manager reads them.
 */
export async function shardAdmin(t: TestNode, port: number): Promise<Redis> {
  const creds = (await t.node.composed.kv.get<{ user: string; password: string }>('/internal/shard_admin'))!.value;
  const c = client(port, { username: creds.user, password: creds.password });
  await c.connect();
  return c;
}

/** CONFIG GET `name` on the database's master shard: [name, value], as Redis answers it. */
export async function configOf(t: TestNode, bdbUid: number, name: string): Promise<string[]> {
  const master = (await shardsOf(t, bdbUid)).find((s) => s.role === 'master')!;
  const c = await shardAdmin(t, master.port);
  try {
    return (await c.config('GET', name)) as string[];
  } finally {
    c.disconnect();
  }
}
