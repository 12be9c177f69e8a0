/**
 * The bdb reconciler: compares a database's desired state (its record and shard records in the
 * CCS) with the running world (redis-server processes, their config and ACL users, the proxy's
 * endpoint) and moves the world toward it, reporting through the bdb status and its action.
 * Level-based: it never asks "what changed", so a restart at any point converges.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { configDrift, defaultUserRules, directivesFor } from '../redis/config-map.js';
import type { ShardSpec } from '../redis/supervisor.js';
import type { ActionService } from '../services/action-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ShardInventory, ShardSummary } from '../services/shard-inventory.js';
import type { EventLog } from '../events/event-log.js';
import type { KvBackend } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import type { DataPlane } from './data-plane.js';
import { TerminalError, type ReconcileResult } from './queue.js';

const LOOPBACK = '127.0.0.1';
/** After this many failed attempts a database that never became active is marked creation-failed. */
const MAX_CREATE_ATTEMPTS = 5;

export interface BdbControllerDeps {
  kv: KvBackend;
  bdbs: Collection<BdbRecord>;
  shardsStore: Collection<ShardSummary>;
  shards: ShardInventory;
  actions: ActionService;
  plane: DataPlane;
  events: EventLog;
  log: Logger;
  /** Address endpoints listen on (the API address: 0.0.0.0 by default). */
  endpointAddr: string;
}

export const bdbKey = (uid: number) => `bdb:${uid}`;

export class BdbController {
  private readonly attempts = new Map<number, number>();

  constructor(private readonly d: BdbControllerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const uid = Number(key.split(':')[1]);
    const rec = (await this.d.bdbs.get(uid))?.value;
    const shards = (await this.d.shards.all()).filter((s) => s.bdb_uid === uid);
    const action = await this.d.actions.openFor(key);
    if (action?.status === 'pending') await this.d.actions.transition(action.action_uid, 'active', { progress: 10, state: 'running' });
    try {
      if (!rec) {
        await this.teardown(uid, shards);
        return;
      }
      if (rec.status === 'delete-pending') {
        await this.teardown(uid, shards);
        await this.d.kv.txn([], [this.d.bdbs.deleteOp(uid), ...shards.map((s) => this.d.shardsStore.deleteOp(s.uid))]);
        if (action) await this.d.actions.transition(action.action_uid, 'completed');
        this.attempts.delete(uid);
        return;
      }
      const res = await this.converge(rec, shards, action?.action_uid);
      if (res) return res;
      if (rec.status !== 'active') await this.setStatus(uid, 'active');
      if (action) await this.d.actions.transition(action.action_uid, 'completed');
      this.attempts.delete(uid);
    } catch (err) {
      const n = (this.attempts.get(uid) ?? 0) + 1;
      this.attempts.set(uid, n);
      const terminal = err instanceof TerminalError || (rec?.status === 'pending' && n >= MAX_CREATE_ATTEMPTS);
      if (terminal && rec) {
        if (rec.status === 'pending') await this.setStatus(uid, 'creation-failed');
        if (action) await this.d.actions.transition(action.action_uid, 'failed', { error: (err as Error).message, error_code: 'internal_error' });
        this.d.events.write('bdb_reconcile_failed', { bdb_uid: String(uid), message: (err as Error).message }, 'ERROR');
        throw new TerminalError((err as Error).message);
      }
      throw err;
    }
  }

  private async setStatus(uid: number, status: BdbRecord['status']): Promise<void> {
    const cur = await this.d.bdbs.get(uid);
    if (!cur || cur.value.status === status) return;
    try {
      await this.d.bdbs.kvPut({ ...cur.value, status }, cur.modRevision);
    } catch {
      // Changed meanwhile: the watch will bring this key back, and the next pass sets the status.
    }
  }

  private spec(rec: BdbRecord, s: ShardSummary, master?: ShardSummary): ShardSpec {
    return {
      uid: s.uid,
      port: s.port!,
      dir: s.dir!,
      directives: { ...directivesFor(rec, s.role), ...(master ? { replicaof: `${LOOPBACK} ${master.port}` } : {}) },
      aclFile: true,
    };
  }

  /** Make processes, config, ACL users, replication and the endpoint match; undefined when done. */
  private async converge(rec: BdbRecord, shards: ShardSummary[], actionUid?: string): Promise<ReconcileResult | undefined> {
    const { plane } = this.d;
    const master = shards.find((s) => s.role === 'master');
    if (!master) throw new TerminalError(`database ${rec.uid} has no master shard`);
    const replicas = shards.filter((s) => s.role === 'slave');
    await this.stopRemovedShards(rec.uid, shards);

    // A dead master with a live replica must fail over, never restart: a replicated master may
    // not persist, and a replica resyncing from an empty master would lose the data.
    if (replicas.length && !(await this.alive(master)) && (await this.anyAlive(replicas))) {
      await this.failover(rec.uid, 'master not running');
      return { requeueAfterMs: 0 };
    }
    for (const s of [master, ...replicas]) {
      let h = plane.handles.get(s.uid);
      if (!h || !plane.supervisor.isAlive(h)) {
        const spec = this.spec(rec, s, s.role === 'slave' ? master : undefined);
        h = (await plane.supervisor.adopt(spec)) ?? (await plane.supervisor.start(spec));
        plane.handles.set(s.uid, h);
        if (!h.adopted) this.d.log.info({ bdb: rec.uid, shard: s.uid, port: s.port, role: s.role }, 'shard started');
      }
    }
    if (actionUid) await this.d.actions.transition(actionUid, 'active', { progress: 50, state: 'configuring' });

    for (const s of [master, ...replicas]) {
      const admin = plane.admin(s);
      const desired = directivesFor(rec, s.role);
      const observed = await admin.configGetAll(...Object.keys(desired));
      for (const step of configDrift(desired, observed)) await admin.configSet(step.directive, step.value);
      await admin.aclSetUser('default', defaultUserRules(rec, rec.passwords));
      await admin.command('ACL', ['SAVE']);
      const role = await admin.role();
      if (s.role === 'master' && role.role !== 'master') await admin.replicaOfNoOne();
      if (s.role === 'slave' && (role.role !== 'slave' || role.masterPort !== master.port)) await admin.replicaOf(LOOPBACK, master.port!);
    }

    await plane.ensureProxy();
    await plane.proxy.setEndpoint({
      uid: `${rec.uid}:1`,
      port: rec.endpoint_port,
      addr: this.d.endpointAddr,
      target: { host: LOOPBACK, port: master.port! },
      ...(rec.max_connections ? { max_connections: rec.max_connections } : {}),
      traffic: rec.traffic,
    });

    for (const r of replicas) {
      const info = (await plane.admin(r).info('replication')).replication ?? {};
      if (info.master_link_status !== 'up' || info.master_sync_in_progress === '1') return { requeueAfterMs: 50 };
    }
    return undefined;
  }

  private async alive(s: ShardSummary): Promise<boolean> {
    const h = this.d.plane.handles.get(s.uid);
    if (h && this.d.plane.supervisor.isAlive(h)) return true;
    return this.d.plane.supervisor.ping({ uid: s.uid, port: s.port!, dir: s.dir! }, 300);
  }

  private async anyAlive(list: ShardSummary[]): Promise<boolean> {
    for (const s of list) if (await this.alive(s)) return true;
    return false;
  }

  /**
   * Promote the first answering replica: REPLICAOF NO ONE, swap the roles in the CCS, point the
   * endpoint at it, and stop the old master (the next reconcile restarts it as a replica).
   */
  async failover(bdbUid: number, reason: string): Promise<boolean> {
    const { plane } = this.d;
    const shards = (await this.d.shards.all()).filter((s) => s.bdb_uid === bdbUid);
    const master = shards.find((s) => s.role === 'master');
    let replica: ShardSummary | undefined;
    for (const r of shards.filter((s) => s.role === 'slave')) {
      if (await plane.supervisor.ping({ uid: r.uid, port: r.port!, dir: r.dir! }, 300)) {
        replica = r;
        break;
      }
    }
    if (!master || !replica) return false;
    await plane.admin(replica).replicaOfNoOne();
    await plane.ensureProxy();
    await plane.proxy.setTarget(`${bdbUid}:1`, { host: LOOPBACK, port: replica.port! });
    await this.d.kv.txn([], [
      this.d.shardsStore.putOp({ ...replica, role: 'master' }),
      this.d.shardsStore.putOp({ ...master, role: 'slave' }),
    ]);
    const old = plane.handles.get(master.uid);
    plane.forget(master.uid);
    await plane.supervisor.stop(old ?? { uid: master.uid, port: master.port!, dir: master.dir! }, { save: false }).catch(() => undefined);
    this.d.events.write('shard_failover', { bdb_uid: String(bdbUid), old_master: String(master.uid), new_master: String(replica.uid), reason }, 'WARNING');
    this.d.log.warn({ bdb: bdbUid, from: master.uid, to: replica.uid, reason }, 'failover');
    return true;
  }

  /** Run one Redis command on the database's master shard (POST /v1/bdbs/{uid}/command). */
  async runCommand(bdbUid: number, command: string, args: (string | number)[]): Promise<unknown> {
    const master = (await this.d.shards.all()).find((s) => s.bdb_uid === bdbUid && s.role === 'master');
    if (!master) throw new Error(`database ${bdbUid} has no master shard`);
    return this.d.plane.admin(master).command(command, args);
  }

  /** Whether this manager sees the shard's process running. */
  shardRunning(shardUid: number): boolean {
    const h = this.d.plane.handles.get(shardUid);
    return h !== undefined && this.d.plane.supervisor.isAlive(h);
  }

  /** Stop processes of shards this manager runs for the bdb that are no longer in its layout. */
  private async stopRemovedShards(bdbUid: number, shards: ShardSummary[]): Promise<void> {
    const wanted = new Set(shards.map((s) => s.uid));
    for (const [suid, h] of [...this.d.plane.handles]) {
      if (wanted.has(suid) || !h.dir.includes(`/bdb-${bdbUid}/`)) continue;
      await this.d.plane.supervisor.stop(h, { save: false });
      this.d.plane.forget(suid);
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  }

  /** Delete: stop every shard, remove the endpoint and the files. */
  private async teardown(bdbUid: number, shards: ShardSummary[]): Promise<void> {
    const { plane } = this.d;
    await plane.ensureProxy().then(() => plane.proxy.removeEndpoint(`${bdbUid}:1`)).catch(() => undefined);
    for (const s of shards) {
      const h = plane.handles.get(s.uid);
      await plane.supervisor.stop(h ?? { uid: s.uid, port: s.port!, dir: s.dir! }, { save: false }).catch(() => undefined);
      plane.forget(s.uid);
      if (s.dir) fs.rmSync(s.dir, { recursive: true, force: true });
    }
    await this.stopRemovedShards(bdbUid, []);
    const bdbDir = shards[0]?.dir?.replace(/\/shard-[0-9]+$/, '');
    if (bdbDir) fs.rmSync(bdbDir, { recursive: true, force: true });
  }
}
