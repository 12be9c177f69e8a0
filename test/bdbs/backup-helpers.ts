/** Helpers for the export/import/backup tests: load an RDB into a throwaway redis-server, wait for op statuses. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Redis } from 'ioredis';
import { client } from '../helpers/bdb.js';
import { freePort } from '../helpers/ports.js';
import type { TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

const REDIS_SERVER = process.env.OPENRS_REDIS_SERVER ?? 'redis-server';

/**
 * Start a fresh redis-server (not through openrs) that loads `file` (gzipped or plain RDB) with
 * `--dir`/`--dbfilename`, and connect to it.
 */
export async function loadRdb(file: string): Promise<{ redis: Redis; stop: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-rdbcheck-'));
  const raw = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, 'check.rdb'), raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw);
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'check.rdb', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const redis = client(port);
  const stop = () => {
    redis.disconnect();
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} loading ${file}`);
      if (redis.status !== 'ready') await redis.connect().catch(() => undefined);
      return (await redis.ping()) === 'PONG';
    }, { what: `redis-server loading ${file}` });
  } catch (e) {
    stop();
    throw e;
  }
  return { redis, stop };
}

/** Poll the bdb until `field` equals one of `values`; returns the bdb. */
export async function waitField(t: TestNode, uid: number, field: string, values: string[], timeoutMs = 20_000): Promise<any> {
  return waitFor(async () => {
    const r = await t.req('GET', `/v1/bdbs/${uid}`);
    return values.includes(r.json?.[field]) ? r.json : undefined;
  }, { timeoutMs, what: `bdb ${uid} ${field} in ${values.join('/')}` });
}

export { waitAction } from '../helpers/bdb.js';

export async function connected(port: number, opts: { password?: string } = {}): Promise<Redis> {
  const c = client(port, opts);
  await c.connect();
  return c;
}
