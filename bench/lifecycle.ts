/**
 * Database lifecycle speed, as ratios against baselines measured in the same run:
 * - create → active (p50) ÷ a bare redis-server's start-to-PONG (p50); with a replica too.
 * - after kill -9 of a replicated master: time until the endpoint accepts writes again, median
 *   of several runs, shown against the 1 s target (absolute times are machine noise; the ratio
 *   to the baseline and to the target are the results).
 *
 *   npx tsx bench/lifecycle.ts [--rounds 5]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { startNode } from '../src/node-runtime.js';
import { createLogger } from '../src/util/logger.js';
import { request } from '../test/helpers/https-client.js';
import { freePort } from '../test/helpers/ports.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);
const ADMIN = { user: 'bench@openrs.local', pass: 'bench-password-1' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pingUntilUp(port: number, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableReadyCheck: false });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      // not yet
    } finally {
      c.disconnect();
    }
    if (Date.now() > end) throw new Error(`port ${port} never answered`);
    await sleep(2);
  }
}

/** Baseline: spawn redis-server and wait for PONG. */
async function bareStart(): Promise<number> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-bench-bare-'));
  const t0 = performance.now();
  const p = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await pingUntilUp(port);
  const ms = performance.now() - t0;
  p.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-bench-'));
  const config = loadConfig({
    OPENRS_DATA_DIR: dataDir, OPENRS_API_ADDR: '127.0.0.1', OPENRS_API_PORT: '0', OPENRS_LOG_LEVEL: 'silent',
    OPENRS_ADMIN_USER: ADMIN.user, OPENRS_ADMIN_PASSWORD: ADMIN.pass,
  }, []);
  const node = await startNode(config, createLogger('silent'), { print: () => undefined });
  // One kept-alive HTTPS connection, as API clients (Terraform, redisctl, SDKs) use: the figure is the
  // database's way to active, not a TLS handshake per poll.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const api = (method: string, p: string, body?: unknown) => request(node.port, method, p, { auth: ADMIN, body, tls: { agent } });
  const waitActive = async (uid: number) => {
    for (;;) {
      const r = await api('GET', `/v1/bdbs/${uid}?fields=status`);
      if (r.json?.status === 'active') return;
      await sleep(2);
    }
  };
  try {
    const bare: number[] = [];
    const plain: number[] = [];
    const replicated: number[] = [];
    const failover: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await bareStart());
      for (const [list, replication] of [[plain, false], [replicated, true]] as const) {
        const t0 = performance.now();
        const r = await api('POST', '/v1/bdbs', { name: `bench-${i}-${replication ? 'r' : 'p'}`, memory_size: 64 * 1024 * 1024, replication });
        await waitActive(r.json.uid);
        list.push(performance.now() - t0);
        if (replication) failover.push(await measureFailover(r.json.uid));
        await api('DELETE', `/v1/bdbs/${r.json.uid}`);
        // One thing at a time: the next measurement starts once this database and its processes are gone.
        while ((await api('GET', `/v1/bdbs/${r.json.uid}?fields=uid`)).status !== 404) await sleep(2);
      }
    }
    const b = median(bare);
    console.log(`baseline: bare redis-server start→PONG p50 ${b.toFixed(1)} ms (${ROUNDS} runs)`);
    console.log(`create→active p50 ÷ baseline: ${(median(plain) / b).toFixed(2)}× (target ≤ 3×)`);
    console.log(`create→active with replica p50 ÷ baseline: ${(median(replicated) / b).toFixed(2)}× (target ≤ 7×)`);
    const f = median(failover);
    console.log(`kill -9 master → writes accepted at the endpoint, median: ${f.toFixed(0)} ms = ${(f / 1000).toFixed(2)}× the 1 s target`);
  } finally {
    agent.destroy();
    await node.close({ stopDatabases: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  async function measureFailover(uid: number): Promise<number> {
    const bdb = (await api('GET', `/v1/bdbs/${uid}`)).json;
    const port = bdb.endpoints[0].port;
    const shards = (await node.composed.kv.list<any>('/shards/')).map((e) => e.value).filter((s) => s.bdb_uid === uid);
    const master = shards.find((s) => s.role === 'master');
    // Wait for the replica to be in sync first (active already implies it).
    const pid = Number(fs.readFileSync(path.join(master.dir, 'redis.pid'), 'utf8'));
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    for (;;) {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableReadyCheck: false });
      c.on('error', () => undefined);
      try {
        await c.connect();
        if ((await c.set('failover-probe', '1')) === 'OK') {
          const ms = performance.now() - t0;
          // Make sure the write went to the promoted replica, not to a master that was not dead.
          const now = (await node.composed.kv.list<any>('/shards/')).map((e) => e.value).find((s) => s.uid === master.uid);
          if (now?.role !== 'slave') throw new Error('write accepted but no failover happened: the measurement is wrong');
          return ms;
        }
      } catch {
        // not yet
      } finally {
        c.disconnect();
      }
      await sleep(5);
    }
  }
}

await main();
