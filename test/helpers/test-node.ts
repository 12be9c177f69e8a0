/**
 * Start a real openrs node in-process: HTTPS on an OS-assigned loopback port, a temporary
 * data dir with a real SQLite store. Every test file closes what it starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startNode, type RunningNode } from '../../src/node-runtime.js';
import { createLogger } from '../../src/util/logger.js';
import { request, type ReqOpts, type Resp } from './https-client.js';

export const ADMIN = { user: 'admin@test.local', pass: 'correct-horse-battery' };

export interface TestNode {
  node: RunningNode;
  port: number;
  dataDir: string;
  /** Request as the admin unless `auth` is given (null = no credentials). */
  req(method: string, path: string, opts?: ReqOpts): Promise<Resp>;
  stop(): Promise<void>;
  /** Stop everything (shards and proxy too), and remove the data dir. */
  close(): Promise<void>;
}

export async function startTestNode(opts: { bootstrap?: boolean; dataDir?: string; env?: Record<string, string> } = {}): Promise<TestNode> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-test-'));
  const config = loadConfig(
    {
      OPENRS_DATA_DIR: dataDir,
      OPENRS_API_ADDR: '127.0.0.1',
      OPENRS_API_PORT: '0',
      OPENRS_LOG_LEVEL: process.env.OPENRS_TEST_LOG ?? 'silent',
      OPENRS_BOOTSTRAP: String(opts.bootstrap ?? true),
      OPENRS_ADMIN_USER: ADMIN.user,
      OPENRS_ADMIN_PASSWORD: ADMIN.pass,
      OPENRS_CLUSTER_NAME: 'cluster.test.local',
      ...opts.env,
    },
    [],
  );
  const node = await startNode(config, createLogger(config.log_level), { print: () => undefined });
  const t: TestNode = {
    node,
    port: node.port,
    dataDir,
    req: (method, p, o = {}) => request(node.port, method, p, { ...o, auth: o.auth === undefined ? ADMIN : o.auth }),
    stop: () => node.close(),
    async close() {
      await node.close({ stopDatabases: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
