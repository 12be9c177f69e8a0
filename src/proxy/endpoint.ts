/**
 * One database endpoint: a TCP listener whose client connections share a few connections to the
 * endpoint's current target shard (mux.ts). A client whose commands need a connection of their
 * own is "pinned": piped byte for byte to a dedicated shard connection, the bytes only scanned
 * (resp-scan.ts) to count requests and time them to their replies.
 *
 * Admission (max_connections, stopped traffic) is decided on the raw accepted socket, before any
 * TLS handshake or shard connection is made. TLS endpoints hand the raw socket to a tls.Server
 * that never listens itself (`emit('connection')`, the documented way to inject a socket), so
 * Node applies handshake timeouts and client-certificate checks exactly as for a listening server.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { ConfigLink } from './config-link.js';
import { endNow, whenSent } from './fin-gate.js';
import { MAX_HANDSHAKE_BYTES, NOPROTO, peekCommand } from './handshake.js';
import { ProxyError, sameTarget, tlsDigest, type EndpointInfo, type EndpointSpec, type EndpointStats, type EndpointTls, type ProbeResult, type RequestClass, type Successor, type Target, type Traffic } from './protocol.js';
import { encode, Pool, skipBlank, type CommandCounter, type Credentials, type MuxHost, type Proto, type SchedPolicy } from './mux.js';
import { LONG_NAME, ReplyScanner, RequestScanner } from './resp-scan.js';

/** An EndpointSpec with every default filled in: what the state file stores. */
export interface ResolvedSpec {
  uid: string;
  port: number;
  addr: string;
  target: Target;
  max_connections: number;
  tls: EndpointTls | null;
  traffic: Traffic;
  /** false: the proxy answers HELLO 3 with -NOPROTO (handshake.ts, mux.ts). */
  resp3: boolean;
  /** Shared shard connections per client identity (bdb `conns`). */
  conns: number;
  /** Commands in flight per client connection before the proxy stops reading it (bdb `max_client_pipeline`). */
  max_client_pipeline: number;
  /** Commands in flight per shard connection before its clients wait (bdb `max_pipelined`). */
  max_pipelined: number;
  /** Which shared connection a client gets (bdb `sched_policy`). */
  sched_policy: SchedPolicy;
  /** The manager's socket for clients' CONFIG commands (config-link.ts); null: they go to Redis. */
  config_socket: string | null;
  /** Seconds of client silence before TCP keepalive probes (proxy `client_keepidle`). */
  client_keepidle: number;
}

/** RS's defaults for the proxy's connection settings (objects/bdb). */
export const DEFAULT_CONNS = 5;
export const DEFAULT_MAX_CLIENT_PIPELINE = 200;
export const DEFAULT_MAX_PIPELINED = 2000;

export const DEFAULT_ADDR = '0.0.0.0';
const CONNECT_TIMEOUT_MS = 5_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Same as redis-server's default `tcp-keepalive 300`: dead peers are found without app traffic. */
const KEEPALIVE_MS = 300_000;
/** Clients' keepalive unless the proxy settings say otherwise (client_keepidle). */
export const DEFAULT_CLIENT_KEEPIDLE = KEEPALIVE_MS / 1000;
/** Distinct command names counted per endpoint; further ones count under OTHER_NAMES. */
const MAX_NAMES = 1_000;
const OTHER_NAMES = '(other)';
/** Requests awaiting their reply, per connection; beyond that its replies are no longer matched. */
const MAX_PENDING = 100_000;
const EMPTY_BUF = Buffer.alloc(0);
/** After these, replies are no longer 1:1 with requests. */
const UNMATCHED = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'monitor']);
/**
 * Commands that may block their connection until data arrives (an item is popped for it then), or until
 * replicas acknowledge (WAIT, WAITAOF). Kept through a master switch (retire()): a FIN would make Redis drop
 * the connection without its reply, where a direct client of a master that turns replica gets `-UNBLOCKED`
 * (or WAIT's count, if the replica acknowledges while FAILOVER waits for it to catch up).
 */
const BLOCKING = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'xread', 'xreadgroup', 'wait', 'waitaof']);

/** A client pinned to a shard connection of its own (Endpoint.pin). */
interface Dedicated {
  client: net.Socket;
  /** The scan of its traffic, once piped (whether it may be blocked). */
  meter?: ConnMeter;
  /**
   * `retiring`: closed for a master switch, nothing more is sent on it (hold()); `parked`: possibly
   * blocked (BLPOP...), kept through the switch with its client paused (retire()).
   */
  state: 'open' | 'retiring' | 'parked';
}

/** What a pinned connection does with a `HELLO 3` (ConnMeter). */
interface Resp3Policy {
  /** RESP3 is off: the HELLO 3 is refused. */
  refuse(): boolean;
  /** It was let through: the client speaks RESP3 from now on. */
  switched(): void;
}

/**
 * Sent first on the dedicated connection of a client that wrote on a shared one. Redis's WAIT waits for
 * the replication offset of the last write made on the connection it is sent on (`woff`), and a new
 * connection has none: a WAIT after the client's shared writes would answer at once, counting replicas
 * that have not acknowledged them. A command that is propagated to the replicas sets `woff` to the
 * offset it reaches, past every write made before it. SPUBLISH is (Redis propagates it outside cluster
 * mode) and changes nothing: no key, no keyspace event, no WATCH touched, and only a subscriber of this
 * very shard channel would see it (PSUBSCRIBE patterns do not match shard channels). MONITOR and
 * INFO commandstats show it. A user who may not publish there gets NOPERM (logged in ACL LOG),
 * and its WAIT then counts as before.
 */
const WOFF = encode(['SPUBLISH', '__openrs:proxy:woff', '']);

/** Redis answers this exactly as it answers a refused HELLO 3: the version is checked first. */
const HELLO4 = encode(['HELLO', '4']);

/**
 * Request counting and latency of one client connection: requests are counted when complete
 * (RequestScanner), queued with their arrival time, and each top-level reply from the shard
 * (ReplyScanner) takes the oldest. Times are per chunk: a pipelined batch arrives at once.
 *
 * It also watches for `HELLO 3` anywhere in the stream: refused (RESP3 off) by forwarding
 * `HELLO 4` in its place, so that Redis's own -NOPROTO comes back in order with the other replies;
 * otherwise reported, so that the client is dropped if RESP3 is switched off later. A command that
 * may still turn out to be a HELLO is held back until it is complete (up to MAX_HANDSHAKE_BYTES),
 * so a HELLO split across reads is seen whole.
 */
class ConnMeter {
  private readonly req: RequestScanner;
  private readonly rep: ReplyScanner;
  private readonly times: number[] = [];
  private readonly cmds: CommandCounter[] = [];
  /** Per queued command: whether it may block (BLOCKING). */
  private readonly blocking: boolean[] = [];
  /** Blocking commands among those still owed a reply. */
  private blockingOwed = 0;
  private head = 0;
  private matching = true;
  private now = 0;
  /** The client sent MONITOR: its connection is a monitor session from then on. */
  monitoring = false;

  constructor(
    private readonly counter: (name: string) => CommandCounter,
    private readonly resp3: Resp3Policy,
  ) {
    this.req = new RequestScanner((name) => this.onCommand(name));
    this.rep = new ReplyScanner(() => this.onReply());
  }

  // The bytes being scanned: where the current command started (-1: in bytes already forwarded),
  // what replaces what (pieces up to `copied`), and the start of a command held back.
  private chunk: Buffer = EMPTY_BUF;
  private start = 0;
  private pieces: Buffer[] = [];
  private copied = 0;
  private held: Buffer | null = null;

  /** Client → shard bytes; returns what to forward now. */
  request(chunk: Buffer): Buffer {
    let data = chunk;
    let from = 0;
    if (this.held) {
      data = Buffer.concat([this.held, chunk]);
      from = this.held.length;
      this.held = null;
      this.start = 0;
    } else {
      this.start = this.req.idle ? 0 : -1;
    }
    if (this.req.dead) return data;
    this.now = performance.now();
    this.chunk = data;
    this.pieces = [];
    this.copied = 0;
    this.req.feed(data, from);
    if (this.req.dead) this.stopMatching();
    let end = data.length;
    if (!this.req.dead && !this.req.idle && this.start >= 0) {
      const s = skipBlank(data, this.start);
      if (data.length - s < MAX_HANDSHAKE_BYTES && peekCommand(data.subarray(s)).kind === 'incomplete') {
        this.held = data.subarray(s);
        end = s;
      }
    }
    this.chunk = EMPTY_BUF;
    if (!this.pieces.length) return end === data.length ? data : data.subarray(0, end);
    this.pieces.push(data.subarray(this.copied, end));
    return Buffer.concat(this.pieces);
  }

  /** The bytes held back (the client is done sending): forward them as they are. */
  takeHeld(): Buffer | null {
    const h = this.held;
    this.held = null;
    return h;
  }

  /** Shard → client bytes. */
  reply(chunk: Buffer): void {
    if (!this.matching) return;
    this.now = performance.now();
    this.rep.feed(chunk);
    if (this.rep.dead) this.stopMatching();
  }

  private onCommand(name: string): void {
    // Inline commands are looked at whatever their name: `"HELLO" 3` is a HELLO to Redis (quotes).
    if ((name === 'hello' || this.req.inline) && this.start >= 0) {
      const s = skipBlank(this.chunk, this.start);
      const c = peekCommand(this.chunk.subarray(s, this.req.at));
      if (c.kind === 'hello' && c.protover === '3') {
        if (this.resp3.refuse()) {
          this.pieces.push(this.chunk.subarray(this.copied, s), HELLO4);
          this.copied = this.req.at;
        } else {
          this.resp3.switched();
        }
      }
    }
    this.start = this.req.at;
    const c = this.counter(name);
    c[0]++;
    // RESET ends monitor mode (a MONITOR Redis refuses, with arguments or inside MULTI, still counts: its reply is not read).
    if (name === 'monitor') this.monitoring = true;
    else if (name === 'reset') this.monitoring = false;
    if (!this.matching) return;
    if (UNMATCHED.has(name) || this.cmds.length - this.head >= MAX_PENDING) {
      this.stopMatching();
      return;
    }
    this.times.push(this.now);
    this.cmds.push(c);
    const b = BLOCKING.has(name);
    this.blocking.push(b);
    if (b) this.blockingOwed++;
  }

  /**
   * A command that may block is still owed a reply: the connection may be blocked waiting for data,
   * and Redis would pop an item for it at any moment. (False when replies are no longer matched.)
   */
  get mayBeBlocked(): boolean {
    return this.matching && this.blockingOwed > 0;
  }

  private onReply(): void {
    const i = this.head;
    if (i >= this.cmds.length) return; // e.g. a reply to a command sent before counting began
    const c = this.cmds[i]!;
    c[1]++;
    c[2] += (this.now - this.times[i]!) * 1000;
    if (this.blocking[i]) this.blockingOwed--;
    if (++this.head === this.cmds.length) {
      this.head = 0;
      this.cmds.length = 0;
      this.times.length = 0;
      this.blocking.length = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.cmds.length) {
      this.cmds.splice(0, this.head);
      this.times.splice(0, this.head);
      this.blocking.splice(0, this.head);
      this.head = 0;
    }
  }

  private stopMatching(): void {
    this.matching = false;
    this.cmds.length = 0;
    this.times.length = 0;
    this.blocking.length = 0;
    this.blockingOwed = 0;
    this.head = 0;
  }
}

/** Fill defaults; an omitted `traffic` keeps the current value (see EndpointSpec). */
export function resolveSpec(spec: EndpointSpec, current?: ResolvedSpec): ResolvedSpec {
  return {
    uid: spec.uid,
    port: spec.port,
    addr: spec.addr ?? DEFAULT_ADDR,
    target: copyTarget(spec.target),
    max_connections: spec.max_connections ?? 0,
    tls: spec.tls ?? null,
    traffic: spec.traffic ?? current?.traffic ?? 'on',
    resp3: spec.resp3 ?? true,
    conns: spec.conns ?? DEFAULT_CONNS,
    max_client_pipeline: spec.max_client_pipeline ?? DEFAULT_MAX_CLIENT_PIPELINE,
    max_pipelined: spec.max_pipelined ?? DEFAULT_MAX_PIPELINED,
    sched_policy: spec.sched_policy ?? 'cmp',
    config_socket: spec.config_socket ?? null,
    client_keepidle: spec.client_keepidle ?? DEFAULT_CLIENT_KEEPIDLE,
  };
}

export class Endpoint {
  private server: net.Server | undefined;
  private terminator: tls.Server | undefined;
  private lastError: string | undefined;
  /** Accepted raw sockets (TLS ones included, from accept on): destroying one closes its TLS layer too. */
  private readonly clients = new Set<net.Socket>();
  /** The dedicated shard connections of pinned clients (pin()), by shard-side socket. */
  private readonly dedicated = new Map<net.Socket, Dedicated>();
  /** Called when a dedicated shard connection closes. */
  private upstreamClosed: (() => void) | undefined;
  /** Client streams (the TLS socket for TLS endpoints) that switched to RESP3 with HELLO 3. */
  private readonly resp3Clients = new Set<net.Socket>();
  private readonly counters = { total: 0, refused: 0, bytesIn: 0, bytesOut: 0 };
  /** The shared shard connections (mux.ts); replaced when the target changes. */
  private pool: Pool;
  /** Ends a hold that was not released (hold()). */
  private holdTimer: NodeJS.Timeout | undefined;
  /** Requests by command name (ConnMeter), cumulative since the endpoint was created. */
  private readonly commands = new Map<string, CommandCounter>();
  private readonly counter = (name: string): CommandCounter => {
    let c = this.commands.get(name);
    if (c) return c;
    const key = this.commands.size < MAX_NAMES ? name : OTHER_NAMES;
    c = this.commands.get(key);
    if (!c) this.commands.set(key, (c = [0, 0, 0]));
    return c;
  };

  constructor(private spec: ResolvedSpec, private readonly log: Logger) {
    this.pool = new Pool(this.muxHost());
  }

  /** What the pool asks of its endpoint; read live, so new settings apply to new connections. */
  private muxHost(): MuxHost {
    const ep = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      get target() { return ep.spec.target; },
      get conns() { return ep.spec.conns; },
      get maxClientPipeline() { return ep.spec.max_client_pipeline; },
      get maxPipelined() { return ep.spec.max_pipelined; },
      get resp3() { return ep.spec.resp3; },
      get schedPolicy() { return ep.spec.sched_policy; },
      counter: this.counter,
      countBytes: (toShard, toClient) => {
        ep.counters.bytesIn += toShard;
        ep.counters.bytesOut += toClient;
      },
      pin: (client, initial, auth, ended, proto, name, wrote) => ep.pin(client, initial, auth, ended, proto, name, wrote),
      get configurable() { return ep.spec.config_socket !== null; },
      config: (user, args) => ep.configLink().ask(ep.uid, user, args),
      debug: (msg, extra) => ep.log.debug({ uid: ep.uid, ...extra }, msg),
    };
  }

  get uid(): string {
    return this.spec.uid;
  }

  private link: ConfigLink | undefined;

  /** The link to the manager for clients' CONFIG commands, at the spec's current socket path. */
  private configLink(): ConfigLink {
    const path = this.spec.config_socket!;
    if (this.link?.path !== path) {
      this.link?.close();
      this.link = new ConfigLink(path);
    }
    return this.link;
  }
  get listening(): boolean {
    return this.server !== undefined;
  }
  get resolved(): ResolvedSpec {
    return this.spec;
  }

  /**
   * Make the endpoint match `next`. Either everything applies or nothing does: a bad certificate
   * or a port that cannot be bound throws, and the endpoint keeps its previous configuration.
   */
  async apply(next: ResolvedSpec): Promise<void> {
    const cur = this.spec;
    const tlsChanged = digestOf(next.tls) !== digestOf(cur.tls) || (next.tls !== null && !this.terminator);
    const terminator = tlsChanged ? (next.tls ? this.createTerminator(next.tls) : undefined) : this.terminator;
    if (!this.server || next.port !== cur.port || next.addr !== cur.addr) await this.rebind(next.port, next.addr);
    this.terminator = terminator;
    this.spec = { ...next, target: cur.target, traffic: cur.traffic };
    // RS drops the RESP3 connections when RESP3 support is switched off.
    if (cur.resp3 && !next.resp3) {
      const shared = this.pool.dropResp3();
      if (this.resp3Clients.size + shared) this.log.info({ uid: this.uid, connections: this.resp3Clients.size + shared }, 'dropping connections: RESP3 switched off');
      for (const c of this.resp3Clients) c.destroy();
    }
    // Connections open now probe at the new interval too (as a proxy restart would give them).
    if (next.client_keepidle !== cur.client_keepidle) for (const c of this.clients) c.setKeepAlive(true, next.client_keepidle * 1000);
    this.setTarget(next.target);
    this.setTraffic(next.traffic);
  }

  /** Restore from the state file: keep the spec even if the port cannot be bound now. */
  async restore(): Promise<void> {
    if (this.spec.tls) {
      try {
        this.terminator = this.createTerminator(this.spec.tls);
      } catch (err) {
        this.lastError = (err as Error).message;
        throw err;
      }
    }
    await this.retryBind();
  }

  /** Bind again after a failure (called periodically); never throws. */
  async retryBind(): Promise<void> {
    if (this.server) return;
    // A TLS endpoint whose certificate could not be loaded must not come up as plain TCP.
    if (this.spec.tls && !this.terminator) return;
    try {
      await this.rebind(this.spec.port, this.spec.addr);
      this.log.info({ uid: this.uid, port: this.spec.port }, 'endpoint listening');
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.lastError) this.log.error({ uid: this.uid, err: msg }, 'endpoint cannot listen');
      this.lastError = msg;
    }
  }

  /**
   * New connections go to `target`. Existing ones to another target are closed, so clients
   * reconnect and reach the new master (a failover); re-sending the same target drops nothing.
   */
  setTarget(target: Target): void {
    if (sameTarget(this.spec.target, target)) return;
    // A hold ends with the pool it held: that pool's clients are all dropped below.
    this.clearHoldTimer();
    this.spec = { ...this.spec, target: copyTarget(target) };
    // Every open connection was made to an earlier target: drop them all.
    this.dropAll('target changed');
    this.pool = new Pool(this.muxHost());
  }

  /**
   * Hold the endpoint's traffic for a planned switch of masters: from now on nothing goes to the
   * shard, and what clients send (new clients included) waits in the proxy. Dedicated connections
   * carry state a new master would not have (a transaction, subscriptions, a blocked command): they
   * are retired now (retire()), before the switch could answer them -READONLY. Resolves when every
   * reply in flight on the shared connections was handed on and the dedicated connections not parked
   * are closed (`drained`), or after `drainMs` (then the hold ends at once: `drained: false`).
   * Unless release() comes first, the hold ends by itself after `timeoutMs` (holdExpired()): a manager
   * that died mid-switch never leaves the endpoint frozen.
   */
  async hold(drainMs: number, timeoutMs: number, successor?: Successor, moved?: () => void): Promise<{ drained: boolean }> {
    this.clearHoldTimer();
    const hold = this.holds;
    this.holdTimer = setTimeout(() => void this.holdExpired(hold, successor, moved), timeoutMs);
    if (this.dedicated.size) this.log.info({ uid: this.uid, connections: this.dedicated.size }, 'closing dedicated connections: master switch');
    for (const [up, d] of this.dedicated) this.retire(up, d);
    this.pool.hold();
    const ms = Math.min(drainMs, timeoutMs);
    const [drained] = await Promise.all([this.pool.drained(ms), this.upstreamsClosed(ms)]);
    if (!drained) this.release();
    return { drained };
  }

  /**
   * Close a dedicated shard connection without losing a reply: nothing more is read from its
   * client, and the shard gets FIN after everything already sent. Redis answers all of it before it
   * reads the FIN and closes; those replies reach the client, then its FIN. So a transaction whose
   * EXEC was sent is executed and answered, one whose EXEC was not is dropped by Redis unexecuted.
   * A connection that may be blocked (BLPOP...) is parked instead.
   */
  private retire(up: net.Socket, d: Dedicated): void {
    if (d.state !== 'open') return;
    d.client.pause();
    if (d.meter?.mayBeBlocked) {
      // Redis drops the reply of a client it unblocks in the same pass as it reads that client's FIN:
      // a FIN now could lose an item popped for it. The connection is kept, its client paused, through
      // the switch: a master that turns replica answers its blocked clients itself (-UNBLOCKED) and
      // closes them; if the switch does not happen, the client goes on (release()).
      d.state = 'parked';
      return;
    }
    d.state = 'retiring';
    up.end();
  }

  /** After a hold: parked connections are closed if the master changed, else their clients go on. */
  private unpark(switched: boolean): void {
    for (const [up, d] of this.dedicated) {
      if (d.state !== 'parked') continue;
      if (switched) {
        d.state = 'retiring';
        up.end();
      } else {
        d.state = 'open';
        d.client.resume();
      }
    }
  }

  /** Resolves when no dedicated connection is left; those still open after `ms` are cut. */
  private upstreamsClosed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.upstreamClosed = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        for (const [up, d] of this.dedicated) if (d.state !== 'parked') up.destroy();
        done();
      }, ms);
      this.upstreamClosed = () => {
        if ([...this.dedicated.values()].every((d) => d.state === 'parked')) done();
      };
      this.upstreamClosed();
    });
  }

  /**
   * End a hold. With a new `target`, the multiplexed clients keep their connections: each is
   * bound afresh, as the same user and protocol, to connections to the new master, and what it sent
   * meanwhile goes there, in order. If replies were still owed (no hold, or it did not drain) a new
   * target is set as setTarget() sets it: every connection is closed.
   */
  release(target?: Target): void {
    this.clearHoldTimer();
    const holding = this.pool.holding;
    if (target && !sameTarget(this.spec.target, target)) {
      if (!holding || !this.pool.idle) return this.setTarget(target);
      this.spec = { ...this.spec, target: copyTarget(target) };
      this.pool.release(true);
      this.unpark(true);
      return;
    }
    if (holding) this.pool.release(false);
    this.unpark(false);
  }

  /**
   * A hold nobody released: the manager died between the switch and its release. The clients go on with
   * the successor if it has become master (Redis's FAILOVER ran to its end without the manager), else
   * with the same target (the switch did not happen, or was aborted: the old master kept its role).
   */
  private async holdExpired(hold: number, successor: Successor | undefined, moved: (() => void) | undefined): Promise<void> {
    this.holdTimer = undefined;
    const role = successor ? await roleOf(successor, ROLE_PROBE_MS) : undefined;
    // Released, retargeted, closed or held again meanwhile: that decision is newer than this one.
    if (hold !== this.holds || !this.pool.holding) return;
    if (successor && role === 'master') {
      this.log.warn({ uid: this.uid, target: successor.target }, 'hold not released in time: the successor is master, traffic moves to it');
      this.release(successor.target);
      moved?.();
      return;
    }
    this.log.warn({ uid: this.uid, ...(successor ? { successor_role: role } : {}) }, 'hold not released in time: traffic resumes on the same target');
    this.release();
  }
  /** Bumped whenever a hold begins or ends, so that a hold's expiry acts on that hold only. */
  private holds = 0;

  private clearHoldTimer(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.holds++;
  }

  /** 'off' refuses new connections and drops the open ones; 'on' accepts again. */
  setTraffic(traffic: Traffic): void {
    const was = this.spec.traffic;
    this.spec = { ...this.spec, traffic };
    if (traffic === 'off' && was !== 'off') this.dropAll('traffic stopped');
  }

  info(): EndpointInfo {
    const { uid, port, addr, target, max_connections, traffic, resp3, conns, max_client_pipeline, max_pipelined, sched_policy, client_keepidle, tls: t } = this.spec;
    return {
      uid, port, addr, target: copyTarget(target), max_connections, traffic, resp3, conns, max_client_pipeline, max_pipelined, sched_policy, client_keepidle,
      shard_connections: this.pool.size + this.dedicated.size,
      tls: t ? { digest: tlsDigest(t), request_client_cert: !!t.requestClientCert, client_cert_enforced: !!(t.ca && t.requestClientCert) } : null,
      listening: this.listening,
      ...(this.listening || !this.lastError ? {} : { error: this.lastError }),
    };
  }

  /** `classify`: the class of a command name, for the read/write/other figures. */
  stats(classify: (name: string) => RequestClass = () => 'other'): EndpointStats {
    let bytesIn = this.counters.bytesIn;
    let bytesOut = this.counters.bytesOut;
    for (const up of this.dedicated.keys()) {
      bytesIn += up.bytesWritten;
      bytesOut += up.bytesRead;
    }
    const req = { read: 0, write: 0, other: 0 };
    const res = { read: 0, write: 0, other: 0 };
    const usec = { read: 0, write: 0, other: 0 };
    const commands: Record<string, CommandCounter> = {};
    let total = 0;
    for (const [name, c] of this.commands) {
      const us = Math.round(c[2]);
      commands[name] = [c[0], c[1], us];
      const cls = name === OTHER_NAMES || name === LONG_NAME ? 'other' : classify(name);
      req[cls] += c[0];
      res[cls] += c[1];
      usec[cls] += us;
      total += c[0];
    }
    return {
      total_connections: this.counters.total,
      current_connections: this.clients.size,
      refused_connections: this.counters.refused,
      bytes_in: bytesIn,
      bytes_out: bytesOut,
      commands,
      total_req: total,
      read_req: req.read,
      write_req: req.write,
      other_req: req.other,
      read_res: res.read,
      write_res: res.write,
      other_res: res.other,
      read_latency_us_sum: usec.read,
      write_latency_us_sum: usec.write,
      other_latency_us_sum: usec.other,
      ...this.lastTraffic(total, res.read + res.write + res.other),
      monitor_sessions: [...this.dedicated.values()].filter((d) => d.meter?.monitoring).length,
    };
  }

  /** When requests and replies last moved: when a stats call (the sampler's, each second) first saw their counts change. */
  private lastTraffic(req: number, res: number): { last_req_ms?: number; last_res_ms?: number } {
    const t = this.traffic;
    if (req !== t.req) [t.req, t.reqMs] = [req, Date.now()];
    if (res !== t.res) [t.res, t.resMs] = [res, Date.now()];
    return { ...(t.reqMs ? { last_req_ms: t.reqMs } : {}), ...(t.resMs ? { last_res_ms: t.resMs } : {}) };
  }
  private readonly traffic = { req: 0, res: 0, reqMs: 0, resMs: 0 };

  /** Stop listening and drop every connection. */
  close(): void {
    this.link?.close();
    this.clearHoldTimer();
    this.server?.close();
    this.server = undefined;
    this.dropAll('endpoint removed');
  }

  private dropAll(why: string): void {
    if (this.clients.size) this.log.info({ uid: this.uid, connections: this.clients.size }, `dropping connections: ${why}`);
    for (const s of this.clients) s.destroy();
    for (const up of this.dedicated.keys()) up.destroy();
    this.pool.closeAll();
  }

  /**
   * Listen on (port, addr). A different port is bound before the old one is released, so a
   * failure leaves the old listener serving. The same port with another address must be released
   * first (0.0.0.0:p and 127.0.0.1:p overlap); if the new bind fails the old one is restored.
   */
  private async rebind(port: number, addr: string): Promise<void> {
    const old = this.server;
    if (old && port === this.spec.port) {
      old.close();
      this.server = undefined;
      try {
        this.server = await this.listen(port, addr);
        this.lastError = undefined;
      } catch (err) {
        this.server = await this.listen(this.spec.port, this.spec.addr).catch(() => undefined);
        throw err;
      }
      return;
    }
    this.server = await this.listen(port, addr);
    this.lastError = undefined;
    old?.close();
  }

  private listen(port: number, host: string): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ allowHalfOpen: true }, (sock) => this.onConnection(sock));
      srv.once('error', (err: NodeJS.ErrnoException) => {
        reject(new ProxyError(err.code ?? 'internal_error', `${host}:${port}: ${err.message}`));
      });
      srv.listen({ port, host }, () => {
        srv.removeAllListeners('error');
        // After listen, errors come from accept (e.g. EMFILE); the listener itself keeps going.
        srv.on('error', (err) => this.log.error({ uid: this.uid, err: err.message }, 'endpoint listener error'));
        resolve(srv);
      });
    });
  }

  private onConnection(sock: net.Socket): void {
    // First thing: a socket error must never become an uncaught exception.
    sock.on('error', (err) => this.log.debug({ uid: this.uid, err: err.message }, 'client socket error'));
    const { traffic, max_connections } = this.spec;
    if (traffic === 'off' || (max_connections > 0 && this.clients.size >= max_connections)) {
      this.counters.refused++;
      sock.destroy();
      return;
    }
    this.counters.total++;
    this.clients.add(sock);
    sock.once('close', () => this.clients.delete(sock));
    sock.setNoDelay(true);
    sock.setKeepAlive(true, this.spec.client_keepidle * 1000);
    if (this.terminator) this.terminator.emit('connection', sock);
    else this.pool.attach(sock);
  }

  /**
   * Pin `client`: pipe it to a dedicated connection to the current target, both ways, with
   * backpressure. `initial`: what it sent that was not forwarded yet; `auth`: the credentials it
   * authenticated with on a shared connection, replayed first, with its protocol and `name`; `ended`: it
   * already sent FIN. `wrote`: it sent commands on a shared connection, so this one is first brought
   * past their replication offset (WOFF).
   */
  private pin(client: net.Socket, initial: Buffer[], auth: Credentials | null, ended: boolean, proto: Proto = 2, name: Buffer | null = null, wrote = false): void {
    if (client.destroyed) return;
    // Nothing is read from the client until the dedicated connection is ready for it.
    client.pause();
    const { host, port, socket } = this.spec.target;
    const up = socket
      ? net.connect({ path: socket, allowHalfOpen: true })
      : net.connect({ host, port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
    const d: Dedicated = { client, state: 'open' };
    this.dedicated.set(up, d);
    const timer = setTimeout(() => up.destroy(new Error(`connect to ${socket ?? `${host}:${port}`} timed out`)), CONNECT_TIMEOUT_MS);
    up.once('connect', () => clearTimeout(timer));
    client.on('error', () => up.destroy());
    up.on('error', (err) => {
      this.log.debug({ uid: this.uid, target: `${host}:${port}`, err: err.message }, 'shard connection error');
      client.destroy();
    });
    // A client gone (reset, dropped, or both directions done) leaves nothing to deliver to.
    client.once('close', () => up.destroy());
    up.once('close', () => {
      clearTimeout(timer);
      this.dedicated.delete(up);
      this.upstreamClosed?.();
      this.counters.bytesIn += up.bytesWritten;
      this.counters.bytesOut += up.bytesRead;
      // A clean shard FIN was already passed on by pipe(); anything else ends the client now.
      if (!client.writableEnded) client.destroy();
    });
    const start = () => {
      // Closed for a master switch before it could start: nothing of the client's was sent.
      if (d.state === 'retiring') return void client.destroy();
      // pipe() pauses the source while the destination's buffer is full, and passes on a FIN as
      // end() (half-close): `printf 'PING\r\n' | nc` still gets its PONG.
      up.pipe(client);
      const meter = new ConnMeter(this.counter, { refuse: () => !this.spec.resp3, switched: () => this.markResp3(client) });
      d.meter = meter;
      up.on('data', (chunk: Buffer) => meter.reply(chunk));
      this.handshake(d, up, meter, initial, ended);
    };
    if (proto === 3) this.markResp3(client);
    const identity = auth !== null || proto === 3 || name !== null;
    if (!identity && !wrote) return start();
    // The client authenticated, switched to RESP3 or named itself on a shared connection: this one must
    // act for the same user, speak the same protocol and carry the name. AUTH answers +OK; HELLO a map
    // (RESP3) or an array (RESP2).
    const user = auth ? ['AUTH', Buffer.from(auth.user, 'latin1'), auth.pass] : [];
    const hello = proto === 3 || name !== null;
    const replay: Buffer[] = identity ? [encode(hello ? ['HELLO', String(proto), ...user, ...(name ? ['SETNAME', name] : [])] : user)] : [];
    // After the identity, as the client: its answer (a count, or NOPERM where the user may not publish) is not checked.
    if (wrote) replay.push(WOFF);
    up.write(replay.length === 1 ? replay[0]! : Buffer.concat(replay));
    const expect = !hello ? 0x2b : proto === 3 ? 0x25 : 0x2a;
    let reply: Buffer[] = [];
    let replies = 0;
    const scanner = new ReplyScanner(() => {
      if (++replies < replay.length) return;
      up.off('data', onAuth);
      const all = Buffer.concat(reply);
      if ((identity && all[0] !== expect) || scanner.at !== reply[reply.length - 1]!.length) {
        // Only the name was replayed (a client that named itself before signing in, where Redis wants
        // AUTH first): it goes on without it, and Redis answers its commands as it would.
        if (!auth && proto === 2) {
          reply = [];
          return start();
        }
        this.log.debug({ uid: this.uid }, 'dropping client: its credentials no longer authenticate');
        client.destroy();
        return;
      }
      reply = [];
      start();
    });
    const onAuth = (chunk: Buffer) => {
      reply.push(chunk);
      scanner.feed(chunk);
      if (scanner.dead) client.destroy();
    };
    up.on('data', onAuth);
  }

  /**
   * Look at the client's opening HELLO commands (handshake.ts), then pipe `client` to `up`. From
   * the first forwarded command on, the bytes go through pipe(); `meter` only scans them.
   */
  private handshake(d: Dedicated, up: net.Socket, meter: ConnMeter, initial: Buffer[], ended: boolean): void {
    const { client } = d;
    let buf: Buffer | undefined = initial.length ? Buffer.concat(initial) : undefined;
    let looking = true;
    // Once retiring (hold()), nothing more goes to the shard: it already has its FIN.
    const open = () => d.state !== 'retiring';
    // Bytes read while another client's FIN was on its way, waiting for it (fin-gate.ts); the client's own
    // FIN, if it comes meanwhile, follows them.
    let queued: Buffer[] | null = null;
    let endQueued = false;
    const endUp = () => {
      if (!open()) return;
      if (queued) {
        endQueued = true;
        return;
      }
      const held = meter.takeHeld();
      if (held) up.write(held);
      // Sent before what other clients send after it (fin-gate.ts).
      endNow(up);
    };
    const finish = () => {
      looking = false;
      client.off('data', onData);
      client.off('end', onEnd);
      if (buf?.length && open()) up.write(meter.request(buf));
      buf = undefined;
    };
    const onData = (chunk: Buffer) => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      consider();
    };
    const consider = () => {
      if (!buf) return;
      for (;;) {
        const c = peekCommand(buf);
        if (c.kind === 'incomplete' && buf.length < MAX_HANDSHAKE_BYTES) return;
        if (c.kind === 'hello' && c.protover === '3' && !this.spec.resp3) {
          // Answered here, before anything was forwarded, so the reply order holds.
          client.write(NOPROTO);
          buf = buf.subarray(c.length);
          if (buf.length === 0) return;
          continue;
        }
        if (c.kind === 'hello' && c.protover === '3') this.markResp3(client);
        finish();
        // Forwarded as read, with backpressure, through the meter (which counts, and refuses or
        // notes a later HELLO 3); a FIN is passed on (half-close), after anything the meter held.
        const send = (chunk: Buffer): boolean => {
          if (!open() || up.write(meter.request(chunk))) return true;
          client.pause();
          up.once('drain', () => d.state === 'open' && client.resume());
          return false;
        };
        // Read while another client's FIN is on its way: sent after it (fin-gate.ts), in order, the client
        // paused meanwhile.
        const flushQueued = () => {
          const q = queued!;
          queued = null;
          let flowing = true;
          for (const chunk of q) flowing = send(chunk) && flowing;
          if (endQueued) endUp();
          else if (flowing && d.state === 'open') client.resume();
        };
        client.on('data', (chunk: Buffer) => {
          if (queued) {
            queued.push(chunk);
          } else if (whenSent(flushQueued)) {
            queued = [chunk];
            client.pause();
          } else {
            send(chunk);
          }
        });
        if (ended) endUp();
        else client.once('end', endUp);
        return;
      }
    };
    // A FIN before any command was forwarded: pass on what there is, then the FIN.
    const onEnd = () => {
      finish();
      endUp();
    };
    client.on('data', onData);
    client.on('end', onEnd);
    consider();
    // The client's FIN came before it was pinned: no 'end' event will follow.
    if (ended && looking) onEnd();
    client.resume();
  }

  /** A pinned client speaks RESP3: dropped if RESP3 support is switched off (apply()). */
  private markResp3(client: net.Socket): void {
    if (this.resp3Clients.has(client)) return;
    this.resp3Clients.add(client);
    client.once('close', () => this.resp3Clients.delete(client));
  }

  /** One PING to the current target, from here: what a client of this endpoint would reach. */
  probe(timeoutMs = 1000): Promise<ProbeResult> {
    const result = (reachable: boolean, reply: string): ProbeResult => ({ uid: this.uid, listening: this.listening, target_reachable: reachable, reply });
    return exchangeWith(this.spec.target, 'PING\r\n', timeoutMs, (text) => {
      const nl = text.indexOf('\r\n');
      if (nl < 0) return undefined;
      const line = text.slice(0, nl);
      return result(line === '+PONG' || (line.startsWith('-') && !line.startsWith('-LOADING')), line);
    }, (why) => result(false, why));
  }

  private createTerminator(t: EndpointTls): tls.Server {
    const enforce = !!(t.ca && t.requestClientCert);
    let srv: tls.Server;
    try {
      srv = tls.createServer({
        cert: t.cert, key: t.key, ca: t.ca,
        requestCert: !!t.requestClientCert, rejectUnauthorized: enforce,
        ...(t.minVersion ? { minVersion: t.minVersion } : {}),
        ...(t.ciphers ? { ciphers: t.ciphers } : {}),
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS, allowHalfOpen: true,
      });
    } catch (err) {
      throw new ProxyError('invalid_tls', `tls: ${(err as Error).message}`);
    }
    srv.on('secureConnection', (sock: tls.TLSSocket) => this.pool.attach(sock));
    srv.on('tlsClientError', (err, sock) => {
      this.log.debug({ uid: this.uid, err: err.message }, 'TLS handshake failed');
      sock.destroy();
    });
    return srv;
  }
}

/** How long a hold that ended by itself waits for the successor's ROLE. */
const ROLE_PROBE_MS = 1000;

/**
 * The first element of ROLE (`master`, `slave`, `sentinel`) from the shard at `s.target`, signed in as
 * `s.user`; undefined if it does not say in `timeoutMs` (down, refused, hung).
 */
export async function roleOf(s: Successor, timeoutMs: number): Promise<string | undefined> {
  const request = Buffer.concat([encode(['AUTH', s.user, s.password]), encode(['ROLE'])]);
  const role = await exchangeWith<string | null>(s.target, request, timeoutMs, (text) => {
    if (text.startsWith('-')) return null;
    const m = /^\+OK\r\n\*\d+\r\n\$\d+\r\n([a-z]+)\r\n/.exec(text);
    if (m) return m[1]!;
    return text.length > 4096 ? null : undefined;
  }, () => null);
  return role ?? undefined;
}

/**
 * One exchange with a shard from the proxy: connect to `target`, send `request`, and resolve with what `read` makes
 * of the reply text so far (undefined: not complete yet), or with `failed(why)` when there is no answer (refused,
 * closed, or nothing decisive within `timeoutMs`).
 */
function exchangeWith<T>(target: Target, request: string | Buffer, timeoutMs: number, read: (text: string) => T | undefined, failed: (why: string) => T): Promise<T> {
  const { host, port, socket } = target;
  return new Promise((resolve) => {
    const c = socket ? net.connect({ path: socket }) : net.connect({ host, port });
    const done = (v: T) => {
      clearTimeout(timer);
      c.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(failed(`no answer from ${socket ?? `${host}:${port}`} within ${timeoutMs} ms`)), timeoutMs);
    let text = '';
    c.on('error', (err) => done(failed(err.message)));
    c.on('connect', () => c.write(request));
    c.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const v = read(text);
      if (v !== undefined) done(v);
    });
    c.on('close', () => done(failed('connection closed')));
  });
}

function copyTarget(t: Target): Target {
  return t.socket ? { host: t.host, port: t.port, socket: t.socket } : { host: t.host, port: t.port };
}

function digestOf(t: EndpointTls | null): string {
  return t ? tlsDigest(t) : '';
}
