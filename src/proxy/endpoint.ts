/**
 * One database endpoint: a TCP listener whose connections are piped, byte for byte, to the
 * endpoint's current target shard. No RESP parsing, so throughput is bounded by socket I/O only.
 *
 * Admission (max_connections, stopped traffic) is decided on the raw accepted socket, before any
 * TLS handshake or shard connection is made. TLS endpoints hand the raw socket to a tls.Server
 * that never listens itself (`emit('connection')`, the documented way to inject a socket), so
 * Node applies handshake timeouts and client-certificate checks exactly as for a listening server.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { ProxyError, tlsDigest, type EndpointInfo, type EndpointSpec, type EndpointStats, type EndpointTls, type Target, type Traffic } from './protocol.js';

/** An EndpointSpec with every default filled in: what the state file stores. */
export interface ResolvedSpec {
  uid: string;
  port: number;
  addr: string;
  target: Target;
  max_connections: number;
  tls: EndpointTls | null;
  traffic: Traffic;
}

export const DEFAULT_ADDR = '0.0.0.0';
const CONNECT_TIMEOUT_MS = 5_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Same as redis-server's default `tcp-keepalive 300`: dead peers are found without app traffic. */
const KEEPALIVE_MS = 300_000;

/** Fill defaults; an omitted `traffic` keeps the current value (see EndpointSpec). */
export function resolveSpec(spec: EndpointSpec, current?: ResolvedSpec): ResolvedSpec {
  return {
    uid: spec.uid,
    port: spec.port,
    addr: spec.addr ?? DEFAULT_ADDR,
    target: { host: spec.target.host, port: spec.target.port },
    max_connections: spec.max_connections ?? 0,
    tls: spec.tls ?? null,
    traffic: spec.traffic ?? current?.traffic ?? 'on',
  };
}

export class Endpoint {
  private server: net.Server | undefined;
  private terminator: tls.Server | undefined;
  private lastError: string | undefined;
  /** Accepted raw sockets (TLS ones included, from accept on): destroying one closes its TLS layer too. */
  private readonly clients = new Set<net.Socket>();
  private readonly upstreams = new Set<net.Socket>();
  private readonly counters = { total: 0, refused: 0, bytesIn: 0, bytesOut: 0 };

  constructor(private spec: ResolvedSpec, private readonly log: Logger) {}

  get uid(): string {
    return this.spec.uid;
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
    this.setTarget(next.target);
    this.setTraffic(next.traffic);
  }

  /** Restore from the state file: keep the spec even if the port cannot be bound now. */
  async restore(): Promise<void> {
    if (this.spec.tls) this.terminator = this.createTerminator(this.spec.tls);
    await this.retryBind();
  }

  /** Bind again after a failure (called periodically); never throws. */
  async retryBind(): Promise<void> {
    if (this.server) return;
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
    const cur = this.spec.target;
    if (cur.host === target.host && cur.port === target.port) return;
    this.spec = { ...this.spec, target: { host: target.host, port: target.port } };
    // Every open connection was made to an earlier target: drop them all.
    this.dropAll('target changed');
  }

  /** 'off' refuses new connections and drops the open ones; 'on' accepts again. */
  setTraffic(traffic: Traffic): void {
    const was = this.spec.traffic;
    this.spec = { ...this.spec, traffic };
    if (traffic === 'off' && was !== 'off') this.dropAll('traffic stopped');
  }

  info(): EndpointInfo {
    const { uid, port, addr, target, max_connections, traffic, tls: t } = this.spec;
    return {
      uid, port, addr, target: { ...target }, max_connections, traffic,
      tls: t ? { digest: tlsDigest(t), request_client_cert: !!t.requestClientCert, client_cert_enforced: !!(t.ca && t.requestClientCert) } : null,
      listening: this.listening,
      ...(this.listening || !this.lastError ? {} : { error: this.lastError }),
    };
  }

  stats(): EndpointStats {
    let bytesIn = this.counters.bytesIn;
    let bytesOut = this.counters.bytesOut;
    for (const up of this.upstreams) {
      bytesIn += up.bytesWritten;
      bytesOut += up.bytesRead;
    }
    return {
      total_connections: this.counters.total,
      current_connections: this.clients.size,
      refused_connections: this.counters.refused,
      bytes_in: bytesIn,
      bytes_out: bytesOut,
    };
  }

  /** Stop listening and drop every connection. */
  close(): void {
    this.server?.close();
    this.server = undefined;
    this.dropAll('endpoint removed');
  }

  private dropAll(why: string): void {
    if (this.clients.size) this.log.info({ uid: this.uid, connections: this.clients.size }, `dropping connections: ${why}`);
    for (const s of this.clients) s.destroy();
    for (const up of this.upstreams) up.destroy();
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
    sock.setKeepAlive(true, KEEPALIVE_MS);
    if (this.terminator) this.terminator.emit('connection', sock);
    else this.forward(sock);
  }

  /** Pipe `client` to a new connection to the current target, both ways, with backpressure. */
  private forward(client: net.Socket): void {
    if (client.destroyed) return;
    const { host, port } = this.spec.target;
    const up = net.connect({ host, port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
    this.upstreams.add(up);
    const timer = setTimeout(() => up.destroy(new Error(`connect to ${host}:${port} timed out`)), CONNECT_TIMEOUT_MS);
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
      this.upstreams.delete(up);
      this.counters.bytesIn += up.bytesWritten;
      this.counters.bytesOut += up.bytesRead;
      // A clean shard FIN was already passed on by pipe(); anything else ends the client now.
      if (!client.writableEnded) client.destroy();
    });
    // pipe() pauses the source while the destination's buffer is full, and passes on a FIN as
    // end() (half-close): `printf 'PING\r\n' | nc` still gets its PONG.
    client.pipe(up);
    up.pipe(client);
  }

  private createTerminator(t: EndpointTls): tls.Server {
    const enforce = !!(t.ca && t.requestClientCert);
    let srv: tls.Server;
    try {
      srv = tls.createServer({
        cert: t.cert, key: t.key, ca: t.ca,
        requestCert: !!t.requestClientCert, rejectUnauthorized: enforce,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS, allowHalfOpen: true,
      });
    } catch (err) {
      throw new ProxyError('invalid_tls', `tls: ${(err as Error).message}`);
    }
    srv.on('secureConnection', (sock: tls.TLSSocket) => this.forward(sock));
    srv.on('tlsClientError', (err, sock) => {
      this.log.debug({ uid: this.uid, err: err.message }, 'TLS handshake failed');
      sock.destroy();
    });
    return srv;
  }
}

function digestOf(t: EndpointTls | null): string {
  return t ? tlsDigest(t) : '';
}
