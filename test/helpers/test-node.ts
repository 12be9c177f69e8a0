/**
 * Start a real openrs node in-process: HTTPS on an OS-assigned loopback port, a temporary
 * data dir with a real SQLite store. Every test file closes what it starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { WatchdogOptions } from '../../src/controller/watchdog.js';
import { startNode, type RunningNode } from '../../src/node-runtime.js';
import { createLogger } from '../../src/util/logger.js';
import { request, type ReqOpts, type Resp } from './https-client.js';
import { reap } from './reap.js';

export const ADMIN = { user: 'admin@test.local', pass: 'correct-horse-battery' };

export interface TestNode {
  node: RunningNode;
  port: number;
  /** This node's database endpoint port window (each test node gets its own, see below). */
  dbPorts: { from: number; to: number };
  dataDir: string;
  /** Request as the admin unless `auth` is given (null = no credentials). */
  req(method: string, path: string, opts?: ReqOpts): Promise<Resp>;
  stop(): Promise<void>;
  /** Stop everything (shards and proxy too), and remove the data dir. */
  close(): Promise<void>;
}

export async function startTestNode(opts: { bootstrap?: boolean; dataDir?: string; env?: Record<string, string>; watchdog?: WatchdogOptions } = {}): Promise<TestNode> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-test-'));
  // Test files run in parallel, each with its own nodes on one machine: give every node its own
  // port windows so that two nodes never pick the same free port at the same moment.
  const slot = Math.floor(Math.random() * 45);
  const dbFrom = 10000 + slot * 200;
  const shardFrom = 20000 + slot * 200 + Math.floor(Math.random() * 100);
  const config = loadConfig(
    {
      OPENRS_DB_PORT_RANGE: `${dbFrom}-${dbFrom + 199}`,
      OPENRS_SHARD_PORT_RANGE: `${shardFrom}-${shardFrom + 99}`,
      OPENRS_DATA_DIR: dataDir,
      OPENRS_API_ADDR: '127.0.0.1',
      OPENRS_API_PORT: '0',
      OPENRS_METRICS_PORT: '0',
      OPENRS_LOG_LEVEL: process.env.OPENRS_TEST_LOG ?? 'silent',
      OPENRS_BOOTSTRAP: String(opts.bootstrap ?? true),
      OPENRS_ADMIN_USER: ADMIN.user,
      OPENRS_ADMIN_PASSWORD: ADMIN.pass,
      OPENRS_CLUSTER_NAME: 'cluster.test.local',
      ...opts.env,
    },
    [],
  );
  const node = await startNode(config, createLogger(config.log_level), { print: () => undefined, watchdog: opts.watchdog });
  const t: TestNode = {
    node,
    port: node.port,
    dbPorts: config.db_ports,
    dataDir,
    req: (method, p, o = {}) => request(node.port, method, p, { ...o, auth: o.auth === undefined ? ADMIN : o.auth }),
    stop: () => node.close(),
    async close() {
      await node.close({ stopDatabases: true });
      // Last resort: nothing this node started may outlive the test (e.g. a shard of a test that failed midway).
      reap(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * Nodes of a test file, closed after each test. A node started on the data dir of a stopped one (a restart)
 * replaces it in the list, since close() removes the dir. Call at the top level of the file.
 */
export function trackedNodes(): (dataDir?: string) => Promise<TestNode> {
  const nodes: TestNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => undefined);
  });
  return async (dataDir?: string) => {
    const t = await startTestNode(dataDir ? { dataDir } : {});
    const i = nodes.findIndex((n) => n.dataDir === t.dataDir);
    if (i >= 0) nodes.splice(i, 1);
    nodes.push(t);
    return t;
  };
}
