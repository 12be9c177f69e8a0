/**
 * ShardAdmin: the only place that opens Redis connections to shards.
 *
 * One connection per ShardAdmin, opened on first use and re-opened after a failure; commands never queue while
 * disconnected (ioredis `lazyConnect`, `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, no reconnect loop).
 * Only the typed, idempotent operations are re-sent, once, when a reused connection turns out dead; command() never
 * is. Every call has a deadline (connect + AUTH + reply), after which the connection is dropped: a hung shard
 * (e.g. SIGSTOPped) makes calls fail fast instead of piling up.
 *
 * It authenticates as the internal admin ACL user (see supervisor.ts: `user openrs-admin on #<sha256> ~* &* +@all`),
 * so the reconciler can give `default` a database password, or disable it, without locking itself out.
 */
import { Redis } from 'ioredis';
import { parseInfo, parseRole, type InfoSections, type RoleInfo } from './replies.js';

export { parseInfo, parseRole, type InfoSections, type RoleInfo } from './replies.js';

export interface ShardAdminOptions {
  host?: string;
  port: number;
  /** Internal admin ACL user; without it the connection stays the `default` user. */
  user?: string;
  password?: string;
  /** TCP connect deadline (ms). */
  connectTimeoutMs?: number;
  /** Deadline of each call, connecting and authenticating included (ms). */
  commandTimeoutMs?: number;
}

export class ShardAdmin {
  readonly host: string;
  readonly port: number;
  private client?: Redis;
  private connecting?: Promise<Redis>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ShardAdminOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port;
    this.timeoutMs = opts.commandTimeoutMs ?? 2000;
  }

  /** PONG → true; an error reply (LOADING, BUSY, NOAUTH...) or no answer in time → throws. */
  async ping(): Promise<true> {
    const r = await this.call('PING');
    if (r !== 'PONG') throw new Error(`unexpected PING reply ${String(r)}`);
    return true;
  }

  async configSet(directive: string, value: string): Promise<void> {
    await this.call('CONFIG', 'SET', directive, value);
  }

  /** The value of one directive, as CONFIG GET prints it; undefined if Redis has no such directive. */
  async configGet(directive: string): Promise<string | undefined> {
    return (await this.configGetAll(directive))[directive.toLowerCase()];
  }

  /** CONFIG GET with a glob (or several names): name → value. */
  async configGetAll(...patterns: string[]): Promise<Record<string, string>> {
    return pairs((await this.call('CONFIG', 'GET', ...patterns)) as string[]);
  }

  async configRewrite(): Promise<void> {
    await this.call('CONFIG', 'REWRITE');
  }

  /** ACL SETUSER name rule...: rules apply left to right on top of the user's current state (start with `reset`). */
  async aclSetUser(name: string, rules: string[]): Promise<void> {
    await this.call('ACL', 'SETUSER', name, ...rules);
  }

  /** The password hashes (SHA-256 hex) of each existing user among `names`. */
  async aclPasswords(names: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const name of names) {
      const reply = (await this.call('ACL', 'GETUSER', name)) as unknown[] | null;
      if (!reply) continue;
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
      const pw = fields.get('passwords');
      out.set(name, Array.isArray(pw) ? pw.map(String) : []);
    }
    return out;
  }

  /** Number of users deleted (0 if it did not exist). */
  async aclDelUser(name: string): Promise<number> {
    return Number(await this.call('ACL', 'DELUSER', name));
  }

  /** ACL LIST: one `user <name> <rules>` line per user. */
  async aclList(): Promise<string[]> {
    return (await this.call('ACL', 'LIST')) as string[];
  }

  async aclUsers(): Promise<string[]> {
    return (await this.call('ACL', 'USERS')) as string[];
  }

  async info(section?: string): Promise<InfoSections> {
    return parseInfo(String(await this.call('INFO', ...(section ? [section] : []))));
  }

  async replicaOf(host: string, port: number): Promise<void> {
    await this.call('REPLICAOF', host, String(port));
  }

  /** Promote: stop replicating and keep the dataset. */
  async replicaOfNoOne(): Promise<void> {
    await this.call('REPLICAOF', 'NO', 'ONE');
  }

  async role(): Promise<RoleInfo> {
    return parseRole((await this.call('ROLE')) as unknown[]);
  }

  async flushAll(): Promise<void> {
    await this.call('FLUSHALL');
  }

  async bgsave(): Promise<void> {
    await this.call('BGSAVE');
  }

  /** Unix time (s) of the last successful save. */
  async lastSave(): Promise<number> {
    return Number(await this.call('LASTSAVE'));
  }

  async dbsize(): Promise<number> {
    return Number(await this.call('DBSIZE'));
  }

  /** Any command, e.g. for `POST /v1/bdbs/{uid}/command`. Error replies reject with ioredis's ReplyError. */
  async command(name: string, args: (string | number)[] = [], timeoutMs?: number): Promise<unknown> {
    return this.callWithin(timeoutMs ?? this.timeoutMs, name, args.map(String));
  }

  /** command(), binary-safe: Buffer arguments pass as they are and replies come back as Buffers (keys need not be UTF-8). */
  async commandBuffer(name: string, args: (string | number | Buffer)[] = [], timeoutMs?: number): Promise<unknown> {
    return this.callWithin(timeoutMs ?? this.timeoutMs, name, args.map((a) => (Buffer.isBuffer(a) ? a : String(a))), false, true);
  }

  /**
   * SHUTDOWN [SAVE|NOSAVE] [NOW] [FORCE]. `save` undefined: save only if save points are configured. `now`: do not
   * wait for lagging replicas. `force`: exit even if the final save fails or the initial AOF is still being written.
   * Success is the server closing the connection; an error reply (Redis refused and keeps running) rejects.
   * `timeoutMs` covers the final save.
   */
  async shutdown(opts: { save?: boolean; now?: boolean; force?: boolean } = {}, timeoutMs = 30_000): Promise<void> {
    const args = [...(opts.save === undefined ? [] : [opts.save ? 'SAVE' : 'NOSAVE']), ...(opts.now ? ['NOW'] : []), ...(opts.force ? ['FORCE'] : [])];
    try {
      await this.callWithin(timeoutMs, 'SHUTDOWN', args);
    } catch (e) {
      if (isReplyError(e) || /timed out/.test(String(e))) throw e;
      return; // the connection closed: the server is going away
    }
  }

  /** Drop the connection; the next call opens a new one. */
  close(): void {
    const c = this.client;
    this.client = undefined;
    this.connecting = undefined;
    c?.disconnect();
  }

  /** The typed admin operations are idempotent, so one retry on a fresh connection is safe (see callWithin). */
  private call(name: string, ...args: string[]): Promise<unknown> {
    return this.callWithin(this.timeoutMs, name, args, true);
  }

  /**
   * One command under one deadline (connect + AUTH + reply). On a reused connection that turns out to be dead
   * (the shard restarted, or closed it), an idempotent command is sent once more on a new connection.
   */
  private async callWithin(timeoutMs: number, name: string, args: (string | Buffer)[], idempotent = false, buffers = false): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} on ${this.host}:${this.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      for (let attempt = 0; ; attempt++) {
        const reused = this.client?.status === 'ready' && !this.connecting;
        try {
          const client = await Promise.race([this.connect(Math.max(1, deadline - Date.now())), expired]);
          const pending = buffers ? client.callBuffer(name, ...args) : client.call(name, ...args);
          pending.catch(() => {}); // settled by the race below; a late rejection must not go unhandled
          return await Promise.race([pending, expired]);
        } catch (e) {
          // After a timeout or a broken connection the stream's state is unknown: start over next time.
          if (!isReplyError(e)) this.close();
          const timedOut = Date.now() >= deadline;
          if (!idempotent || !reused || attempt > 0 || isReplyError(e) || timedOut) throw e;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(timeoutMs: number): Promise<Redis> {
    if (this.client && this.client.status === 'ready' && !this.connecting) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    this.close();
    const client = new Redis({
      host: this.host,
      port: this.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      connectTimeout: Math.min(this.opts.connectTimeoutMs ?? 1000, timeoutMs),
    });
    client.on('error', () => {}); // failures surface through the calls; an unhandled 'error' event would print
    this.client = client;
    const connecting = (async () => {
      await client.connect();
      // AUTH explicitly, not via ioredis options: a wrong password must fail here, not fall back to `default`.
      if (this.opts.user !== undefined) await client.call('AUTH', this.opts.user, this.opts.password ?? '');
      return client;
    })();
    this.connecting = connecting;
    connecting.then(
      () => { if (this.connecting === connecting) this.connecting = undefined; },
      () => { if (this.client === client) this.close(); },
    );
    return connecting;
  }
}

/**
 * Poll a replica until its initial sync is done: `master_link_status:up` and `master_sync_in_progress:0`.
 * Rejects after `timeoutMs` with the last replication state seen.
 */
export async function waitForSync(replica: ShardAdmin, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last = 'no answer';
  for (;;) {
    try {
      const r = (await replica.info('replication')).replication ?? {};
      if (r.role === 'slave' && r.master_link_status === 'up' && r.master_sync_in_progress === '0') return;
      last = `role=${r.role} master_link_status=${r.master_link_status} master_sync_in_progress=${r.master_sync_in_progress}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`replica on port ${replica.port} did not sync in time (${last})`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

export function isReplyError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'ReplyError';
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
