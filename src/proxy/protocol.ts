/**
 * The control protocol between the manager and the node's proxy process: newline-delimited JSON
 * over a unix domain socket. One request per line, `{ id, op, ...args }`; one response per
 * request, `{ id, ok: true, result }` or `{ id, ok: false, error: { code, message } }`. Shared by
 * both sides (proxy/main.ts serves it, proxy/control.ts speaks it), so the schema is written once.
 */
import { createHash } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Bumped on incompatible changes; `ping` reports it so a manager can refuse an old proxy. */
export const PROTOCOL_VERSION = 1;

/** One request line may carry certificates and keys, but never megabytes. */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

/**
 * Where an endpoint sends its traffic: one redis-server shard (the current master). A shard on
 * this node may also name its `unixsocket`; the proxy then connects over it, which costs less
 * CPU per request than loopback TCP. `host`/`port` still identify the shard.
 */
export const Target = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Port,
    socket: Type.Optional(Type.String({ minLength: 1, maxLength: 107, description: 'unix socket path of a local shard' })),
  },
  { additionalProperties: false },
);
export type Target = Static<typeof Target>;
export type Successor = NonNullable<Static<typeof OP_ARGS.hold>['successor']>;

/** TLS termination on the endpoint; client certificates are enforced only with `ca` + `requestClientCert`. */
export const EndpointTls = Type.Object(
  {
    cert: Type.String({ minLength: 1, description: 'PEM certificate (chain, leaf first)' }),
    key: Type.String({ minLength: 1, description: 'PEM private key' }),
    ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA(s) client certificates must chain to' })),
    requestClientCert: Type.Optional(Type.Boolean()),
    /** The lowest TLS version accepted (cluster min_data_TLS_version); absent: Node's default (TLSv1.2). */
    minVersion: Type.Optional(Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')])),
    /** OpenSSL cipher string, TLS 1.3 suites (`TLS_...`) included (cluster data_cipher_list, data_cipher_suites_tls_1_3). */
    ciphers: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
  },
  { additionalProperties: false },
);
export type EndpointTls = Static<typeof EndpointTls>;

export const Traffic = Type.Union([Type.Literal('on'), Type.Literal('off')]);
export type Traffic = Static<typeof Traffic>;

/**
 * The desired state of one endpoint, as `set_endpoint` takes it and the state file stores it.
 * `set_endpoint` replaces the whole spec, except that an omitted `traffic` keeps the current
 * value (so re-sending a spec never silently resumes a stopped endpoint).
 */
export const EndpointSpec = Type.Object(
  {
    uid: Type.String({ minLength: 1, maxLength: 200, description: 'e.g. the RS endpoint uid `1:1`' }),
    port: Port,
    addr: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'bind address, default 0.0.0.0' })),
    target: Target,
    max_connections: Type.Optional(Type.Integer({ minimum: 0, description: '0 or absent: unlimited' })),
    tls: Type.Optional(Type.Union([EndpointTls, Type.Null()])),
    traffic: Type.Optional(Traffic),
    resp3: Type.Optional(Type.Boolean({ description: 'false: HELLO 3 is answered -NOPROTO (default true)' })),
    conns: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'shared shard connections per client identity (bdb conns, default 5)' })),
    max_client_pipeline: Type.Optional(Type.Integer({ minimum: 1, maximum: 2047, description: 'commands in flight per client connection (default 200)' })),
    max_pipelined: Type.Optional(Type.Integer({ minimum: 1, description: 'commands in flight per shard connection (default 2000)' })),
    sched_policy: Type.Optional(Type.Union([Type.Literal('cmp'), Type.Literal('mru'), Type.Literal('spread'), Type.Literal('mnp')], { description: 'which shared connection a client gets (default cmp)' })),
    config_socket: Type.Optional(Type.String({ minLength: 1, maxLength: 107, description: "the manager's unix socket for clients' CONFIG GET/SET/REWRITE; absent: they go to Redis" })),
    client_keepidle: Type.Optional(Type.Integer({ minimum: 1, maximum: 32_767, description: 'seconds of client silence before TCP keepalive probes (proxy client_keepidle, default 300)' })),
  },
  { additionalProperties: false },
);
export type EndpointSpec = Static<typeof EndpointSpec>;

/** An endpoint as `list` reports it: the spec without key material, plus what the proxy observes. */
export interface EndpointInfo {
  uid: string;
  port: number;
  addr: string;
  target: Target;
  max_connections: number;
  traffic: Traffic;
  resp3: boolean;
  conns: number;
  max_client_pipeline: number;
  max_pipelined: number;
  sched_policy: 'cmp' | 'mru' | 'spread' | 'mnp';
  client_keepidle: number;
  /** Connections to the target now open: shared ones plus those of pinned clients. */
  shard_connections: number;
  /** null for plain TCP; `digest` = tlsDigest(spec.tls), so a manager can compare without reading keys back. */
  tls: { digest: string; request_client_cert: boolean; client_cert_enforced: boolean } | null;
  /** false when the port could not be bound (see `error`); the proxy retries in the background. */
  listening: boolean;
  error?: string;
}

/** Counters since the proxy process started (they are not persisted). */
/** How a command counts in the request figures (from its Redis command flags). */
export type RequestClass = 'read' | 'write' | 'other';

export interface EndpointStats {
  /** Connections accepted and handed to a shard (or to the TLS handshake). */
  total_connections: number;
  current_connections: number;
  /** Connections closed at once: max_connections reached or traffic stopped. */
  refused_connections: number;
  /** Bytes forwarded from clients to the shard. */
  bytes_in: number;
  /** Bytes forwarded from the shard to clients. */
  bytes_out: number;
  /**
   * Requests counted at the proxy (resp-scan.ts): complete commands forwarded to the shard, by
   * lower-case command name (the first argument): [requests, replies matched, µs from request to
   * reply summed over the matched ones]. Replies are not matched on pub/sub and MONITOR
   * connections. Cumulative since the endpoint was set up.
   */
  commands?: Record<string, [number, number, number]>;
  /** Sum of `commands`' requests. */
  total_req?: number;
  /**
   * `commands` split by class, with the classes the proxy was told (`stats` op `classes`;
   * unknown names count as other), so a name's counts move class when it is learned.
   */
  read_req?: number;
  write_req?: number;
  other_req?: number;
  read_res?: number;
  write_res?: number;
  other_res?: number;
  read_latency_us_sum?: number;
  write_latency_us_sum?: number;
  other_latency_us_sum?: number;
  /** When requests / replies were last counted (ms since the epoch, to the sampling second); absent before any. */
  last_req_ms?: number;
  last_res_ms?: number;
  /** Client connections in MONITOR mode. */
  monitor_sessions?: number;
}

/** What `probe` saw: the endpoint's listener and one PING sent from the proxy to its target. */
export interface ProbeResult {
  uid: string;
  listening: boolean;
  /** The target answered the PING (PONG, or an error such as NOAUTH: a live shard either way), not LOADING. */
  target_reachable: boolean;
  /** The first reply line, or why there was none. */
  reply: string;
}

export interface PingResult {
  pid: number;
  version: string;
  protocol: number;
  uptime_ms: number;
  /** SCHEMA_DIGEST of the proxy's build; absent in builds before it existed. */
  schema?: string;
}

const strict = { additionalProperties: false } as const;
const Uid = Type.Object({ uid: Type.String({ minLength: 1 }) }, strict);

/** Arguments of each op: the request object without `id` and `op`. */
export const OP_ARGS = {
  ping: Type.Object({}, strict),
  list: Type.Object({}, strict),
  set_endpoint: EndpointSpec,
  remove_endpoint: Uid,
  set_target: Type.Object({ uid: Type.String({ minLength: 1 }), target: Target }, strict),
  hold: Type.Object({
    uid: Type.String({ minLength: 1 }),
    /** How long to wait for the replies in flight; the hold ends at once if they are not all in by then. */
    drain_ms: Type.Integer({ minimum: 1, maximum: 60_000 }),
    /** The hold ends by itself this long after it began, unless released: on the same target, or on `successor`. */
    timeout_ms: Type.Integer({ minimum: 1, maximum: 600_000 }),
    /**
     * The shard that takes over if the switch happens. A hold that ends by itself asks it for its ROLE
     * (signed in as `user`) and moves the clients to it if it has become master: a manager that died
     * between the switch and its release leaves the clients on the new master, not on a demoted one.
     */
    successor: Type.Optional(Type.Object({ target: Target, user: Type.String({ minLength: 1 }), password: Type.String() }, strict)),
  }, strict),
  release: Type.Object({ uid: Type.String({ minLength: 1 }), target: Type.Optional(Target) }, strict),
  stop_traffic: Uid,
  resume_traffic: Uid,
  stats: Type.Object({
    uid: Type.Optional(Type.String({ minLength: 1 })),
    /** Command name → class, learned by the caller (COMMAND INFO flags): merged into the proxy's table. */
    classes: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('other')]))),
  }, strict),
  probe: Uid,
  shutdown: Type.Object({}, strict),
} satisfies Record<string, TSchema>;
export type Op = keyof typeof OP_ARGS;
/**
 * A digest of the control arguments this build accepts. A proxy keeps running through a manager upgrade; when it
 * refuses a request the new manager makes (a field or op it does not know) and reports another digest, it is an
 * older build, and the manager replaces it (ProxyClient.request).
 */
export const SCHEMA_DIGEST = createHash('sha256').update(JSON.stringify(OP_ARGS)).digest('hex').slice(0, 16);
export type OpArgs<O extends Op> = Static<(typeof OP_ARGS)[O]>;

export interface OpResults {
  ping: PingResult;
  list: { endpoints: EndpointInfo[] };
  set_endpoint: EndpointInfo;
  remove_endpoint: { removed: boolean };
  set_target: EndpointInfo;
  hold: { drained: boolean };
  release: EndpointInfo;
  stop_traffic: EndpointInfo;
  resume_traffic: EndpointInfo;
  stats: { endpoints: Record<string, EndpointStats> };
  probe: ProbeResult;
  shutdown: { pid: number };
}

/**
 * Error codes in `{ ok: false, error: { code } }`. Bind failures carry the errno code instead
 * (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`), which is what a caller acts on.
 */
export type ProxyErrorCode =
  | 'bad_request' | 'unknown_op' | 'invalid_args' | 'not_found' | 'invalid_tls' | 'shutting_down' | 'internal_error'
  | 'unavailable' | 'disconnected' | 'closed' | 'timeout' | 'incompatible' | (string & {});

export interface ProxyRequest { id: number | string; op: string; [arg: string]: unknown }
export type ProxyResponse =
  | { id: number | string | null; ok: true; result: unknown }
  | { id: number | string | null; ok: false; error: { code: ProxyErrorCode; message: string } };

/** An error either side can throw; `code` is one of ProxyErrorCode. */
export class ProxyError extends Error {
  constructor(readonly code: ProxyErrorCode, message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}

/** Check `value` against an op's argument schema; the first problem becomes the message. */
export function checkArgs<O extends Op>(op: O, value: unknown): OpArgs<O> {
  const schema = OP_ARGS[op];
  if (Value.Check(schema, value)) return value as OpArgs<O>;
  const first = Value.Errors(schema, value).First();
  throw new ProxyError('invalid_args', `${op}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid arguments'}`);
}

/** Stable digest of a TLS spec, so the manager can tell whether the proxy holds the cert it wants. */
export function tlsDigest(tls: EndpointTls): string {
  const h = createHash('sha256');
  for (const part of [tls.cert, tls.key, tls.ca ?? '', String(tls.requestClientCert ?? false), tls.minVersion ?? '', tls.ciphers ?? '']) h.update(part).update('\0');
  return h.digest('hex');
}

export function sameTarget(a: Target, b: Target): boolean {
  return a.host === b.host && a.port === b.port && a.socket === b.socket;
}

export function isOp(op: unknown): op is Op {
  return typeof op === 'string' && Object.hasOwn(OP_ARGS, op);
}
