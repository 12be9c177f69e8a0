/**
 * The openrs command as users run it: a separate process, configured by flags and OPENRS_* env,
 * reached with curl and openssl, stopped with signals.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from './helpers/https-client.js';
import { freePort } from './helpers/ports.js';
import { waitFor } from './helpers/wait-for.js';
import { processesUnder, reap } from './helpers/reap.js';
import { Redis } from 'ioredis';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'src', 'main.ts');
const NODE_ARGS = ['--import', 'tsx', MAIN];
const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) {
    reap(d);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function cli(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

function start(dataDir: string, port: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [...NODE_ARGS, '--data-dir', dataDir, '--api-addr', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, OPENRS_API_PORT: String(port), OPENRS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { children.delete(child); resolve(code); }));
  return { child, exited, output: () => out };
}

describe('configuration errors', () => {
  it('a bad value → one clear line on stderr and exit code 2', async () => {
    const r = await cli(['--api-port', 'ninety']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^openrs: invalid configuration: --api-port: expected an integer/);
  });

  it('bad env values, unknown flags and bad ranges are refused the same way', async () => {
    for (const [args, env, pattern] of [
      [[], { OPENRS_API_PORT: '70000' }, /api-port/],
      [['--no-such-flag'], {}, /no-such-flag/],
      [['--db-port-range', '20000-10000'], {}, /db-port-range/],
      [[], { OPENRS_LOG_LEVEL: 'loud' }, /log-level/],
      [[], { OPENRS_STORE: 'mysql://x' }, /store/],
      [[], { OPENRS_BOOTSTRAP: 'maybe' }, /OPENRS_BOOTSTRAP/],
    ] as const) {
      const r = await cli([...args], env as Record<string, string>);
      expect(r.code, `${JSON.stringify(args)} ${JSON.stringify(env)}`).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('--help lists every flag with its OPENRS_* twin', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--data-dir', '--api-port', '--db-port-range', '--store', '--log-level']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('OPENRS_DATA_DIR');
  });
});

describe('a node process', () => {
  it('starts, bootstraps, serves curl and openssl, stops on SIGTERM, and restarts with its data', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-proc-'));
    dirs.push(dataDir);
    const port = await freePort();
    const first = start(dataDir, port);
    await waitFor(() => fs.existsSync(path.join(dataDir, 'admin-credentials')) && first.output().includes('created cluster'), { timeoutMs: 20_000, what: 'bootstrap' });
    const pass = /password=(.+)/.exec(fs.readFileSync(path.join(dataDir, 'admin-credentials'), 'utf8'))![1]!;
    expect(first.output()).toContain(pass); // printed once on first start
    await waitFor(async () => (await request(port, 'GET', '/v1/cluster').catch(() => ({ status: 0 }))).status === 401, { timeoutMs: 20_000, what: 'listening' });

    const curl = await run('curl', ['-sk', '-u', `admin@openrs.local:${pass}`, `https://localhost:${port}/v1/cluster`]);
    expect(JSON.parse(curl.stdout).name).toBe('openrs.local');
    const s = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
    expect(s.stdout).toMatch(/subject=.*CN\s*=\s*openrs\.local/);

    expect((await request(port, 'PUT', '/v1/cluster', { auth: { user: 'admin@openrs.local', pass }, body: { email_from: 'x@y.z' } })).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start(dataDir, port);
    await waitFor(async () => (await request(port, 'GET', '/v1/cluster', { auth: { user: 'admin@openrs.local', pass } }).catch(() => ({ status: 0, json: undefined }))).status === 200, { timeoutMs: 20_000, what: 'restart' });
    const c = await request(port, 'GET', '/v1/cluster', { auth: { user: 'admin@openrs.local', pass } });
    expect(c.json.email_from).toBe('x@y.z');
    expect(second.output()).not.toContain(pass); // the password is printed only once
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('a port already in use → a clear line and a non-zero exit', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-proc-'));
    dirs.push(dataDir);
    const net = await import('node:net');
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    const p = start(dataDir, port, { OPENRS_ADMIN_PASSWORD: 'some-password-1' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/openrs: cannot start: port \d+ on 127\.0\.0\.1 is already in use/);
    blocker.close();
  });
});

describe('the data plane outlives the manager', () => {
  it('SIGKILL of openrs keeps databases and open client connections serving; a restart adopts them', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-proc-'));
    dirs.push(dataDir);
    const port = await freePort();
    const auth = { user: 'admin@openrs.local', pass: 'kill-test-password-1' };
    const env = { OPENRS_ADMIN_PASSWORD: auth.pass, OPENRS_DB_PORT_RANGE: '18000-18199', OPENRS_SHARD_PORT_RANGE: '28000-28199' };
    const api = (method: string, p: string, body?: unknown) => request(port, method, p, { auth, body });
    const first = start(dataDir, port, env);
    await waitFor(async () => (await api('GET', '/v1/cluster').catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 20_000, what: 'first start' });
    const created = await api('POST', '/v1/bdbs', { name: 'survivor', memory_size: 64 * 1024 * 1024, data_persistence: 'aof' });
    expect(created.status, created.text).toBe(200);
    const bdb = await waitFor(async () => {
      const r = await api('GET', `/v1/bdbs/${created.json.uid}`);
      return r.json?.status === 'active' ? r.json : undefined;
    }, { timeoutMs: 20_000, what: 'bdb active' });
    const shardPids = processesUnder(path.join(dataDir, 'persist'));
    expect(shardPids.length).toBe(1);

    const client = new Redis({ host: '127.0.0.1', port: bdb.endpoints[0].port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    await client.connect();
    await client.set('before', '1');
    const id = await client.client('ID');

    first.child.kill('SIGKILL');
    await first.exited;
    // The same connection keeps working: the proxy and the shard are processes of their own.
    await client.set('during', '2');
    expect(await client.get('before')).toBe('1');
    expect(await client.client('ID')).toBe(id);

    const second = start(dataDir, port, env);
    await waitFor(async () => (await api('GET', `/v1/bdbs/${bdb.uid}`).catch(() => ({ status: 0, json: undefined }))).json?.status === 'active', { timeoutMs: 20_000, what: 'restart' });
    expect(processesUnder(path.join(dataDir, 'persist'))).toEqual(shardPids); // adopted, not restarted
    expect(await client.get('during')).toBe('2');
    expect(await client.client('ID')).toBe(id); // never dropped
    const again = await api('GET', `/v1/bdbs/${bdb.uid}`);
    expect(again.json.endpoints[0].port).toBe(bdb.endpoints[0].port);
    client.disconnect();

    expect((await api('DELETE', `/v1/bdbs/${bdb.uid}`)).status).toBe(200);
    await waitFor(async () => (await api('GET', `/v1/bdbs/${bdb.uid}`)).status === 404, { what: 'deleted' });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

