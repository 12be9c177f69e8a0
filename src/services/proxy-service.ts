/**
 * /v1/proxies (requests/proxies/, objects/proxy.md): the node's proxy as it is. openrs's proxy is one Node.js
 * process per node (uid = node uid): one thread, no dynamic scaling, no connection-rate limiting. The object
 * reports what is true of it (threads 1, the kernel's keepalive probe settings, the process's file limit as
 * `conns`, the database port range as `max_listeners`); a PUT changes what it can honour — `client_keepidle`
 * and `ignore_bdb_cconn_limit`, applied to every endpoint, open connections included — and waits until the
 * proxy has them (the page's acknowledgment). Any other field may only repeat its current value: a different
 * one is refused (400 unsupported_option), never stored without effect.
 */
import fs from 'node:fs';
import { RsError } from '../errors.js';
import type { EndpointInfo, PingResult } from '../proxy/protocol.js';
import type { Proxy, ProxyUpdate } from '../schemas/proxy.js';
import type { KvBackend } from '../store/kv.js';
import type { BdbRecord } from './bdb-view.js';
import { endpointMaxConnections, endpointUid } from '../controller/endpoint-spec.js';
import { defaultProxySettings, proxyKey, type ProxySettings } from './proxy-settings.js';
import { orUndefinedAfter } from '../util/deadline.js';

/** How long a PUT waits for the proxy to apply the settings (the page's 504 after it). */
const ACK_TIMEOUT_MS = 10_000;
/** How long the object waits for the proxy's pid (for `conns`, left out without an answer). */
const PING_MS = 2_000;
/** The fields a PUT changes; the others may only repeat their value. */
const HONOURED = new Set(['uid', 'client_keepidle', 'ignore_bdb_cconn_limit']);

/** Node's listen backlog (net.Server.listen without `backlog`). */
const NODE_BACKLOG = 511;

export interface ProxyServiceDeps {
  kv: KvBackend;
  nodeUids: () => Promise<number[]>;
  bdbs: () => Promise<BdbRecord[]>;
  /** The proxy process's answer to ping, undefined when it does not answer. */
  ping: () => Promise<PingResult | undefined>;
  /** The endpoints as the proxy has them now. */
  endpoints: () => Promise<EndpointInfo[]>;
  /** The proxy's log level (the node's, pino names). */
  logLevel: string;
  /** Ports in the database port range. */
  listeners: number;
}

/** pino level → the object's log_level names. */
const LOG_LEVELS: Record<string, Proxy['log_level']> = { fatal: 'crit', error: 'error', warn: 'warn', info: 'info', debug: 'debug', trace: 'trace' };

function kernel(name: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function openFilesLimit(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class ProxyService {
  constructor(private readonly d: ProxyServiceDeps) {}

  private async settings(uid: number): Promise<ProxySettings> {
    return (await this.d.kv.get<ProxySettings>(proxyKey(uid)))?.value ?? defaultProxySettings(uid);
  }

  private view(s: ProxySettings, pid: number | undefined): Proxy {
    const conns = openFilesLimit(pid);
    const keepcnt = kernel('tcp_keepalive_probes');
    const keepintvl = kernel('tcp_keepalive_intvl');
    return {
      uid: s.uid,
      backlog: NODE_BACKLOG,
      client_eviction: false,
      ...(keepcnt !== undefined ? { client_keepcnt: keepcnt } : {}),
      client_keepidle: s.client_keepidle,
      ...(keepintvl !== undefined ? { client_keepintvl: keepintvl } : {}),
      ...(conns !== undefined ? { conns } : {}),
      dynamic_threads_scaling: false,
      ignore_bdb_cconn_limit: s.ignore_bdb_cconn_limit,
      ignore_bdb_cconn_output_buff_limits: false,
      incoming_connections_capacity: 0,
      incoming_connections_rate_limit: 0,
      log_level: LOG_LEVELS[this.d.logLevel] ?? 'info',
      max_listeners: this.d.listeners,
      max_threads: 1,
      threads: 1,
    };
  }

  private async known(uid: number): Promise<void> {
    if (!(await this.d.nodeUids()).includes(uid)) throw new RsError('proxy_not_found', `Proxy ${uid} does not exist`);
  }

  async list(): Promise<Proxy[]> {
    const pid = (await orUndefinedAfter(this.d.ping(), PING_MS))?.pid;
    return Promise.all((await this.d.nodeUids()).map(async (uid) => this.view(await this.settings(uid), pid)));
  }

  async get(uid: number): Promise<Proxy> {
    await this.known(uid);
    return this.view(await this.settings(uid), (await orUndefinedAfter(this.d.ping(), PING_MS))?.pid);
  }

  /** PUT /v1/proxies/{uid} (`uid` given) or PUT /v1/proxies (every proxy). */
  async update(uid: number | undefined, body: ProxyUpdate): Promise<Record<string, never>> {
    if (uid !== undefined) await this.known(uid);
    const uids = uid !== undefined ? [uid] : await this.d.nodeUids();
    const change = body.proxy ?? {};
    if (change.uid !== undefined && uid !== undefined && change.uid !== uid) throw RsError.custom('invalid_param', 400, `proxy.uid ${change.uid} is not ${uid}`);
    // The proxy is asked (for `conns`) only when the request repeats fields it does not change.
    const fixed = Object.keys(change).some((f) => !HONOURED.has(f));
    const pid = fixed ? (await orUndefinedAfter(this.d.ping(), PING_MS))?.pid : undefined;
    const next: ProxySettings[] = [];
    for (const u of uids) {
      const cur = await this.settings(u);
      const view = this.view(cur, pid) as Record<string, unknown>;
      const s: ProxySettings = { ...cur };
      for (const [field, value] of Object.entries(change)) {
        if (field === 'uid') continue;
        if (field === 'client_keepidle') s.client_keepidle = value as number;
        else if (field === 'ignore_bdb_cconn_limit') s.ignore_bdb_cconn_limit = value as boolean;
        else if (view[field] !== value) {
          throw RsError.custom('unsupported_option', 400, `${field} cannot be changed: ${field in view ? `openrs's proxy has ${field} ${JSON.stringify(view[field])}` : "openrs's proxy has no such setting"} (it can change client_keepidle and ignore_bdb_cconn_limit)`);
        }
      }
      next.push(s);
    }
    for (const s of next) await this.d.kv.put(proxyKey(s.uid), s);
    await this.acknowledged(next);
    return {};
  }

  /**
   * Wait until every endpoint of the proxy shows the settings (the reconciler applies them on the watch of /proxies/):
   * the stored ones, read again each time, so that a request whose settings a later one replaced is answered once the
   * proxy has the later ones (QA: concurrent PUTs got 504 waiting for values that were no longer wanted).
   */
  private async acknowledged(settings: ProxySettings[]): Promise<void> {
    const uid = settings[0]?.uid;
    if (uid === undefined) return;
    const bdbs = await this.d.bdbs();
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    for (;;) {
      const s = await this.settings(uid);
      const eps = await orUndefinedAfter(this.d.endpoints().catch(() => undefined), deadline - Date.now());
      const applied = eps?.every((e) => {
        const bdb = bdbs.find((b) => endpointUid(b.uid) === e.uid);
        return e.client_keepidle === s.client_keepidle && (!bdb || e.max_connections === endpointMaxConnections(bdb, s));
      });
      if (applied) return;
      if (Date.now() > deadline) throw RsError.custom('proxy_timeout', 504, 'Timeout while waiting for confirmation from the proxy: the settings are stored and will be applied when it answers');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

