/**
 * Real health checks of this node (requests/nodes/check.md, requests/cluster/check.md). Each check
 * asks the thing itself, with a deadline, never a cached status:
 * - bootstrap_status: the node's bootstrap completed;
 * - services: the cluster store (CCS) answers a read; the proxy answers `ping` on its control socket
 *   (when a database exists: a node without databases runs no proxy); the stats sampler sampled lately;
 * - port_range: the kernel's ephemeral port range (ip_local_port_range) leaves the endpoint and shard
 *   port ranges alone, so an outgoing connection cannot take a port a database needs;
 * - pidfiles: every shard of every running database on this node answers PING (BUSY and LOADING are
 *   answers: a long script or a dataset being loaded is not a dead process, as for the watchdog);
 * - existing_sockets: the manager's config socket, which the proxy asks for client settings, accepts connections;
 * - disk: the data, persistent and ephemeral storage paths have at least the configured free space.
 * They run at once; the answer names the first failing one in that order, as the pages say RS does.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { PortRange } from '../config.js';
import { storageFacts } from '../host/host-facts.js';
import type { ShardProbe, ShardRef } from '../redis/supervisor.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import type { KvBackend } from '../store/kv.js';
import type { Clock } from '../util/clock.js';
import { failAfter } from '../util/deadline.js';

/** Databases in these states run their shards; the others have none running by design (pending, recovery, being deleted...). */
const RUNNING_STATUSES = new Set(['active', 'active-change-pending', 'import-pending']);

/** The sampler ticks every second; a few missed seconds under load are not a stopped sampler. */
const SAMPLER_STALE_MS = 15_000;

export const CHECK_NAMES = ['bootstrap_status', 'services', 'port_range', 'pidfiles', 'existing_sockets', 'disk'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckFailure {
  check: CheckName;
  /** The message for the answer's `error` field. */
  error: string;
}

export interface NodeCheckDeps {
  clock: Clock;
  kv: KvBackend;
  bootstrapState(): Promise<string>;
  /** Every database on record: uid and status. */
  bdbs(): Promise<{ uid: number; status?: string }[]>;
  /** The shards on this node. */
  shards(): Promise<ShardSummary[]>;
  probeShard(target: ShardRef, timeoutMs: number): Promise<ShardProbe>;
  /** One `ping` to the proxy over its control socket; must not start a proxy. */
  pingProxy(): Promise<unknown>;
  /** Path of the manager's config socket (it listens once the controllers have started). */
  configSocket: string;
  /** When the stats sampler last stored a sample (ms since the epoch), undefined before its first. */
  lastSample(): number | undefined;
  /** Database endpoint and shard port ranges this node allocates from. */
  portRanges: { name: string; range: PortRange }[];
  /** The kernel's ephemeral port range, undefined where it cannot be read (not Linux). */
  localPortRange(): PortRange | undefined;
  /** Storage paths of this node (data dir, persistent, ephemeral); missing ones are skipped. */
  storagePaths(): Promise<string[]>;
  minFreeBytes: number;
  /** Deadline of each PING / socket check (default 2 s). */
  timeoutMs?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const notResponding = (process: string, why: string) => `process ${process} is not running or not responding (${why})`;
const MIB = 1024 * 1024;

export class NodeChecks {
  private readonly timeoutMs: number;

  constructor(private readonly d: NodeCheckDeps) {
    this.timeoutMs = d.timeoutMs ?? 2000;
  }

  /** Run every check; the first failure in CHECK_NAMES order, or undefined when all pass. */
  async run(): Promise<CheckFailure | undefined> {
    const results = await Promise.all(CHECK_NAMES.map((c) => this.one(c).catch((e: unknown) => `${c} check failed: ${message(e)}`)));
    const i = results.findIndex((r) => r !== undefined);
    return i < 0 ? undefined : { check: CHECK_NAMES[i]!, error: results[i]! };
  }

  private one(check: CheckName): Promise<string | undefined> {
    switch (check) {
      case 'bootstrap_status': return this.bootstrap();
      case 'services': return this.services();
      case 'port_range': return Promise.resolve(this.portRange());
      case 'pidfiles': return this.shardsAnswer();
      case 'existing_sockets': return this.sockets();
      case 'disk': return this.disk();
    }
  }

  private async bootstrap(): Promise<string | undefined> {
    const state = await this.d.bootstrapState();
    return state === 'completed' ? undefined : `bootstrap of this node has not completed (state '${state}')`;
  }

  private async services(): Promise<string | undefined> {
    try {
      await failAfter((async () => {
        await this.d.kv.revision();
        await this.d.kv.get('/cluster');
      })(), this.timeoutMs, 'ccs');
    } catch (e) {
      return notResponding('ccs', message(e));
    }
    let bdbs: { uid: number; status?: string }[];
    try {
      bdbs = await this.d.bdbs();
    } catch (e) {
      return notResponding('ccs', message(e));
    }
    if (bdbs.length) {
      try {
        await failAfter(this.d.pingProxy(), this.timeoutMs, 'proxy control socket');
      } catch (e) {
        return notResponding('proxy', message(e));
      }
    }
    const last = this.d.lastSample();
    const age = last === undefined ? 0 : this.d.clock.now().getTime() - last;
    if (age > SAMPLER_STALE_MS) return notResponding('stats_sampler', `last sample ${Math.round(age / 1000)} s ago`);
    return undefined;
  }

  private portRange(): string | undefined {
    const local = this.d.localPortRange();
    if (!local) return undefined;
    for (const { name, range } of this.d.portRanges) {
      if (range.from <= local.to && local.from <= range.to) {
        return `ip_local_port_range ${local.from}-${local.to} overlaps the ${name} ${range.from}-${range.to}: outgoing connections may take ports the databases need`;
      }
    }
    return undefined;
  }

  private async shardsAnswer(): Promise<string | undefined> {
    const running = new Set((await this.d.bdbs()).filter((b) => RUNNING_STATUSES.has(b.status ?? '')).map((b) => b.uid));
    const shards = (await this.d.shards()).filter((s) => running.has(s.bdb_uid));
    const answers = await Promise.all(shards.map(async (s): Promise<string | undefined> => {
      if (s.port === undefined || s.dir === undefined) return 'it has no port on record';
      const answer = await this.d.probeShard({ uid: s.uid, port: s.port, dir: s.dir }, this.timeoutMs).catch(() => 'down' as const);
      if (answer === 'pong' || answer === 'busy' || answer === 'loading') return undefined;
      if (answer === 'down') return `no answer to PING on port ${s.port} within ${this.timeoutMs} ms`;
      return answer === 'auth' ? 'PING refused: the internal admin user cannot authenticate' : 'PING answered with an error';
    }));
    const i = answers.findIndex((a) => a !== undefined);
    return i < 0 ? undefined : notResponding(`redis:${shards[i]!.uid}`, `shard of database ${shards[i]!.bdb_uid}: ${answers[i]}`);
  }

  private async sockets(): Promise<string | undefined> {
    const file = this.d.configSocket;
    try {
      const connected = new Promise<void>((resolve, reject) => {
        const sock = net.connect(file);
        sock.once('error', reject);
        sock.once('connect', () => {
          sock.destroy();
          resolve();
        });
      });
      await failAfter(connected, this.timeoutMs, 'config socket');
      return undefined;
    } catch (e) {
      return `socket ${file} of the cluster manager does not accept connections (${message(e)})`;
    }
  }

  private async disk(): Promise<string | undefined> {
    for (const p of [...new Set(await this.d.storagePaths())]) {
      let free: number;
      try {
        // The filesystem the path is (or, not made yet, will be) on: the node's own storage figures.
        free = (await storageFacts(p)).avail;
      } catch (e) {
        return `cannot read the free space of ${p}: ${message(e)}`;
      }
      if (free < this.d.minFreeBytes) {
        return `free space on ${p} is ${Math.floor(free / MIB)} MiB, below the ${Math.floor(this.d.minFreeBytes / MIB)} MiB floor`;
      }
    }
    return undefined;
  }
}

/** Linux's ip_local_port_range ("32768\t60999"); undefined where there is none. */
export function readLocalPortRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange | undefined {
  try {
    const [from, to] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(from) && Number.isInteger(to) ? { from: from!, to: to! } : undefined;
  } catch {
    return undefined;
  }
}
