/**
 * The proxy's side of the control channel: a unix domain socket (mode 0600, so only the
 * manager's user can drive it) speaking the line protocol of protocol.ts. A malformed line gets
 * an error response and the connection stays usable; nothing a peer sends can stop the proxy
 * except `shutdown`.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import type { EndpointTable } from './endpoint-table.js';
import { readLines } from './lines.js';
import {
  checkArgs, isOp, MAX_LINE_CHARS, PROTOCOL_VERSION, ProxyError, SCHEMA_DIGEST,
  type Op, type OpResults, type ProxyResponse,
} from './protocol.js';

export interface ControlServerOpts {
  socketPath: string;
  table: EndpointTable;
  log: Logger;
  version: string;
  /** Called once after the `shutdown` response has been written. */
  onShutdown: () => void;
  /** Called when another proxy has replaced our socket file: this one is unreachable, and must go. */
  onSuperseded: () => void;
}

/** How often the socket file is checked for being ours. */
const SUPERSEDED_CHECK_MS = 2_000;

export class ControlServer {
  private readonly server = net.createServer((sock) => this.onConnection(sock));
  private readonly startedAt = Date.now();
  /** Changes run one at a time, in arrival order, across all control connections. */
  private queue: Promise<unknown> = Promise.resolve();
  private shuttingDown = false;
  /** Inode of the socket file we created; another inode at the path means another proxy took over. */
  private ino: number | undefined;
  private watch: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ControlServerOpts) {}

  /** Listen; a leftover socket file is replaced, unless another proxy still answers on it. */
  async listen(): Promise<void> {
    const { socketPath } = this.opts;
    if (fs.existsSync(socketPath)) {
      if (await answers(socketPath)) throw new Error(`another proxy is listening on ${socketPath}`);
      fs.unlinkSync(socketPath);
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.opts.log.error({ err: err.message }, 'control socket error'));
    fs.chmodSync(socketPath, 0o600);
    this.ino = fs.statSync(socketPath).ino;
    // Two proxies started at once after a crash can both find the stale file and remove it; the
    // one whose file lost is orphaned (listening on an unlinked socket) and holds ports the other
    // needs. It notices here and exits; the winner's bind retry then takes the ports.
    this.watch = setInterval(() => {
      const now = inodeOf(socketPath);
      if (now !== undefined && now !== this.ino) this.opts.onSuperseded();
    }, SUPERSEDED_CHECK_MS);
    this.watch.unref();
  }

  /**
   * Stop listening, before the process exits. Closing a unix socket server unlinks its path,
   * so a superseded proxy must not close it: the path now belongs to the other proxy.
   */
  close(): void {
    clearInterval(this.watch);
    if (inodeOf(this.opts.socketPath) === this.ino) this.server.close();
  }

  private onConnection(sock: net.Socket): void {
    sock.on('error', (err) => this.opts.log.debug({ err: err.message }, 'control connection error'));
    const send = (resp: ProxyResponse, cb?: () => void) => {
      if (sock.writable) sock.write(JSON.stringify(resp) + '\n', cb);
      else cb?.();
    };
    // Responses leave in request order, even when an early one waits for a queued change.
    let lastSent: Promise<void> = Promise.resolve();
    readLines(
      sock,
      MAX_LINE_CHARS,
      (line) => {
        if (line.trim() === '') return;
        const handled = this.handle(line);
        lastSent = lastSent.then(() => handled).then(({ resp, after }) => send(resp, after));
      },
      () => {
        send({ id: null, ok: false, error: { code: 'bad_request', message: `line longer than ${MAX_LINE_CHARS} characters` } });
        sock.end();
      },
    );
  }

  private async handle(line: string): Promise<{ resp: ProxyResponse; after?: () => void }> {
    let id: number | string | null = null;
    try {
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        throw new ProxyError('bad_request', 'request is not valid JSON');
      }
      if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new ProxyError('bad_request', 'request must be a JSON object');
      const { id: rawId, op, ...args } = req as Record<string, unknown>;
      if (typeof rawId === 'number' || typeof rawId === 'string') id = rawId;
      else throw new ProxyError('bad_request', 'request needs an id (number or string)');
      if (!isOp(op)) throw new ProxyError('unknown_op', `unknown op ${JSON.stringify(op)}`);
      if (this.shuttingDown) throw new ProxyError('shutting_down', 'the proxy is shutting down');
      const result = await this.serialized(() => this.run(op, args));
      const after = op === 'shutdown' ? this.opts.onShutdown : undefined;
      return { resp: { id, ok: true, result }, after };
    } catch (err) {
      const e = err instanceof ProxyError ? err : new ProxyError('internal_error', (err as Error).message);
      if (e.code === 'internal_error') this.opts.log.error({ err: e.message }, 'control request failed');
      return { resp: { id, ok: false, error: { code: e.code, message: e.message } } };
    }
  }

  private serialized<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async run(op: Op, raw: unknown): Promise<OpResults[Op]> {
    const { table } = this.opts;
    switch (op) {
      case 'ping':
        checkArgs(op, raw);
        return { pid: process.pid, version: this.opts.version, protocol: PROTOCOL_VERSION, uptime_ms: Date.now() - this.startedAt, schema: SCHEMA_DIGEST };
      case 'list':
        checkArgs(op, raw);
        return { endpoints: table.list() };
      case 'set_endpoint':
        return table.set(checkArgs(op, raw));
      case 'remove_endpoint':
        return table.remove(checkArgs(op, raw).uid);
      case 'set_target': {
        const a = checkArgs(op, raw);
        return table.setTarget(a.uid, a.target);
      }
      case 'hold': {
        const a = checkArgs(op, raw);
        return table.hold(a.uid, a.drain_ms, a.timeout_ms, a.successor);
      }
      case 'release': {
        const a = checkArgs(op, raw);
        return table.release(a.uid, a.target);
      }
      case 'stop_traffic':
        return table.setTraffic(checkArgs(op, raw).uid, 'off');
      case 'resume_traffic':
        return table.setTraffic(checkArgs(op, raw).uid, 'on');
      case 'stats':
      {
        const a = checkArgs(op, raw);
        return { endpoints: table.stats(a.uid, a.classes) };
      }
      case 'probe':
        return table.probe(checkArgs(op, raw).uid);
      case 'shutdown':
        checkArgs(op, raw);
        this.shuttingDown = true;
        return { pid: process.pid };
    }
  }
}

function inodeOf(p: string): number | undefined {
  try {
    return fs.statSync(p).ino;
  } catch {
    return undefined;
  }
}

/** Whether something accepts connections on the unix socket `path`. */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
