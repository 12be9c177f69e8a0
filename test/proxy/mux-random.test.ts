/**
 * Multiplexing under random traffic: several clients at once send random command streams (plain
 * commands, transactions, inline commands, AUTH attempts, big values, CLIENT SETINFO), cut into
 * random pieces. Each client's reply stream through the proxy must equal, byte for byte, what the
 * same stream gets on a direct connection to another redis-server: no reply lost, duplicated,
 * reordered or delivered to the wrong client.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyClient } from '../../src/proxy/control.js';
import { freePort } from '../helpers/ports.js';
import { killAll, startProxy, startRedis, type RedisTarget } from './helpers.js';

let px: ProxyClient;
let behind: RedisTarget;
let direct: RedisTarget;
let port: number;

beforeAll(async () => {
  [behind, direct] = await Promise.all([startRedis(), startRedis()]);
  ({ px } = await startProxy());
  port = await freePort();
  await px.setEndpoint({ uid: 'random', port, addr: '127.0.0.1', target: { host: '127.0.0.1', port: behind.port }, conns: 2 });
});
afterAll(killAll);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bulk = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * One client's random command stream, its keys under `p`; ends with QUIT. `shared`: only
 * commands that keep the client on shared connections (r < 0.62 and the AUTH/SETINFO/unknown/
 * EXISTS cases), so multiplexing is exercised for the whole stream, not only until the first
 * command that pins.
 */
function stream(p: string, rand: () => number, n: number, shared: boolean): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${p}:${Math.floor(rand() * 5)}`;
    let r = rand();
    if (shared && r >= 0.62 && r < 0.72) r = rand() * 0.62;
    if (shared && r >= 0.77 && r < 0.79) r = 0.9;
    if (shared && r >= 0.82 && r < 0.85) r = 0.9;
    if (r < 0.25) parts.push(bulk('SET', k, `v${i}`));
    else if (r < 0.45) parts.push(bulk('GET', k));
    else if (r < 0.55) parts.push(bulk('INCR', `${p}:n`));
    else if (r < 0.62) parts.push(bulk('RPUSH', `${p}:l`, `e${i}`), bulk('LRANGE', `${p}:l`, '0', '2'));
    else if (r < 0.67) parts.push(bulk('MULTI'), bulk('INCR', `${p}:n`), bulk('GET', k), bulk('EXEC'));
    else if (r < 0.72) parts.push(pick([`PING\r\n`, `ECHO ${p}\r\n`, `EXISTS ${k}\r\n`]));
    else if (r < 0.75) parts.push(bulk('AUTH', `wrong-${i}`));
    else if (r < 0.77) parts.push(bulk('CLIENT', 'SETINFO', 'LIB-NAME', `lib${i}`));
    else if (r < 0.79) parts.push(bulk('SET', `${p}:big`, 'x'.repeat(pick([70_000, 300_000, 1_200_000]))), bulk('STRLEN', `${p}:big`));
    else if (r < 0.82) parts.push(bulk('NOSUCHCOMMAND', k));
    else if (r < 0.85) parts.push(bulk('SELECT', '0'));
    else parts.push(bulk('EXISTS', k), bulk('DEL', k));
  }
  parts.push(bulk('QUIT'));
  return parts.join('');
}

/** Send `payload` in random pieces, return everything received until the server closes. */
function play(toPort: number, payload: Buffer, rand: () => number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(toPort, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close from ${toPort} within 30 s (${Buffer.concat(got).length} bytes received)`));
    }, 30_000);
    s.on('data', (d) => got.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    let pos = 0;
    const next = () => {
      if (pos >= payload.length || s.destroyed) return;
      const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 20 : 3000));
      s.write(payload.subarray(pos, pos + n));
      pos += n;
      if (rand() < 0.3) setTimeout(next, 1);
      else setImmediate(next);
    };
    s.once('connect', next);
  });
}

describe('random traffic through a multiplexed endpoint', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 8 concurrent clients get exactly the replies a direct connection gets`, async () => {
      const clients = Array.from({ length: 8 }, (_, i) => {
        const p = `s${seed}c${i}`;
        return { p, payload: Buffer.from(stream(p, rng(seed * 100 + i), 150, i % 2 === 0)) };
      });
      // Reference: each stream alone on a direct connection to the other server.
      const expected: Buffer[] = [];
      for (const c of clients) expected.push(await play(direct.port, c.payload, rng(seed)));
      // Through the proxy: all at once, cut differently.
      const got = await Promise.all(clients.map((c, i) => play(port, c.payload, rng(seed * 7 + i))));
      for (let i = 0; i < clients.length; i++) {
        expect(got[i]!.length, `client ${i} reply bytes`).toBe(expected[i]!.length);
        expect(got[i]!.equals(expected[i]!), `client ${i} replies`).toBe(true);
      }
      const info = (await px.list()).find((e) => e.uid === 'random')!;
      expect(info.listening).toBe(true);
      // The shared-only clients really were multiplexed: their commands went through the pool.
      const st = (await px.stats('random')).random!;
      expect(st.commands!.quit![0]).toBeGreaterThanOrEqual(4 * seed);
    }, 60_000);
  }
});
