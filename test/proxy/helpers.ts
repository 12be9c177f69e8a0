/**
 * Real processes for the proxy tests: redis-server targets on free ports and proxies started
 * through ProxyClient. Everything started is recorded and killed by `killAll()` (afterAll).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { ProxyClient, type ProxyClientOpts } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

const children = new Set<ChildProcess>();
const proxyPids = new Set<number>();
const clients = new Set<ProxyClient>();
const dirs: string[] = [];
const redisClients = new Set<Redis>();

/** An ioredis client on 127.0.0.1:`port`, disconnected by killAll(). */
export function redis(port: number, opts: RedisOptions = {}): Redis {
  const r = new Redis({ host: '127.0.0.1', port, ...opts });
  r.on('error', () => undefined); // reconnects are expected in these tests
  redisClients.add(r);
  return r;
}

export interface RedisTarget {
  port: number;
  child: ChildProcess;
}

/** Start a redis-server on a free loopback port and wait until it answers PING. */
export async function startRedis(extraArgs: string[] = []): Promise<RedisTarget> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs];
  const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await waitFor(() => redisPing(port), { what: `redis-server on ${port}` });
  return { port, child };
}

/** true when a RESP PING on `port` gets +PONG (one short-lived connection). */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

export function tempDir(): string {
  // Short paths: a unix socket path must fit in 107 bytes.
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orsp-'));
  dirs.push(d);
  return d;
}

export function proxyClient(dir: string, extra: Partial<ProxyClientOpts> = {}): ProxyClient {
  const c = new ProxyClient({ socketPath: path.join(dir, 'proxy.sock'), stateFile: path.join(dir, 'endpoints.json'), logFile: path.join(dir, 'proxy.log'), logLevel: 'debug', ...extra });
  clients.add(c);
  return c;
}

/** A proxy process of its own (in a fresh temp dir), killed by killAll(); `adopted` as ensureRunning says. */
export async function startProxy(): Promise<{ px: ProxyClient; adopted: boolean }> {
  const px = proxyClient(tempDir());
  const { pid, adopted } = await px.ensureRunning();
  trackProxy(pid);
  return { px, adopted };
}

/** Remember a proxy pid so that killAll() kills its process group. */
export function trackProxy(pid: number): number {
  proxyPids.add(pid);
  return pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killAll(): void {
  for (const r of redisClients) r.disconnect();
  for (const c of clients) c.close();
  for (const pid of proxyPids) {
    try {
      // The proxy leads its own process group (spawned detached): kill the group.
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const c of children) c.kill('SIGKILL');
  // Also any proxy serving a socket in one of our directories that no test tracked (one started by a
  // replacement the test did not expect, say): found by its command line.
  for (const pid of proxiesIn(dirs)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

/** Pids of processes whose command line names `--socket <dir>/...` for one of `dirs`. */
function proxiesIn(dirs: string[]): number[] {
  if (!dirs.length) return [];
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (dirs.some((d) => cmd.includes(`--socket\0${d}/`))) out.push(Number(name));
  }
  return out;
}

/** A raw TCP connection, resolved once connected. */
export function rawConnect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Send `payload` and FIN at once; resolves with everything received until the connection closes. */
export async function sendAndFin(port: number, payload: string): Promise<string> {
  const s = await rawConnect(port);
  let text = '';
  s.on('data', (d) => (text += d.toString()));
  s.end(payload);
  await closed(s);
  return text;
}

/** Resolves when `s` closes, whatever the reason. */
export function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.on('error', () => undefined);
    s.once('close', () => resolve());
  });
}

/**
 * Connect, send `payload`, collect what comes back until the server closes the connection or
 * `until` matches. Resolves with the text and whether the connection was closed.
 */
export function exchange(port: number, payload: string | Buffer, until?: RegExp): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => finish(false), 5000);
    const finish = (isClosed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed: isClosed });
    };
    s.on('error', () => undefined);
    s.on('connect', () => s.write(payload));
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (until?.test(text)) finish(false);
    });
    s.on('close', () => finish(true));
  });
}
