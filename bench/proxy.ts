/**
 * Proxy overhead, measured as a ratio: redis-benchmark against a redis-server directly and
 * through a proxy endpoint in front of it, in the same run on the same machine.
 *
 *   npx tsx bench/proxy.ts [--requests 200000] [--requests-pipelined 2000000] [--clients 50] [--rounds 3]
 *
 * Prints ops/s for both paths and proxy/direct per test. Absolute numbers depend on the machine;
 * the ratio is the result (target >= 0.6). The proxy is measured with the shard reached over
 * TCP (the default) and over the shard's unix socket (Target.socket). Runs alternate direct and
 * proxied for several rounds (5) and report medians, so that load from other processes on the host
 * hits both sides alike; each ratio is the median of per-round ratios (proxied ÷ the direct run of the
 * same round). Pipelined runs send 10x the requests, so that each run lasts about as
 * long as an unpipelined one (a run of a tenth of a second measures mostly its own start).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { ProxyClient } from '../src/proxy/control.js';
import { processCpuSeconds } from '../src/redis/proc.js';
import { freePort } from '../test/helpers/ports.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { requests: { type: 'string', default: '200000' }, 'requests-pipelined': { type: 'string', default: '2000000' }, clients: { type: 'string', default: '50' }, rounds: { type: 'string', default: '5' } },
});
const ROUNDS = Number(values.rounds);
const REQUESTS = values.requests!;
const REQUESTS_PIPELINED = values['requests-pipelined']!;
const CLIENTS = values.clients!;
const REDIS_SERVER = '/usr/bin/redis-server';

async function which(cmd: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `command -v ${cmd}`]).catch(() => ({ stdout: '' }));
  if (!stdout.trim()) throw new Error(`${cmd} not found (install redis-tools)`);
  return stdout.trim();
}

async function waitPing(cli: string, port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await run(cli, ['-p', String(port), 'PING']).then((r) => r.stdout.includes('PONG'), () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on ${port} did not answer`);
}

/** ops/s per test name from `redis-benchmark -q` output. */
async function bench(binary: string, port: number, pipeline: number): Promise<Record<string, number>> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', CLIENTS, '-n', pipeline > 1 ? REQUESTS_PIPELINED : REQUESTS, '-t', 'set,get', '-P', String(pipeline), '-q'];
  const { stdout } = await run(binary, args, { maxBuffer: 16 * 1024 * 1024 });
  const out: Record<string, number> = {};
  for (const line of stdout.split(/[\r\n]+/)) {
    const m = /^(\w+): ([\d.]+) requests per second/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const benchBin = await which('redis-benchmark');
  const cli = await which('redis-cli');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orsp-bench-'));
  let redis: ChildProcess | undefined;
  let proxyPid: number | undefined;
  const px = new ProxyClient({ socketPath: path.join(dir, 'proxy.sock'), stateFile: path.join(dir, 'endpoints.json'), logFile: path.join(dir, 'proxy.log'), logLevel: 'warn' });
  const cleanup = () => {
    px.close();
    if (proxyPid) try { process.kill(-proxyPid, 'SIGKILL'); } catch { /* gone */ }
    redis?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const redisPort = await freePort();
    const redisSock = path.join(dir, 'redis.sock');
    redis = spawn(REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1', '--unixsocket', redisSock, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitPing(cli, redisPort);
    proxyPid = (await px.ensureRunning()).pid;
    const viaTcp = await freePort();
    const viaUnix = await freePort();
    await px.setEndpoint({ uid: 'bench:1', port: viaTcp, addr: '127.0.0.1', target: { host: '127.0.0.1', port: redisPort } });
    await px.setEndpoint({ uid: 'bench:2', port: viaUnix, addr: '127.0.0.1', target: { host: '127.0.0.1', port: redisPort, socket: redisSock } });
    await waitPing(cli, viaTcp);
    await waitPing(cli, viaUnix);

    console.log(`redis-benchmark -c ${CLIENTS} -n ${REQUESTS} (-P 16: ${REQUESTS_PIPELINED}) -t set,get; median of ${ROUNDS} alternating rounds; ${os.cpus().length} CPUs shared by redis, proxy and benchmark`);
    const paths = { direct: redisPort, 'proxy (tcp to shard)': viaTcp, 'proxy (unix to shard)': viaUnix };
    const samples = new Map<string, number[]>(); // `${pipeline}|${path}|${test}` -> ops/s
    // CPU seconds per million requests of the process that serves the clients: redis-server on the direct
    // path, the proxy on the proxied ones (both tests of a run together). Unlike ops/s, it does not depend on
    // how the scheduler shares the cores between benchmark, proxy and redis-server.
    const cpu = new Map<string, number[]>(); // `${pipeline}|${path}` -> CPU s per million requests
    for (let round = 0; round < ROUNDS; round++) {
      for (const pipeline of [1, 16]) {
        for (const [name, port] of Object.entries(paths)) {
          const server = name === 'direct' ? redis.pid! : proxyPid!;
          const before = processCpuSeconds(server)!;
          for (const [test, ops] of Object.entries(await bench(benchBin, port, pipeline))) {
            const key = `${pipeline}|${name}|${test}`;
            samples.set(key, [...(samples.get(key) ?? []), ops]);
          }
          const millions = (2 * Number(pipeline > 1 ? REQUESTS_PIPELINED : REQUESTS)) / 1e6;
          const key = `${pipeline}|${name}`;
          cpu.set(key, [...(cpu.get(key) ?? []), (processCpuSeconds(server)! - before) / millions]);
        }
      }
    }
    const med = (key: string) => median(samples.get(key) ?? [0]);
    // Each round's proxied run is divided by the direct run of the same round (seconds apart), then
    // the median of those ratios is taken: the machine's speed drifts between rounds (direct runs
    // alone vary by 20 % here), and pairing keeps that drift out of the ratio.
    const pairedRatio = (pipeline: number, name: string, test: string) => {
      const d = samples.get(`${pipeline}|direct|${test}`) ?? [];
      const p = samples.get(`${pipeline}|${name}|${test}`) ?? [];
      return median(p.map((ops, i) => ops / d[i]!));
    };
    console.log('mode          test  path                     ops/s   proxy/direct (median of per-round ratios)');
    const ratios: Record<string, number[]> = {};
    for (const pipeline of [1, 16]) {
      for (const test of ['SET', 'GET']) {
        for (const name of Object.keys(paths)) {
          const ops = med(`${pipeline}|${name}|${test}`);
          const ratio = name === 'direct' ? 1 : pairedRatio(pipeline, name, test);
          if (name !== 'direct') (ratios[name] ??= []).push(ratio);
          const mode = pipeline === 1 ? 'unpipelined' : `-P ${pipeline}`;
          console.log(`${mode.padEnd(13)} ${test.padEnd(5)} ${name.padEnd(22)} ${ops.toFixed(0).padStart(9)} ${name === 'direct' ? '' : ratio.toFixed(2).padStart(14)}`);
        }
      }
    }
    for (const [name, r] of Object.entries(ratios)) console.log(`lowest ratio, ${name}: ${Math.min(...r).toFixed(2)} (target >= 0.60)`);
    for (const pipeline of [1, 16]) {
      const direct = median(cpu.get(`${pipeline}|direct`)!);
      for (const name of Object.keys(paths)) {
        if (name === 'direct') continue;
        const mode = pipeline === 1 ? 'unpipelined' : `-P ${pipeline}`;
        console.log(`${mode}: proxy CPU per request ÷ redis-server's serving the benchmark directly, ${name}: ${(median(cpu.get(`${pipeline}|${name}`)!) / direct).toFixed(2)}`);
      }
    }
    for (const [uid, st] of Object.entries(await px.stats())) {
      console.log(`proxy counters ${uid}: ${st.total_connections} connections, ${st.bytes_in} bytes in, ${st.bytes_out} bytes out`);
    }
    for (const e of await px.list()) console.log(`endpoint ${e.uid}: ${e.shard_connections} shard connections open (conns ${e.conns} per identity)`);
    await px.shutdown();
    proxyPid = undefined;
  } finally {
    cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
