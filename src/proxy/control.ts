/**
 * The manager's handle on the node's proxy process. `ensureRunning()` adopts a live proxy (one
 * that answers `ping` on the control socket) or spawns a new one, detached so that it outlives
 * the manager. Requests travel over one long-lived unix socket connection, re-opened on demand
 * if it drops; every op is idempotent, so a request cut off by a dropped connection is re-sent
 * once over the new one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDir } from '../util/fs.js';
import { readLines } from './lines.js';
import {
  MAX_LINE_CHARS, PROTOCOL_VERSION, ProxyError, SCHEMA_DIGEST,
  type EndpointInfo, type EndpointSpec, type EndpointStats, type RequestClass, type Op, type OpArgs, type OpResults, type PingResult, type ProbeResult, type ProxyResponse, type Successor, type Target,
} from './protocol.js';

export { ProxyError } from './protocol.js';
export type { EndpointInfo, EndpointSpec, EndpointStats, EndpointTls, PingResult, ProbeResult, Target } from './protocol.js';

export interface ProxyClientOpts {
  socketPath: string;
  stateFile: string;
  /** The proxy's stdout and stderr, appended. */
  logFile: string;
  /** The proxy entry point; default: main.ts or main.js next to this module, whichever this build is. */
  entry?: string;
  logLevel?: string;
  /** How long a spawned proxy may take to answer ping (default 15 s). */
  startTimeoutMs?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** Told when an older proxy build is replaced by this one's (its clients' connections drop). */
  onReplace?: (why: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const POLL_MS = 25;

export class ProxyClient {
  private readonly opts: Required<Omit<ProxyClientOpts, 'entry' | 'onReplace'>> & Pick<ProxyClientOpts, 'onReplace'> & { entry: string };
  private sock: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(opts: ProxyClientOpts) {
    this.opts = {
      socketPath: path.resolve(opts.socketPath),
      stateFile: path.resolve(opts.stateFile),
      logFile: path.resolve(opts.logFile),
      entry: path.resolve(opts.entry ?? defaultEntry()),
      logLevel: opts.logLevel ?? 'info',
      startTimeoutMs: opts.startTimeoutMs ?? 15_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      onReplace: opts.onReplace,
    };
  }

  /**
   * The proxy this client last adopted or started (ensureRunning), including one that replaced an older build
   * inside a request: the caller that watches the process learns the new pid here.
   */
  get pid(): number | undefined {
    return this.lastPid;
  }
  private lastPid: number | undefined;
  /** An older build is being shut down and this build's started in its place: no proxy answers meanwhile. */
  get replacing(): boolean {
    return this.replacements > 0;
  }
  private replacements = 0;

  /** Adopt the running proxy, or start one and wait (polling ping) until it answers. */
  async ensureRunning(): Promise<{ pid: number; adopted: boolean }> {
    const r = await this.adoptOrStart();
    this.lastPid = r.pid;
    return r;
  }

  /**
   * The proxy adopted is of a build from before `ping` reported a schema digest (a manager upgrade kept it running).
   * What it accepts is known: requests leave out what it does not know when that can go without loss (the hold's
   * `successor`; the endpoint TLS options at the cluster's defaults, endpoint-spec.ts dataTlsFor).
   */
  get legacy(): boolean {
    return this.legacyProxy;
  }
  private legacyProxy = false;

  private async adoptOrStart(): Promise<{ pid: number; adopted: boolean }> {
    const live = await this.ping().catch(() => undefined);
    this.legacyProxy = live?.protocol === PROTOCOL_VERSION && live.schema === undefined;
    if (live?.protocol === PROTOCOL_VERSION) return { pid: live.pid, adopted: true };
    // An older build that speaks another control protocol cannot be driven, so it is replaced.
    if (live) return this.swap(`proxy ${live.pid} speaks control protocol ${live.protocol}, this build ${PROTOCOL_VERSION}`);
    return this.start();
  }

  /** Shut the running proxy down and start this build's, `replacing` meanwhile (no proxy answers then). */
  private async swap(why: string): Promise<{ pid: number; adopted: boolean }> {
    this.opts.onReplace?.(why);
    this.replacements++;
    try {
      await this.shutdown();
      return await this.start();
    } finally {
      this.replacements--;
    }
  }

  private async start(): Promise<{ pid: number; adopted: boolean }> {
    const { socketPath, stateFile, logFile, entry, logLevel } = this.opts;
    for (const f of [socketPath, stateFile, logFile]) ensureDir(path.dirname(f));
    const fd = fs.openSync(logFile, 'a', 0o600);
    let exit: string | undefined;
    try {
      const child = spawn(process.execPath, [...PROXY_NODE_FLAGS, ...entryArgs(entry), '--socket', socketPath, '--state', stateFile, '--log-level', logLevel], {
        // Own session and process group: no signal aimed at the manager's group reaches it.
        detached: true,
        stdio: ['ignore', fd, fd],
        cwd: path.dirname(stateFile),
      });
      child.once('error', (err) => (exit = `spawn failed: ${err.message}`));
      child.once('exit', (code, signal) => (exit = `exited with ${signal ?? `code ${code}`}`));
      child.unref();
    } finally {
      fs.closeSync(fd);
    }
    const deadline = Date.now() + this.opts.startTimeoutMs;
    for (;;) {
      const p = await this.ping().catch(() => undefined);
      // The pid may differ from our child's: a concurrent start may have won, and ours exited.
      if (p) return { pid: checkProtocol(p).pid, adopted: false };
      if (exit) throw new ProxyError('unavailable', `proxy ${exit}; see ${logFile}: ${tail(logFile)}`);
      if (Date.now() > deadline) throw new ProxyError('timeout', `proxy did not answer within ${this.opts.startTimeoutMs} ms; see ${logFile}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  ping(): Promise<PingResult> {
    return this.request('ping', {});
  }
  /** Idempotent upsert of one endpoint; an omitted `traffic` keeps the current value. */
  setEndpoint(spec: EndpointSpec): Promise<EndpointInfo> {
    return this.request('set_endpoint', spec);
  }
  removeEndpoint(uid: string): Promise<{ removed: boolean }> {
    return this.request('remove_endpoint', { uid });
  }
  setTarget(uid: string, target: Target): Promise<EndpointInfo> {
    return this.request('set_target', { uid, target });
  }
  /** Hold the endpoint's traffic for a master switch (Endpoint.hold); `release` ends it. */
  hold(uid: string, o: { drainMs: number; timeoutMs: number; successor?: Successor }): Promise<{ drained: boolean }> {
    // A legacy proxy's hold ends on the same target, as it always did: no reason to replace it mid-failover.
    return this.request('hold', { uid, drain_ms: o.drainMs, timeout_ms: o.timeoutMs, ...(o.successor && !this.legacyProxy ? { successor: o.successor } : {}) });
  }
  /** End a hold; with a target, the held clients move to it without being disconnected. */
  release(uid: string, target?: Target): Promise<EndpointInfo> {
    return this.request('release', { uid, ...(target ? { target } : {}) });
  }
  stopTraffic(uid: string): Promise<EndpointInfo> {
    return this.request('stop_traffic', { uid });
  }
  resumeTraffic(uid: string): Promise<EndpointInfo> {
    return this.request('resume_traffic', { uid });
  }
  async list(): Promise<EndpointInfo[]> {
    return (await this.request('list', {})).endpoints;
  }
  /** `classes`: command classes to teach the proxy (for its read/write/other figures). */
  async stats(uid?: string, classes?: Record<string, RequestClass>): Promise<Record<string, EndpointStats>> {
    return (await this.request('stats', { ...(uid === undefined ? {} : { uid }), ...(classes ? { classes } : {}) })).endpoints;
  }

  /** Listener state and one PING from the proxy to the endpoint's target. */
  probe(uid: string): Promise<ProbeResult> {
    return this.request('probe', { uid });
  }

  /** Stop the proxy (its endpoints close; the state file stays) and wait until the process is gone. */
  async shutdown(): Promise<void> {
    const { pid } = await this.request('shutdown', {}, false);
    this.close();
    const deadline = Date.now() + this.opts.startTimeoutMs;
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new ProxyError('timeout', `proxy ${pid} did not exit`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Close the control connection only; the proxy keeps running. Later requests reconnect. */
  close(): void {
    this.failPending(new ProxyError('closed', 'control connection closed'));
    this.sock?.destroy();
    this.sock = undefined;
  }

  private async request<O extends Op>(op: O, args: OpArgs<O>, retry = true): Promise<OpResults[O]> {
    try {
      return await this.sendOnce(op, args, retry);
    } catch (err) {
      if (!retry || !(err instanceof ProxyError) || (err.code !== 'invalid_args' && err.code !== 'unknown_op')) throw err;
      // Refused: a wrong request, or a proxy from an older build that outlived a manager upgrade and does not
      // know what this build asks. The latter is replaced (its clients' connections drop: the only way it learns).
      const live = await this.send('ping', {}).catch(() => undefined);
      if (!live || live.schema === SCHEMA_DIGEST) throw err;
      await this.replaceOutdated(live.pid, `proxy ${live.pid} (an older build) refused ${op}: ${err.message}`);
      return this.send(op, args);
    }
  }

  /**
   * Replace the older proxy `pid` by this build's. One replacement at a time: requests refused by the same old
   * proxy at once wait for the one replacement, and one that saw it before it was replaced never stops the new one.
   */
  private async replaceOutdated(pid: number, why: string): Promise<void> {
    while (this.replacement) await this.replacement.catch(() => undefined);
    this.replacement = (async () => {
      const now = await this.send('ping', {}).catch(() => undefined);
      this.replacements++;
      try {
        if (now?.pid === pid) await this.swap(why);
        // Adopts the proxy now running (the one just started, or one an earlier replacement started), or starts one:
        // its pid and whether it is legacy are learned here.
        await this.ensureRunning();
      } finally {
        this.replacements--;
      }
    })();
    try {
      await this.replacement;
    } finally {
      this.replacement = undefined;
    }
  }
  private replacement: Promise<void> | undefined;

  private async sendOnce<O extends Op>(op: O, args: OpArgs<O>, retry: boolean): Promise<OpResults[O]> {
    try {
      return await this.send(op, args);
    } catch (err) {
      if (!retry || !(err instanceof ProxyError) || err.code !== 'disconnected') throw err;
      return this.send(op, args);
    }
  }

  private async send<O extends Op>(op: O, args: OpArgs<O>): Promise<OpResults[O]> {
    const sock = await this.connection();
    const id = this.nextId++;
    return new Promise<OpResults[O]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProxyError('timeout', `${op}: no answer from the proxy within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      sock.write(JSON.stringify({ ...args, id, op }) + '\n');
    });
  }

  private connection(): Promise<net.Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.opts.socketPath);
      sock.once('error', (err) => reject(new ProxyError('unavailable', `proxy control socket ${this.opts.socketPath}: ${err.message}`)));
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        sock.on('error', () => undefined); // 'close' follows and fails what is pending
        // An idle control connection must not keep the manager process alive; pending requests' timers do.
        sock.unref();
        sock.once('close', () => {
          if (this.sock === sock) this.sock = undefined;
          this.failPending(new ProxyError('disconnected', 'control connection to the proxy dropped'));
        });
        readLines(sock, MAX_LINE_CHARS, (line) => this.onResponse(line), () => sock.destroy());
        this.sock = sock;
        resolve(sock);
      });
    });
  }

  private onResponse(line: string): void {
    let resp: ProxyResponse;
    try {
      resp = JSON.parse(line) as ProxyResponse;
    } catch {
      return; // not ours to answer; a proxy never sends this
    }
    if (typeof resp.id !== 'number') return;
    const p = this.pending.get(resp.id);
    if (!p) return;
    this.pending.delete(resp.id);
    clearTimeout(p.timer);
    if (resp.ok) p.resolve(resp.result);
    else p.reject(new ProxyError(resp.error.code, resp.error.message));
  }

  private failPending(err: ProxyError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/** main.ts when this module runs from source under tsx, main.js in the compiled build. */
function defaultEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), here.endsWith('.ts') ? 'main.ts' : 'main.js');
}

/**
 * V8 flags of the proxy process. Every read from a client socket is a new short-lived Buffer: a
 * larger young generation (16 MiB semi-spaces instead of V8's default) means fewer scavenges
 * under load, measured as a few per cent of the proxy's CPU in bench/proxy.ts.
 */
const PROXY_NODE_FLAGS = ['--max-semi-space-size=16'];

/**
 * Node arguments to run `entry`. A .ts entry needs the tsx loader, resolved from the entry's own
 * location so that the manager's working directory does not matter.
 */
function entryArgs(entry: string): string[] {
  if (!entry.endsWith('.ts')) return [entry];
  let loader = 'tsx';
  try {
    loader = pathToFileURL(createRequire(entry).resolve('tsx')).href;
  } catch {
    // fall back to resolving `tsx` from the working directory
  }
  return ['--import', loader, entry];
}

function checkProtocol(p: PingResult): PingResult {
  if (p.protocol !== PROTOCOL_VERSION) {
    throw new ProxyError('incompatible', `proxy ${p.pid} speaks control protocol ${p.protocol}, expected ${PROTOCOL_VERSION}`);
  }
  return p;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
