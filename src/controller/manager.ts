/**
 * Runs the reconcilers: a work queue fed by the CCS watch on bdbs and shards, a full resync at
 * start (so a restarted manager re-adopts or restarts everything), and the watchdog.
 */
import type { Logger } from 'pino';
import type { KvBackend, Unwatch } from '../store/kv.js';
import { BDBS_PREFIX } from '../services/bdb-service.js';
import { BDB_CERTIFICATES_PREFIX } from '../services/bdb-certificate-service.js';
import { PROXIES_PREFIX } from '../services/proxy-settings.js';
import { SHARDS_PREFIX, type ShardInventory } from '../services/shard-inventory.js';
import type { Collection } from '../store/object-store.js';
import type { BdbRecord } from '../services/bdb-view.js';
import { ACCESS_WATCHES, AccessChanges, CLUSTER_KEY, dataTlsPolicyOf, PROXY_CERT_KEY } from './access-reader.js';
import { bdbKey, type BdbController } from './bdb-controller.js';
import { tlsEnabled, type DataTlsPolicy } from './endpoint-spec.js';
import type { DataPlane } from './data-plane.js';
import { WorkQueue } from './queue.js';
import { Watchdog, type ShardState, type WatchdogOptions } from './watchdog.js';

export interface Sidecar {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class ControllerManager {
  readonly queue: WorkQueue;
  private readonly watchdog: Watchdog;
  private unwatch: Unwatch[] = [];
  private readonly sidecars: Sidecar[] = [];

  constructor(
    private readonly kv: KvBackend,
    private readonly bdbs: Collection<BdbRecord>,
    private readonly shards: ShardInventory,
    readonly controller: BdbController,
    private readonly plane: DataPlane,
    private readonly log: Logger,
    watchdog: WatchdogOptions = {},
  ) {
    this.queue = new WorkQueue((key) => controller.reconcile(key), {
      onError: (key, err, attempt) => log.warn({ key, attempt, err: (err as Error).message }, 'reconcile failed'),
    });
    this.watchdog = new Watchdog(plane, shards, controller, (uid) => this.queue.add(bdbKey(uid)), log, watchdog);
  }

  async start(): Promise<void> {
    await this.controller.failInterruptedRequests();
    const rev = await this.kv.revision();
    const existing = await this.bdbs.list();
    // Re-adopt the proxy at once when databases exist, so their endpoints are checked early.
    if (existing.length) await this.plane.ensureProxy();
    for (const b of existing) this.queue.add(bdbKey(b.uid));
    const uidOf = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1));
    this.unwatch.push(this.kv.watch(BDBS_PREFIX, rev, (evs) => evs.forEach((e) => {
      if (e.type === 'put' && this.controller.ownWrite(e.revision)) return;
      this.queue.add(bdbKey(uidOf(e.key)));
    })));
    this.unwatch.push(this.kv.watch(SHARDS_PREFIX, rev, (evs) => evs.forEach((e) => {
      const bdb = (e.value as { bdb_uid?: number } | undefined)?.bdb_uid;
      if (bdb !== undefined) this.queue.add(bdbKey(bdb));
    })));
    // Database users come from users, roles and Redis ACLs: a change to any re-applies them on the
    // databases that map roles; a new proxy certificate goes to the TLS endpoints.
    const access = new AccessChanges();
    for (const prefix of ACCESS_WATCHES) {
      this.unwatch.push(this.kv.watch(prefix, rev, (evs) => {
        if (evs.filter((e) => access.relevant(e)).length) void this.enqueueWhere((b) => !!b.roles_permissions?.length);
      }));
    }
    this.unwatch.push(this.kv.watch(PROXY_CERT_KEY, rev, () => void this.enqueueWhere(tlsEnabled)));
    // A database's own certificate (set, replaced or deleted) is its endpoint's alone.
    this.unwatch.push(this.kv.watch(BDB_CERTIFICATES_PREFIX, rev, (evs) => evs.forEach((e) => this.queue.add(bdbKey(uidOf(e.key))))));
    // The data-plane TLS policy (min_data_TLS_version, cipher lists) is in every TLS endpoint's spec; the
    // cluster record changes for many other reasons, so only a change of those fields re-applies them.
    let dataTls: string | undefined;
    this.unwatch.push(this.kv.watch(CLUSTER_KEY, rev, (evs) => {
      const ev = evs.filter((e) => e.key === CLUSTER_KEY).at(-1);
      if (!ev) return;
      const print = JSON.stringify(dataTlsPolicyOf(ev.value as DataTlsPolicy | undefined));
      if (print === dataTls) return;
      dataTls = print;
      void this.enqueueWhere(tlsEnabled);
    }));
    // Proxy settings are in every endpoint's spec.
    this.unwatch.push(this.kv.watch(PROXIES_PREFIX, rev, () => void this.enqueueWhere(() => true)));
    this.watchdog.start();
    for (const c of this.sidecars) await c.start();
  }

  /** The shard's detailed_status (and loading progress) as the watchdog sees it (see Watchdog.state). */
  shardState(shardUid: number): ShardState {
    return this.watchdog.state(shardUid);
  }

  /** Another controller that starts after this one and stops before it (e.g. backups: controller/backup-controller.ts). */
  addSidecar(c: Sidecar): void {
    this.sidecars.push(c);
  }

  private async enqueueWhere(match: (b: BdbRecord) => boolean): Promise<void> {
    try {
      for (const b of await this.bdbs.list()) if (match(b)) this.queue.add(bdbKey(b.uid));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot list databases to re-apply access settings');
    }
  }

  /**
   * Stop reconciling. Shards and the proxy keep serving (RS semantics: the data plane outlives
   * the manager) unless `stopDatabases`: then every shard in the CCS (saving what it persists)
   * and the proxy are stopped too.
   */
  async stop(opts: { stopDatabases?: boolean } = {}): Promise<void> {
    for (const c of this.sidecars) await c.stop();
    this.watchdog.stop();
    this.unwatch.forEach((u) => u());
    this.unwatch = [];
    await this.queue.stop();
    if (opts.stopDatabases) {
      for (const s of await this.shards.all()) {
        if (s.port === undefined || s.dir === undefined) continue;
        // SHUTDOWN as configured: an AOF is flushed, snapshot points save; a database without persistence writes nothing.
        await this.plane.supervisor.stop(this.plane.handles.get(s.uid) ?? { uid: s.uid, port: s.port, dir: s.dir }).catch(() => undefined);
      }
      this.plane.handles.clear();
      await this.plane.stopProxy().catch(() => undefined);
    }
    this.plane.closeClients();
  }
}
