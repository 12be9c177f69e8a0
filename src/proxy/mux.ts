/**
 * Multiplexing: the client connections of an endpoint share a few shard connections, as RS's
 * proxy does (bdb `conns`, `max_pipelined`, `max_client_pipeline`; "the proxy might use
 * instruction pipelining even if not instructed to do so by the client", terminology.md).
 * Commands from many clients go to the shard in one write and their replies come back in one
 * read, which costs the shard and the proxy far fewer system calls per request than one shard
 * connection per client.
 *
 * Correctness rests on three rules:
 * 1. Only whole commands are forwarded on a shared connection, and every one gets exactly one
 *    reply, in order; a FIFO per shard connection says whose each reply is. Replies stream
 *    through as they arrive, never parsed beyond their boundaries (resp-scan.ts).
 * 2. A shared connection is only used by clients that proved, on that very connection, that they
 *    may: a client that sent `AUTH` is bound to a connection of the same credentials after its own
 *    AUTH succeeded there; a client that never authenticated first checks that the `default` user
 *    still lets anyone in (`AUTH default <random>` succeeds only for a nopass user), exactly what
 *    redis-server decides for a new connection. Redis keeps a connection's identity when an AUTH
 *    fails, so a failed AUTH never changes whom a shared connection acts for.
 * 3. Anything that changes or depends on connection state (MULTI, SELECT, CLIENT, blocking and
 *    pub/sub commands, HELLO, inline commands, commands over 1 MiB, unparseable input) moves the
 *    client to a dedicated shard connection of its own ("pinned"), once its shared replies are all
 *    delivered: from then on it is relayed byte for byte, as if there were no multiplexing.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeAnswer, type ConfigAnswer } from './config-link.js';
import { whenSent } from './fin-gate.js';
import { NOPROTO } from './handshake.js';
import type { Target } from './protocol.js';
import { LONG_NAME, ReplyScanner, RequestScanner } from './resp-scan.js';

/** Counters of one command name: requests, replies matched, µs summed over the matched ones. */
export type CommandCounter = [number, number, number];

/** What the endpoint tells a pool: where to connect, limits, policy, and how to count. */
export interface MuxHost {
  readonly target: Target;
  /** Shard connections per identity (bdb `conns`). */
  readonly conns: number;
  /** Commands in flight per client before its reading pauses (bdb `max_client_pipeline`). */
  readonly maxClientPipeline: number;
  /** Commands in flight per shard connection before its clients pause (bdb `max_pipelined`). */
  readonly maxPipelined: number;
  /** false: HELLO 3 is answered -NOPROTO. */
  readonly resp3: boolean;
  /** How a client is given one of its identity's shard connections (bdb `sched_policy`). */
  readonly schedPolicy: SchedPolicy;
  counter(name: string): CommandCounter;
  /** Bytes forwarded client → shard and shard → client on shared connections. */
  countBytes(toShard: number, toClient: number): void;
  /**
   * Move `client` to a dedicated connection: `initial` are its bytes not yet forwarded; `auth` and
   * `proto` what its shared connection was, `name` the name the proxy kept for it (replayed first);
   * `wrote`: it sent commands on a shared connection, which may have written (see MuxClient.wrote).
   */
  pin(client: net.Socket, initial: Buffer[], auth: Credentials | null, ended: boolean, proto: Proto, name: Buffer | null, wrote: boolean): void;
  /** Clients' CONFIG GET/SET/REWRITE are the manager's to answer (config-link.ts); false: Redis answers. */
  readonly configurable: boolean;
  /** Ask the manager about CONFIG `args` (subcommand first) from a client signed in as `user`. */
  config(user: string, args: string[]): Promise<ConfigAnswer>;
  debug(msg: string, extra?: Record<string, unknown>): void;
}

/** The CONFIG subcommands the manager answers when the endpoint has a config socket (the others go to Redis). */
const MANAGER_CONFIG = new Set(['get', 'set', 'rewrite']);

/** bdb sched_policy (objects/bdb): cmp, mru, spread, mnp. */
export type SchedPolicy = 'cmp' | 'mru' | 'spread' | 'mnp';

export interface Credentials {
  user: string;
  pass: Buffer;
}

/** Commands that change or depend on the state of their connection, or may not reply at once. */
const PIN = new Set([
  'hello', 'select', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'client', 'reset',
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'monitor',
  'blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'xread', 'xreadgroup',
  'wait', 'waitaof', 'readonly', 'readwrite', 'asking', 'sync', 'psync', 'replconf', 'debug', 'shutdown', 'failover',
  LONG_NAME,
]);
/**
 * Whether a command may go on a shared shard connection, by its name and, for the few where that
 * decides, its subcommand (`sub`, read only then). CLIENT SETINFO (sent by most client libraries as
 * they connect) only labels the connection in CLIENT LIST, and a shared connection is the proxy's: it
 * may go there, so that such clients are multiplexed too; every other CLIENT subcommand is about the
 * client's own connection. SCRIPT KILL and FUNCTION KILL go on a connection of their own: the shared
 * one may be the very connection whose script runs, which Redis does not read until the script ends,
 * so a kill sent there would wait for what it is meant to stop (and the database could not be
 * recovered through its endpoint). Sent alone, Redis takes them while busy, as it takes AUTH.
 */
function shareable(name: string, sub: () => string | undefined): boolean {
  if (name === 'client') return sub() === 'setinfo';
  if (name === 'script' || name === 'function') {
    const v = sub(); // not known yet (split across reads): decided once the command is whole
    return v !== undefined && v !== 'kill';
  }
  return !PIN.has(name) && name !== 'auth' && name !== 'quit';
}

/** A command still incomplete beyond this many bytes is not held back: the client is pinned. */
const MAX_PARTIAL = 1024 * 1024;
/** Reading from a client pauses while this much of its replies waits to be sent. */
const CLIENT_OUT_HIGH = 4 * 1024 * 1024;
/**
 * A client whose unread replies exceed this is closed (Redis's client-output-buffer-limit, for a proxy that
 * serves every database of the node). Its replies still in flight are read from the shard and dropped.
 */
const CLIENT_OUT_MAX = 512 * 1024 * 1024;
/** onCommand's stop marker for a client at max_client_pipeline (not a command name: those are lower-case words). */
const PIPELINE_FULL = '(pipeline)';
/** Clients of a shard connection pause while this much waits to be written to the shard. */
const SHARD_OUT_HIGH = 4 * 1024 * 1024;
/** An unused shard connection is closed after this long. */
const IDLE_MS = 10_000;
/**
 * A shard connection whose oldest reply has been owed this long is not given to another client: it may be
 * the connection of a long script, which Redis does not read until the script ends, and a client bound
 * there would wait for it, where on a connection of its own Redis answers it (-BUSY after
 * busy-reply-threshold, as a direct client is answered).
 */
const STALLED_MS = 1_000;
const CONNECT_TIMEOUT_MS = 5_000;

const OK = Buffer.from('+OK\r\n');
const CRLF = Buffer.from('\r\n');
const NULL2 = Buffer.from('$-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const BAD_NAME = Buffer.from('-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
/** FIFO entry kinds: a client's command; the anonymous-access check; a client's AUTH. */
const K_CMD = 0;
const K_CHECK = 1;
const K_AUTH = 2;
/** A RESP3 client's one-argument AUTH, sent as it is just before its HELLO 3 AUTH (runSpecial). */
const K_AUTH1 = 3;

/** RESP version of a connection: 2 until a HELLO 3. */
export type Proto = 2 | 3;
/**
 * One key, one identity and protocol: unambiguous for any bytes in user or password
 * (length-prefixed). Anonymous connections are `2|` and `3|`.
 */
const keyOf = (c: Credentials | null, proto: Proto) => (c ? `${proto}|${c.user.length}:${c.user}${c.pass.toString('latin1')}` : `${proto}|`);

/** RESP for one command. */
export function encode(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Where the command starting at or after `pos` begins (Redis skips empty lines between commands). */
export function skipBlank(buf: Buffer, pos: number): number {
  while (pos < buf.length && (buf[pos] === 0x0d || buf[pos] === 0x0a)) pos++;
  return pos;
}

/** Commands the proxy takes apart (AUTH, HELLO, CLIENT, CONFIG...) have at most this many arguments; longer ones go to a connection of their own. */
const MAX_ARGS = 1024;

/** The arguments of the one complete multibulk command in `buf`; null if it is not one. */
export function parseCommand(buf: Buffer): Buffer[] | null {
  let pos = skipBlank(buf, 0);
  const line = (): string | null => {
    const nl = buf.indexOf(10, pos);
    if (nl < 1 || buf[nl - 1] !== 13) return null;
    const s = buf.toString('latin1', pos, nl - 1);
    pos = nl + 1;
    return s;
  };
  const head = line();
  if (!head || head[0] !== '*') return null;
  const n = Number(head.slice(1));
  if (!Number.isInteger(n) || n < 1 || n > MAX_ARGS) return null;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const h = line();
    if (!h || h[0] !== '$') return null;
    const len = Number(h.slice(1));
    if (!Number.isInteger(len) || len < 0 || pos + len + 2 > buf.length) return null;
    out.push(buf.subarray(pos, pos + len));
    pos += len + 2;
  }
  return out;
}

let useClock = 0;
const EMPTY = Buffer.alloc(0);

/** One shard connection shared by clients of one identity. */
class ShardConn {
  readonly sock: net.Socket;
  /** Clients bound to it; it closes when none is left and nothing is in flight. */
  bound = 0;
  /** When it was last written to (a counter, for sched_policy mru). */
  lastUsed = 0;
  closed = false;
  private readonly scanner = new ReplyScanner(() => this.onReply());
  // The FIFO, as parallel arrays from `head`: one entry per run of commands a client sent at once
  // (`left` of its replies still to come, `lists` their counters), or per AUTH/HELLO/check.
  private owners: (MuxClient | null)[] = [];
  private kinds: number[] = [];
  private lists: (CommandCounter[] | null)[] = [];
  private left: number[] = [];
  private times: number[] = [];
  private head = 0;
  /** Replies owed, over all entries. */
  private pending = 0;
  private out: Buffer[] = [];
  private flushScheduled = false;
  // Routing state while a chunk is scanned.
  private chunk: Buffer = EMPTY;
  private replyStart = 0;
  private runOwner: MuxClient | null = null;
  private runStart = 0;
  private carry: Buffer[] = [];
  private now = 0;
  private stray = false;
  private touched = new Set<MuxClient>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Clients paused because this connection is loaded. */
  readonly waiters = new Set<MuxClient>();

  constructor(
    readonly pool: Pool,
    readonly key: string,
  ) {
    const { host, port, socket } = pool.host.target;
    this.sock = socket ? net.connect({ path: socket }) : net.connect({ host, port, noDelay: true, keepAlive: true });
    const timer = setTimeout(() => this.sock.destroy(new Error('connect timed out')), CONNECT_TIMEOUT_MS);
    this.sock.once('connect', () => clearTimeout(timer));
    this.sock.on('data', (chunk: Buffer) => this.onData(chunk));
    this.sock.on('drain', () => this.wakeWaiters());
    this.sock.on('error', (err) => pool.host.debug('shard connection error', { err: err.message }));
    this.sock.on('close', () => {
      clearTimeout(timer);
      this.fail('shard connection closed');
    });
  }

  get inflight(): number {
    return this.pending;
  }

  /** Its oldest reply has been owed for STALLED_MS or more (see there). */
  stalled(now: number): boolean {
    return this.pending > 0 && this.head < this.times.length && now - this.times[this.head]! >= STALLED_MS;
  }

  get loaded(): boolean {
    return this.inflight >= this.pool.host.maxPipelined || this.sock.writableLength > SHARD_OUT_HIGH;
  }

  /** Queue `bytes` (whole commands) for the shard; `n` entries are added by the caller. */
  write(bytes: Buffer): void {
    this.lastUsed = ++useClock;
    this.out.push(bytes);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything the clients sent in this turn of the event loop goes out in one write.
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    // After a client's FIN on its way (fin-gate.ts): these commands may have been read after it.
    if (whenSent(this.flush)) return;
    this.flushScheduled = false;
    if (this.closed || !this.out.length) return;
    const out = this.out;
    this.out = [];
    this.sock.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  };

  /** `n` replies are owed to `owner`: one per counter in `list` (K_CMD), else one. */
  push(owner: MuxClient | null, kind: number, list: CommandCounter[] | null, now: number, n = 1): void {
    this.owners.push(owner);
    this.kinds.push(kind);
    this.lists.push(list);
    this.left.push(n);
    this.times.push(now);
    this.pending += n;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  unbind(): void {
    this.bound--;
    this.maybeIdle();
  }

  private maybeIdle(): void {
    if (this.closed || this.bound > 0 || this.inflight > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      if (this.bound === 0 && this.inflight === 0) this.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  close(): void {
    this.sock.destroy();
    this.fail('closed');
  }

  /** The connection is gone: its clients lose their in-flight replies, so they are closed too. */
  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.pool.forget(this);
    for (let i = this.head; i < this.owners.length; i++) this.owners[i]?.lost(why);
    for (const c of this.pool.clientsOf(this)) {
      // Held (a shard restarting in place, for an upgrade), a client owed nothing keeps its connection to the
      // proxy: unbound, it is bound afresh to the shard's next process on release, as on a retarget.
      if (this.pool.holding && !c.finished) c.unbindForRetarget();
      else c.lost(why);
    }
    this.owners = [];
    this.waiters.clear();
    if (this.pool.holding) this.pool.noteProgress();
  }

  private onData(chunk: Buffer): void {
    this.now = performance.now();
    this.chunk = chunk;
    this.replyStart = 0;
    this.runOwner = null;
    this.runStart = 0;
    this.scanner.feed(chunk);
    if (this.scanner.dead || this.stray) {
      this.sock.destroy();
      this.fail(this.stray ? 'reply without a request' : 'reply not RESP');
      return;
    }
    const len = chunk.length;
    if (this.replyStart < len) {
      // The start of a reply that continues in the next chunk.
      const i = this.head;
      if (i >= this.owners.length) {
        this.sock.destroy();
        this.fail('reply without a request');
        return;
      }
      if (this.kinds[i] === K_CMD) {
        this.startRun(this.owners[i]!);
      } else {
        this.flushRun(this.replyStart);
        this.carry.push(chunk.subarray(this.replyStart));
        this.runOwner = null;
        this.runStart = len;
      }
    }
    this.flushRun(len);
    this.pool.host.countBytes(0, len);
    this.chunk = EMPTY;
    if (this.head === this.owners.length) {
      this.head = 0;
      this.owners.length = 0;
      this.kinds.length = 0;
      this.lists.length = 0;
      this.left.length = 0;
      this.times.length = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.owners.length) {
      const h = this.head;
      this.owners.splice(0, h);
      this.kinds.splice(0, h);
      this.lists.splice(0, h);
      this.left.splice(0, h);
      this.times.splice(0, h);
      this.head = 0;
    }
    // Only now, with every reply of this chunk handed on: clients may act on them.
    this.lastTouched = null;
    for (const c of this.touched) c.settle();
    this.touched.clear();
    this.wakeWaiters();
    this.maybeIdle();
    if (this.pool.holding) this.pool.noteProgress();
  }

  private onReply(): void {
    const end = this.scanner.at;
    const i = this.head;
    if (i >= this.owners.length) {
      this.stray = true;
      return;
    }
    const owner = this.owners[i]!;
    const kind = this.kinds[i]!;
    if (kind === K_CMD) {
      // A run of consecutive replies to one client is sent with one write.
      if (owner !== this.runOwner) this.startRun(owner);
      const list = this.lists[i];
      if (list) {
        const c = list[list.length - this.left[i]!]!;
        c[1]++;
        c[2] += (this.now - this.times[i]!) * 1000;
      }
    } else {
      this.flushRun(this.replyStart);
      const part = this.chunk.subarray(this.replyStart, end);
      const reply = this.carry.length ? Buffer.concat([...this.carry, part]) : part;
      this.carry = [];
      this.runOwner = null;
      this.runStart = end;
      owner?.internalReply(kind, reply, this);
    }
    this.pending--;
    if (--this.left[i]! === 0) {
      this.owners[i] = null;
      this.lists[i] = null;
      this.head++;
    }
    this.replyStart = end;
    if (owner) {
      owner.inflight--;
      // Replies to one client come in runs: one Set insertion per run, not per reply.
      if (owner !== this.lastTouched) {
        this.lastTouched = owner;
        this.touched.add(owner);
      }
    }
  }

  private lastTouched: MuxClient | null = null;

  private startRun(owner: MuxClient | null): void {
    this.flushRun(this.replyStart);
    this.runOwner = owner;
    this.runStart = this.replyStart;
  }

  private flushRun(end: number): void {
    const o = this.runOwner;
    if (o && end > this.runStart) o.deliver(this.chunk.subarray(this.runStart, end));
    this.runStart = end;
  }

  private wakeWaiters(): void {
    if (!this.waiters.size || this.loaded) return;
    for (const c of this.waiters) c.flow();
  }
}

/**
 * An AUTH or HELLO in flight for a client: where it binds the client if it succeeds. `rebind`: the
 * proxy's own AUTH/HELLO that moves a client, with the identity and protocol it already had, to a
 * connection to a new target (Pool.release); its reply is not the client's.
 */
interface PendingSwitch {
  kind: 'auth' | 'hello' | 'rebind';
  creds: Credentials | null;
  proto: Proto;
  /** The client's own command. */
  original: Buffer;
  /** The client gave these credentials itself (not carried over from an earlier AUTH). */
  explicit: boolean;
  /** HELLO's SETNAME: the client's name once it succeeds (null clears it); undefined: unchanged. */
  name?: Buffer | null;
}

/**
 * HELLO <2|3> [AUTH user pass] [SETNAME name], options in any order (the last of a repeated one counts, as
 * in Redis): what a shared connection can take, the name being the proxy's to keep (ownName); null for
 * anything else (no version, an unknown option, a name Redis would refuse), which goes to a connection of
 * its own, where Redis answers it.
 */
function parseHello(args: Buffer[]): { proto: Proto; auth: Credentials | null; name: Buffer | null | undefined } | null {
  const v = args[1]?.toString('latin1');
  if (v !== '2' && v !== '3') return null;
  let auth: Credentials | null = null;
  let name: Buffer | null | undefined;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toString('latin1').toLowerCase();
    if (opt === 'auth' && i + 2 < args.length) {
      auth = { user: args[i + 1]!.toString('latin1'), pass: Buffer.from(args[i + 2]!) };
      i += 2;
    } else if (opt === 'setname' && i + 1 < args.length && validName(args[i + 1]!)) {
      name = args[i + 1]!.length ? Buffer.from(args[i + 1]!) : null;
      i += 1;
    } else {
      return null;
    }
  }
  return { proto: v === '3' ? 3 : 2, auth, name };
}

/** A command's subcommand (its first argument), lower case. */
function subOf(args: Buffer[]): string | undefined {
  return args[1]?.toString('latin1').toLowerCase();
}

/** Redis's rule for client names: printable ASCII without spaces. */
function validName(name: Buffer): boolean {
  return !name.some((b) => b < 0x21 || b > 0x7e);
}

/** Random, so that only a passwordless `default` user accepts it. */
const CHECK_PASSWORD = randomBytes(24).toString('hex');
const CHECK_COMMAND = encode(['AUTH', 'default', CHECK_PASSWORD]);

/**
 * `HELLO <proto> AUTH` with `creds`; for an anonymous client `default` and the random check password,
 * which only a passwordless default user accepts (what Redis decides for a new connection).
 */
const helloAuth = (proto: Proto, creds: Credentials | null) =>
  encode(['HELLO', String(proto), 'AUTH', creds ? Buffer.from(creds.user, 'latin1') : 'default', creds ? creds.pass : CHECK_PASSWORD]);

/** The shard connections of one endpoint, by identity. */
export class Pool {
  private readonly conns = new Map<string, ShardConn[]>();
  private readonly clients = new Set<MuxClient>();
  /** Between hold() and release(): nothing new goes to the shard, the clients' bytes wait here. */
  holding = false;
  private drainWaiters: (() => void)[] = [];

  constructor(readonly host: MuxHost) {}

  /** Serve `sock` from the shared connections. */
  attach(sock: net.Socket): void {
    const c = new MuxClient(this, sock);
    this.clients.add(c);
    sock.once('close', () => this.clients.delete(c));
  }

  /**
   * A connection of identity `key` for a client, by `sched_policy` (RS applies it per request; a
   * multiplexed client here keeps the connection it was given, so its replies stay in order):
   * - cmp (RS's default), "closest to max_pipelined": the busiest connection still under
   *   max_pipelined; a new one only when every one is at the limit. Fewest shard connections.
   * - mru: the connection used last, while under max_pipelined.
   * - mnp, "minimal pipeline": the connection with the fewest commands in flight; a new one when
   *   every one has some.
   * - spread, "use all connections": a new one while fewer than `conns` exist, else the least used.
   * At most `conns` connections per identity in any case.
   */
  connFor(key: string): ShardConn {
    let list = this.conns.get(key);
    if (!list) this.conns.set(key, (list = []));
    const room = list.length < Math.max(1, this.host.conns);
    const open = () => {
      const conn = new ShardConn(this, key);
      list.push(conn);
      return conn;
    };
    const max = this.host.maxPipelined;
    const load = (c: ShardConn) => c.inflight + c.bound;
    const now = performance.now();
    let pick: ShardConn | undefined;
    // A stalled connection is taken only when no other may be opened (at `conns`: the least loaded, below).
    const usable = room && list.some((c) => c.stalled(now)) ? list.filter((c) => !c.stalled(now)) : list;
    switch (this.host.schedPolicy) {
      case 'cmp':
        for (const c of usable) if (c.inflight < max && (!pick || load(c) > load(pick))) pick = c;
        break;
      case 'mru':
        for (const c of usable) if (c.inflight < max && (!pick || c.lastUsed > pick.lastUsed)) pick = c;
        break;
      case 'mnp':
        for (const c of usable) if (!pick || load(c) < load(pick)) pick = c;
        if (pick && load(pick) > 0 && room) pick = undefined;
        break;
      case 'spread':
        if (!room) for (const c of usable) if (!pick || c.bound < pick.bound) pick = c;
        break;
    }
    if (pick) return pick;
    if (room) return open();
    // Every connection is at a limit: the least loaded one.
    let best = list[0]!;
    for (const c of list) if (load(c) < load(best)) best = c;
    return best;
  }

  forget(conn: ShardConn): void {
    const list = this.conns.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.conns.delete(conn.key);
  }

  clientsOf(conn: ShardConn): MuxClient[] {
    return [...this.clients].filter((c) => c.conn === conn);
  }

  /** Close the clients that switched to RESP3 (RESP3 support was turned off). */
  dropResp3(): number {
    let n = 0;
    for (const c of this.clients) {
      if (c.proto !== 3) continue;
      c.lost('RESP3 switched off');
      n++;
    }
    return n;
  }

  /** Stop sending to the shard: what clients send from now on waits, in order, until release(). */
  hold(): void {
    this.holding = true;
    for (const c of this.clients) c.flow();
  }

  /** No reply is owed on any shard connection. */
  get idle(): boolean {
    for (const list of this.conns.values()) for (const c of list) if (c.inflight > 0) return false;
    return true;
  }

  /** Resolves true once idle (every reply in flight was handed on), false if that takes over `ms`. */
  drained(ms: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        resolve(ok);
      };
      const waiter = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.drainWaiters.push(waiter);
    });
  }

  /** Replies were handed on, or a connection closed, while holding. */
  noteProgress(): void {
    if (!this.drainWaiters.length || !this.idle) return;
    for (const w of [...this.drainWaiters]) w();
  }

  /**
   * Send again. `retarget` (only when idle): the host's target changed, so the shard connections
   * are closed without their clients, which keep their connection to the proxy and are bound
   * afresh, with the identity and protocol they had, to connections to the new target.
   */
  release(retarget: boolean): void {
    this.holding = false;
    if (retarget) {
      for (const c of this.clients) c.unbindForRetarget();
      this.closeAll();
    }
    for (const c of [...this.clients]) c.settle();
  }

  /** Close every shard connection (their clients with them). */
  closeAll(): void {
    for (const list of [...this.conns.values()]) for (const c of [...list]) c.close();
  }

  get size(): number {
    let n = 0;
    for (const list of this.conns.values()) n += list.length;
    return n;
  }
}

/** One client connection served from shared shard connections, until it is pinned. */
class MuxClient {
  /** The shard connection it is bound to; null before its first command. */
  conn: ShardConn | null = null;
  inflight = 0;
  private creds: Credentials | null = null;
  /** The protocol of its shared connections (HELLO). */
  proto: Proto = 2;
  /**
   * It sent commands other than CLIENT SETINFO on a shared connection. Redis's WAIT waits for the
   * replication offset of the last write made on the client's own connection (`woff`), so a
   * connection of its own (pin) must first be brought past those writes (Endpoint.pin).
   */
  private wrote = false;
  /** CLIENT SETNAME, kept by the proxy (ownName). */
  private clientName: Buffer | null = null;
  private readonly scanner: RequestScanner;
  /** Bytes of the command not yet complete, carried from earlier chunks. */
  private partial: Buffer[] = [];
  private partialLen = 0;
  /** Bytes received while waiting (for replies in flight, an AUTH, the anonymous check). */
  private held: Buffer[] = [];
  /** What is being waited for before the held bytes are looked at again. */
  private wait: null | 'drain-then-special' | 'auth' | 'check' | 'config' = null;
  private special: { name: string; inline: boolean; dead: boolean } | null = null;
  private done = false;
  private ended = false;
  private paused = false;
  // Scan state of the chunk being processed.
  private chunk: Buffer = EMPTY;
  private runEnd = 0;
  /** The counter of the last command name seen: pipelines mostly repeat one command. */
  private lastName = '';
  private lastCounter: CommandCounter | null = null;
  private runCounters: CommandCounter[] = [];
  private stopName: { name: string; inline: boolean } | null = null;
  /** Commands this client may still have in flight (max_client_pipeline), set per chunk. */
  private room = 0;

  constructor(
    private readonly pool: Pool,
    private readonly sock: net.Socket,
  ) {
    this.scanner = new RequestScanner((name) => this.onCommand(name));
    sock.on('data', this.onData);
    sock.on('end', this.onEnd);
    sock.on('drain', () => this.flow());
    sock.once('close', () => this.gone());
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    if (this.wait || this.held.length || this.pool.holding) {
      this.held.push(chunk);
      this.flow();
      return;
    }
    this.process(chunk);
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.maybeFinish();
  };

  /** Forward the whole commands of `chunk` that may share a connection; stop at the first that may not. */
  private process(chunk: Buffer): void {
    if (this.conn && this.inflight === 0 && this.conn.stalled(performance.now())) this.moveOffStalled(this.conn);
    this.chunk = chunk;
    this.runEnd = 0;
    // No reply can arrive while a chunk is scanned: the room left in the pipeline is fixed meanwhile.
    this.room = this.pool.host.maxClientPipeline - this.inflight;
    if (this.runCounters.length) this.runCounters = [];
    this.stopName = null;
    this.scanner.feed(chunk);
    const dead = this.scanner.dead;
    const n = this.runCounters.length;
    if (n > 0) {
      const conn = this.conn!;
      const head = this.runEnd === chunk.length ? chunk : chunk.subarray(0, this.runEnd);
      const bytes = this.partial.length ? Buffer.concat([...this.partial, head]) : head;
      this.partial = [];
      this.partialLen = 0;
      const list = this.runCounters;
      for (const c of list) c[0]++;
      // CLIENT on a shared connection is CLIENT SETINFO, which writes nothing; anything else may have.
      if (!this.wrote) this.wrote = list.some((c) => c !== this.pool.host.counter('client'));
      // The list goes with the FIFO entry; the next chunk starts a new one.
      this.runCounters = [];
      conn.push(this, K_CMD, list, performance.now(), n);
      this.inflight += n;
      conn.write(bytes);
      this.pool.host.countBytes(bytes.length, 0);
    }
    // Set by onCommand during feed(), which the compiler cannot see.
    const stopped = this.stopName as { name: string; inline: boolean } | null;
    if (stopped || dead) {
      // The special command (or the unparseable rest) and everything after it wait.
      const rest = chunk.subarray(this.runEnd);
      this.held.unshift(...this.partial, rest);
      this.partial = [];
      this.partialLen = 0;
      this.special = { name: stopped?.name ?? '', inline: stopped?.inline ?? false, dead };
      this.wait = 'drain-then-special';
      this.settle();
      return;
    }
    if (this.runEnd < chunk.length) {
      this.partial.push(this.runEnd === 0 ? chunk : chunk.subarray(this.runEnd));
      this.partialLen += chunk.length - this.runEnd;
      if (this.partialLen > MAX_PARTIAL) {
        this.held.unshift(...this.partial);
        this.partial = [];
        this.partialLen = 0;
        this.special = { name: '', inline: false, dead: true };
        this.wait = 'drain-then-special';
        this.settle();
        return;
      }
    }
    this.flow();
  }

  /**
   * The client's connection owes a reply for STALLED_MS (a runaway script, a slow command of another
   * client): with nothing in flight of its own, the client moves to another connection of its identity,
   * as a client that connects now would (Pool.connFor), so that Redis answers it (-BUSY during a script)
   * instead of it waiting behind the stalled one.
   */
  private moveOffStalled(from: ShardConn): void {
    const to = this.pool.connFor(from.key);
    if (to === from) return;
    from.waiters.delete(this);
    from.unbind();
    to.bound++;
    this.conn = to;
  }

  /** RequestScanner callback: continue (true) with a command that may share a connection. */
  private onCommand(name: string): boolean {
    // max_client_pipeline: no more of this client's commands in flight at once; the rest waits for replies.
    if (this.conn && this.runCounters.length >= this.room) {
      this.stopName = { name: PIPELINE_FULL, inline: false };
      return false;
    }
    if (!this.scanner.inline && this.conn && shareable(name, () => this.subcommand()) && !this.forManager(name)) {
      if (name !== this.lastName || !this.lastCounter) {
        this.lastName = name;
        this.lastCounter = this.pool.host.counter(name);
      }
      this.runCounters.push(this.lastCounter);
      this.runEnd = this.scanner.at;
      return true;
    }
    this.stopName = { name, inline: this.scanner.inline };
    return false;
  }

  /** A CONFIG the manager answers (askConfig), or one whose subcommand is in a later chunk: not forwarded. */
  private forManager(name: string): boolean {
    if (name !== 'config' || !this.pool.host.configurable) return false;
    // Started in an earlier chunk, or too long to look at here: looked at whole (runSpecial), where a
    // CONFIG that is not the manager's goes on to Redis (or to a connection of its own).
    const args = this.scannedArgs();
    if (!args) return true;
    return args.length > 1 && MANAGER_CONFIG.has(subOf(args)!);
  }

  /** The subcommand (lower case) of the command just scanned; undefined when it is not all in this chunk. */
  private subcommand(): string | undefined {
    const args = this.scannedArgs();
    return args ? subOf(args) : undefined;
  }

  /** The arguments of the command just scanned; null when it starts in an earlier chunk or cannot be taken apart. */
  private scannedArgs(): Buffer[] | null {
    if (this.partial.length && this.runCounters.length === 0) return null;
    return parseCommand(this.chunk.subarray(this.runEnd, this.scanner.at));
  }

  /** Called when replies were handed on, or a wait may be over. */
  settle(): void {
    if (this.done) return;
    if (this.pool.holding) {
      // Nothing goes to the shard until release(), which settles every client again.
      this.flow();
      this.maybeFinish();
      return;
    }
    if (this.wait === 'drain-then-special' && this.inflight === 0) {
      this.wait = null;
      this.runSpecial();
    }
    if (!this.wait && this.held.length) this.resume();
    this.flow();
    this.maybeFinish();
  }

  /** Look at the held bytes again, now that nothing is awaited. */
  private resume(): void {
    while (!this.wait && !this.done && this.held.length) {
      const next = this.held.shift()!;
      if (next.length) this.process(next);
    }
  }

  /** The first held command could not go on a shared connection: act on it. */
  private runSpecial(): void {
    const sp = this.special!;
    this.special = null;
    // Replies to the full pipeline are all in: the held commands are looked at again (settle).
    if (sp.name === PIPELINE_FULL) return;
    if (sp.dead || sp.inline) return this.pinNow();
    const cmd = this.takeCommand();
    if (!cmd) return this.pinNow();
    const { bytes, args } = cmd;
    const sub = subOf(args) ?? '';
    // Answered by the proxy (CLIENT SETNAME/GETNAME, SELECT 0) or by the manager (CONFIG), but only for a client
    // whose identity was checked (Redis answers NOAUTH before anything else): one bound to no connection yet is
    // bound first, then its command looked at again.
    const selectZero = sp.name === 'select' && args.length === 2 && sub === '0';
    const managed = sp.name === 'config' && this.pool.host.configurable && MANAGER_CONFIG.has(sub);
    const maint = sp.name === 'client' && sub === 'maint_notifications';
    if ((selectZero || managed || maint || (sp.name === 'client' && (sub === 'setname' || sub === 'getname'))) && !this.conn) {
      this.held.unshift(bytes);
      return this.bind();
    }
    if (maint) {
      // RS's maintenance notifications are the proxy's (redis-server has no such subcommand); openrs sends none
      // (client_maint_notifications is off). Clients that ask on every connection (redis-py 8, go-redis 9.15+ in
      // their `auto` mode) get redis-server's own answer, and fall back, without a shard connection each.
      this.pool.host.counter('client')[0]++;
      this.deliver(Buffer.from(`-ERR unknown subcommand '${args[1]!.subarray(0, 128).toString('latin1')}'. Try CLIENT HELP.\r\n`, 'latin1'));
      return;
    }
    if (sp.name === 'client' && this.ownName(args)) return;
    if (managed) return this.askConfig(args);
    // RS keeps one database per endpoint, and SELECT "does not perform any operations" there
    // (compatibility/commands/connection.md): SELECT 0, which some libraries send on every
    // connection, is answered here and the client stays multiplexed. Another index goes to Redis.
    if (selectZero) {
      this.pool.host.counter('select')[0]++;
      this.deliver(OK);
      return;
    }
    if (sp.name === 'quit') {
      this.pool.host.counter('quit')[0]++;
      this.done = true;
      this.sock.end(OK);
      return;
    }
    if (sp.name === 'hello') {
      const hello = parseHello(args);
      if (hello?.proto === 3 && !this.pool.host.resp3) {
        this.pool.host.counter('hello')[0]++;
        this.deliver(NOPROTO);
        return;
      }
      // HELLO without a version, with SETNAME, or with anything unexpected: a connection of its own.
      if (!hello) {
        this.held.unshift(bytes);
        return this.pinNow();
      }
      // Sent with credentials, so that a new shared connection of that identity and protocol acts for
      // them; an anonymous client's HELLO carries AUTH default <random>, which only a passwordless
      // default user accepts (what Redis decides for a new connection).
      const creds = hello.auth ?? this.creds;
      const sent = helloAuth(hello.proto, creds);
      return this.switchTo({ kind: 'hello', creds, proto: hello.proto, original: bytes, explicit: hello.auth !== null, name: hello.name }, sent);
    }
    if (sp.name === 'auth' && (args.length === 2 || args.length === 3)) {
      const creds: Credentials = args.length === 2 ? { user: 'default', pass: Buffer.from(args[1]!) } : { user: args[1]!.toString('latin1'), pass: Buffer.from(args[2]!) };
      // A RESP3 client's AUTH goes to a RESP3 connection of those credentials: as HELLO 3 AUTH, answered +OK.
      // `AUTH <password>` goes first as it is: Redis refuses it while the default user has no password, where
      // HELLO 3 AUTH default <password> succeeds (a nopass user takes any password); its refusal is the answer.
      const sent = this.proto === 3 ? helloAuth(3, creds) : bytes;
      const first = this.proto === 3 && args.length === 2 ? bytes : null;
      return this.switchTo({ kind: 'auth', creds, proto: this.proto, original: bytes, explicit: true }, sent, first);
    }
    this.held.unshift(bytes);
    if (!shareable(sp.name, () => subOf(args))) return this.pinNow();
    // Shareable after all (it arrived split across reads): forwarded when the held bytes are looked at again.
    if (this.conn) return;
    this.bind();
  }

  /** Bind a client that is bound to no shared connection yet; its held bytes are looked at once it is. */
  private bind(): void {
    // Moved to a new target (Pool.release) with an identity or protocol of its own: bound again as it was.
    if (this.creds || this.proto === 3) return this.rebind();
    // A command that may share a connection, from a client bound to none yet: check first.
    this.sendInternal(this.pool.connFor(keyOf(null, this.proto)), K_CHECK, CHECK_COMMAND, 'check');
  }

  /**
   * CONFIG GET/SET/REWRITE: answered by the manager, with the identity of the client's shared connection
   * (controller/client-config.ts); the client's later commands wait for the answer, as they would for Redis's.
   */
  private askConfig(args: Buffer[]): void {
    this.pool.host.counter('config')[0]++;
    this.wait = 'config';
    const user = this.creds?.user ?? 'default';
    void this.pool.host.config(user, args.slice(1).map((a) => a.toString('utf8'))).then((answer) => {
      if (this.closed || this.done) return;
      this.wait = null;
      this.deliver(encodeAnswer(answer, this.proto));
      this.settle();
    });
  }

  /**
   * CLIENT SETNAME / GETNAME, answered by the proxy for a multiplexed client (which therefore stays
   * multiplexed: client libraries name their connections as they open them). The name labels the
   * client's connection to the proxy; a shared shard connection is no one's to name. True when answered.
   */
  private ownName(args: Buffer[]): boolean {
    const sub = subOf(args);
    if (sub === 'getname' && args.length === 2) {
      this.pool.host.counter('client')[0]++;
      const name = this.clientName;
      this.deliver(name ? Buffer.concat([Buffer.from(`$${name.length}\r\n`), name, CRLF]) : this.proto === 3 ? NULL3 : NULL2);
      return true;
    }
    if (sub !== 'setname' || args.length !== 3) return false;
    this.pool.host.counter('client')[0]++;
    const name = args[2]!;
    // Redis's own rule and message: printable ASCII without spaces.
    if (!validName(name)) {
      this.deliver(BAD_NAME);
      return true;
    }
    this.clientName = name.length ? Buffer.from(name) : null;
    this.deliver(OK);
    return true;
  }

  /**
   * Bind the client, after a change of target, to a connection of the identity and protocol it had:
   * its credentials proved again there (AUTH, or HELLO 3 AUTH; an anonymous RESP3 client's HELLO
   * carries the anonymous check). The reply is the proxy's, not the client's; if the new target
   * refuses, the client is closed, as a pinned client whose replayed AUTH fails is.
   */
  private rebind(): void {
    const c = this.creds;
    const sent = this.proto === 3 ? helloAuth(3, c) : c ? encode(['AUTH', Buffer.from(c.user, 'latin1'), c.pass]) : CHECK_COMMAND;
    this.pending = { kind: 'rebind', creds: c, proto: this.proto, original: EMPTY, explicit: false };
    this.sendInternal(this.pool.connFor(keyOf(c, this.proto)), K_AUTH, sent, 'auth');
  }

  /** Pool.release with a new target: the shard connection goes, the client stays (rebind()). */
  unbindForRetarget(): void {
    if (!this.conn) return;
    this.conn.waiters.delete(this);
    this.conn.unbind();
    this.conn = null;
  }

  /**
   * Send `sent` (an AUTH or HELLO with credentials) on a shared connection of `to`'s identity and
   * protocol; the client is bound there if it succeeds (internalReply).
   */
  private switchTo(to: PendingSwitch, sent: Buffer, first: Buffer | null = null): void {
    this.pending = to;
    this.pool.host.counter(to.kind)[0]++;
    const conn = this.pool.connFor(keyOf(to.creds, to.proto));
    if (first) {
      conn.push(this, K_AUTH1, null, performance.now());
      this.inflight++;
      sent = Buffer.concat([first, sent]);
    }
    this.sendInternal(conn, K_AUTH, sent, 'auth');
    this.pool.host.countBytes(sent.length, 0); // the client's AUTH/HELLO, as it counts forwarded commands
  }

  /** Send a command of the proxy's own for this client and wait for its reply (internalReply). */
  private sendInternal(conn: ShardConn, kind: number, bytes: Buffer, wait: 'auth' | 'check'): void {
    this.trying = conn;
    conn.bound++; // held while the command is in flight, so the connection is not closed as idle
    this.wait = wait;
    conn.push(this, kind, null, performance.now());
    this.inflight++;
    conn.write(bytes);
  }

  private pending: PendingSwitch | null = null;
  /** Redis's refusal of a RESP3 client's one-argument AUTH (K_AUTH1): the answer, whatever the HELLO after it got. */
  private auth1Refused: Buffer | null = null;
  /** The connection counted as bound while this client's AUTH, HELLO or check is in flight on it. */
  private trying: ShardConn | null = null;
  private closed = false;

  /** The reply to this client's AUTH, or to its anonymous check. */
  internalReply(kind: number, reply: Buffer, conn: ShardConn): void {
    // A client already gone released its connections then (gone()).
    if (this.closed) return;
    const ok = reply[0] === 0x2b; // '+'
    if (kind === K_AUTH1) {
      if (!ok) this.auth1Refused = Buffer.from(reply);
      return;
    }
    if (kind === K_AUTH) {
      const to = this.pending!;
      this.pending = null;
      this.trying = null;
      this.wait = null;
      const refused = this.auth1Refused;
      if (refused) {
        // Redis's answer to the AUTH itself; the client stays what it was.
        this.auth1Refused = null;
        conn.unbind();
        this.deliver(refused);
        return;
      }
      // AUTH answers +OK; HELLO a map (RESP3) or an array (RESP2).
      const success = to.kind !== 'hello' && to.proto === 2 ? ok : reply[0] === (to.proto === 3 ? 0x25 : 0x2a);
      if (success) {
        if (to.kind !== 'rebind') this.deliver(to.kind === 'auth' ? OK : reply);
        this.conn?.unbind();
        this.conn = conn; // keeps the count taken when the AUTH was sent
        this.creds = to.creds;
        this.proto = to.proto;
        if (to.name !== undefined) this.clientName = to.name;
        return;
      }
      conn.unbind();
      if (to.kind === 'rebind') {
        this.lost('the new target refused its credentials');
        return;
      }
      if (to.explicit) {
        // The client's own credentials were refused: Redis's answer, and nothing changes.
        this.deliver(reply);
        return;
      }
      // A HELLO without AUTH that could not be sent with known credentials: Redis answers it
      // itself, on a connection of the client's own.
      this.held.unshift(to.original);
      this.wait = 'drain-then-special';
      this.special = { name: '', inline: false, dead: true };
      return;
    }
    // K_CHECK
    this.trying = null;
    this.wait = null;
    if (ok) {
      this.conn = conn;
    } else {
      conn.unbind();
      // Not allowed in without AUTH: a connection of its own gives exactly Redis's answers.
      this.wait = 'drain-then-special';
      this.special = { name: '', inline: false, dead: true };
    }
  }

  /** The complete command at the front of the held bytes, taken off them. */
  private takeCommand(): { bytes: Buffer; args: Buffer[] } | null {
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    let end = -1;
    const s = new RequestScanner(() => {
      end = s.at;
      return false;
    });
    s.feed(all);
    if (end < 0) return null;
    const bytes = all.subarray(0, end);
    const args = parseCommand(bytes);
    if (!args) return null;
    this.held = end < all.length ? [all.subarray(end)] : [];
    return { bytes, args };
  }

  /** Hand the client, with everything it sent that was not forwarded, to a dedicated connection. */
  private pinNow(): void {
    this.done = true;
    this.detach();
    const initial = [...this.held, ...this.partial];
    this.held = [];
    this.partial = [];
    this.pool.host.pin(this.sock, initial, this.creds, this.ended, this.proto, this.clientName, this.wrote);
  }

  private detach(): void {
    this.sock.off('data', this.onData);
    this.sock.off('end', this.onEnd);
    // Left paused, if it is: a dedicated connection resumes reading once it listens (pin()).
    this.conn?.waiters.delete(this);
    this.conn?.unbind();
    this.conn = null;
  }

  deliver(bytes: Buffer): void {
    if (this.sock.destroyed) return;
    this.sock.write(bytes);
    // A client that does not read its replies may not make the proxy (every endpoint's) hold them without end.
    if (this.sock.writableLength > CLIENT_OUT_MAX) this.lost(`${this.sock.writableLength} bytes of replies unread (limit ${CLIENT_OUT_MAX})`);
  }

  /** Pause or resume reading from the client as its limits say. */
  flow(): void {
    if (this.done) return;
    const conn = this.conn;
    const connLoaded = conn !== null && conn.loaded;
    const pause =
      this.pool.holding ||
      this.wait !== null ||
      this.held.length > 0 ||
      this.inflight >= this.pool.host.maxClientPipeline ||
      connLoaded ||
      this.sock.writableLength > CLIENT_OUT_HIGH;
    if (connLoaded) conn.waiters.add(this);
    else conn?.waiters.delete(this);
    if (pause !== this.paused) {
      this.paused = pause;
      if (pause) this.sock.pause();
      else this.sock.resume();
    }
  }

  /** The client sent FIN: end its side once everything it asked for was answered. */
  private maybeFinish(): void {
    if (!this.ended || this.done || this.wait || this.held.length || this.inflight > 0) return;
    this.done = true;
    this.detach();
    this.sock.end();
  }

  /** Its shard connection is gone. */
  /** Dropped (lost()) or done: it cannot be bound again. */
  get finished(): boolean {
    return this.done || this.sock.destroyed;
  }

  lost(why: string): void {
    if (this.sock.destroyed) return;
    this.pool.host.debug('dropping client: ' + why);
    this.done = true;
    this.sock.destroy();
  }

  private gone(): void {
    this.closed = true;
    if (this.trying) {
      this.trying.unbind();
      this.trying = null;
    }
    if (this.conn) {
      this.conn.waiters.delete(this);
      this.conn.unbind();
      this.conn = null;
    }
    this.done = true;
  }
}
