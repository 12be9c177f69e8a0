/**
 * Debug info archives (requests/debuginfo/, requests/bdbs/debuginfo.md, requests/nodes/debuginfo.md,
 * requests/cluster/debuginfo.md): a gzipped tar, `debuginfo.tar.gz`, of what support asks for first:
 *
 *   debuginfo/cluster.json, nodes.json, events.json          (whole-cluster archives)
 *   debuginfo/logs/proxy.log                                  (the end of the proxy's log)
 *   debuginfo/bdb-<uid>/bdb.json, shards.json, events.json
 *   debuginfo/bdb-<uid>/shard-<uid>/info.txt, config.txt, slowlog.json, redis.conf, users.acl, redis.log
 *
 * Secrets are never in it: database passwords are hidden as for a caller without view_redis_pass, and JSON
 * fields and shard settings that hold passwords or keys read `<redacted>` (shard-debug.ts). openrs is one
 * node, so the node's and all nodes' archives are the same.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoggedEvent } from '../store/event-store.js';
import { readTail } from '../util/fs.js';
import type { ShardSummary } from './shard-inventory.js';

const run = promisify(execFile);
/** Fields whose values are secrets, wherever they are in a JSON document (not e.g. password_hashing_algorithm). */
const SECRET_FIELD = /(pass|password|secret|key|token)$|private_key/i;
const MAX_EVENTS = 10_000;
const LOG_TAIL_BYTES = 4 * 1024 * 1024;
const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

export interface DebugInfoDeps {
  cluster: () => Promise<unknown>;
  nodes: () => Promise<unknown[]>;
  /** Database objects as a caller without view_redis_pass sees them; throws db_not_exist for an unknown uid. */
  bdb: (uid: number) => Promise<{ uid: number }>;
  bdbUids: () => Promise<number[]>;
  shards: (bdbUid: number) => Promise<ShardSummary[]>;
  shardViews: (bdbUid: number) => Promise<unknown[]>;
  /** The newest events first, at most `limit`. */
  events: (limit: number) => LoggedEvent[];
  /** Per shard: file name → content (shard-debug.ts). */
  shardFiles: (s: ShardSummary) => Promise<Record<string, string>>;
  /** Where the node's logs are (proxy.log). */
  logsDir: string;
  /** Scratch space for building the archive. */
  tmpDir: string;
}

/** JSON with secret-bearing fields redacted. */
function json(value: unknown): string {
  return `${JSON.stringify(value, (k, v: unknown) => (k && SECRET_FIELD.test(k) && typeof v === 'string' && v !== '' ? '<redacted>' : v), 2)}\n`;
}

export class DebugInfoService {
  constructor(private readonly d: DebugInfoDeps) {}

  /** The archive of the whole cluster (`bdbUid` undefined) or of one database. */
  async archive(bdbUid?: number): Promise<Buffer> {
    const uids = bdbUid === undefined ? await this.d.bdbUids() : [(await this.d.bdb(bdbUid)).uid];
    fs.mkdirSync(this.d.tmpDir, { recursive: true, mode: 0o700 });
    const work = fs.mkdtempSync(path.join(this.d.tmpDir, 'debuginfo-'));
    try {
      const root = path.join(work, 'debuginfo');
      const put = (rel: string, content: string) => {
        const file = path.join(root, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode: 0o600 });
      };
      const events = this.d.events(MAX_EVENTS);
      if (bdbUid === undefined) {
        put('cluster.json', json(await this.d.cluster()));
        put('nodes.json', json(await this.d.nodes()));
        put('events.json', json(events));
        const proxyLog = path.join(this.d.logsDir, 'proxy.log');
        const proxyTail = readTail(proxyLog, LOG_TAIL_BYTES);
        if (proxyTail !== undefined) put('logs/proxy.log', proxyTail);
      }
      const shards: { dir: string; shard: ShardSummary }[] = [];
      for (const uid of uids) {
        const dir = `bdb-${uid}`;
        try {
          put(`${dir}/bdb.json`, json(await this.d.bdb(uid)));
        } catch {
          continue; // deleted meanwhile
        }
        put(`${dir}/shards.json`, json(await this.d.shardViews(uid)));
        put(`${dir}/events.json`, json(events.filter((e) => String(e.bdb_uid) === String(uid))));
        for (const shard of await this.d.shards(uid)) shards.push({ dir, shard });
      }
      // Every shard at once: shards that do not answer (stopped, hung) cost one timeout together, not one each.
      const files = await Promise.all(shards.map(({ shard }) => this.d.shardFiles(shard)));
      shards.forEach(({ dir, shard }, i) => {
        for (const [name, content] of Object.entries(files[i]!)) put(`${dir}/shard-${shard.uid}/${name}`, content);
      });
      const { stdout } = await run('tar', ['-czf', '-', '-C', work, 'debuginfo'], { encoding: 'buffer', maxBuffer: MAX_ARCHIVE_BYTES });
      return stdout;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}
