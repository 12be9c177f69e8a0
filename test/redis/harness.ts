/**
 * Real redis-server shards for tests: temp dirs, free ports, and a cleanup that kills every shard the file
 * started (tracked pids, plus whatever pid file is left in its dirs), SIGKILLing process groups.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { ShardSupervisor, type LoggerLike, type ShardHandle, type ShardSpec, type ShardSupervisorOptions } from '../../src/redis/supervisor.js';
import type { Directives } from '../../src/redis/conf-file.js';
import { isRedisProcess } from '../../src/redis/proc.js';
import { freePort } from '../helpers/ports.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const ADMIN = { user: 'openrs-admin', password: 'admin-secret-0123456789abcdef' };

/** A logger that keeps lines for assertions and prints them only with OPENRS_TEST_LOG set. */
export function testLog(): LoggerLike & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
    if (process.env.OPENRS_TEST_LOG) console.log(level, msg, JSON.stringify(obj));
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export function shardHarness() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-redis-'));
  const pids = new Set<number>();
  const clients: Redis[] = [];
  let uid = 0;

  afterAll(() => {
    for (const c of clients) c.disconnect();
    for (const d of fs.readdirSync(root)) {
      try {
        const pid = Number(fs.readFileSync(path.join(root, d, 'redis.pid'), 'utf8').trim());
        if (pid > 1 && isRedisProcess(pid)) pids.add(pid);
      } catch {
        // no pid file: nothing running there
      }
    }
    for (const pid of pids) {
      if (!isRedisProcess(pid)) continue; // pids are reused: never kill what is no longer a shard
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  return {
    root,
    supervisor(opts: Partial<ShardSupervisorOptions> = {}) {
      return new ShardSupervisor({ redisServer: REDIS_SERVER, log: testLog(), admin: ADMIN, ...opts });
    },
    /** A spec with a fresh uid, port and dir (or the given ones). */
    async spec(directives: Directives = {}, over: Partial<ShardSpec> = {}): Promise<ShardSpec> {
      const u = ++uid;
      return { uid: u, port: await freePort(), dir: path.join(root, `redis-${u}`), directives, ...over };
    },
    /** Remember a started shard's pid for cleanup. */
    track<T extends ShardHandle | undefined>(h: T): T {
      if (h) pids.add(h.pid);
      return h;
    },
    /** A plain ioredis client, as an application would connect (not through ShardAdmin). */
    client(port: number, auth: { username?: string; password?: string } = {}): Redis {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, ...auth });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
  };
}
