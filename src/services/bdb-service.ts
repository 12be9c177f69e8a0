/**
 * Databases (requests/bdbs): validate against the spec's rules, then write the desired bdb, its
 * shard layout and a state-machine action in ONE transaction and return at once; the reconciler
 * (controller/bdb-controller.ts) makes real redis-server processes and the proxy endpoint match.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { RsError } from '../errors.js';
import type { Config } from '../config.js';
import { expandReserved, type PortAllocator } from '../redis/ports.js';
import { dbPersistence, maxClientsWithin, perShardMemory } from '../redis/config-map.js';
import type { RestartOptions } from '../controller/bdb-controller.js';
import type { UpgradeRequest } from '../schemas/bdb-actions.js';
import type { Bdb, BdbCreate, BdbUpdate, ShardsBlueprint } from '../schemas/bdb.js';
import { KvConflictError, type KvBackend, type Op } from '../store/kv.js';
import { Collection, type Singleton } from '../store/object-store.js';
import { rsTime, type Clock } from '../util/clock.js';
import type { EventLog } from '../events/event-log.js';
import type { ActionService } from './action-service.js';
import { REDIS_ACLS_PREFIX, ROLES_PREFIX } from './access-defaults.js';
import { BdbRuleError, checkCreate, checkUpdate, checkUpdateAction, keepMaskedPasswords, versionAvailable, versionUnavailable, type BdbRulesContext } from './bdb-rules.js';
import { bdbView, endpointAddr, type BdbRecord, type ViewContext } from './bdb-view.js';
import type { ClusterRecord } from './cluster-defaults.js';
import type { NodeRecord } from './node-service.js';
import { SHARDS_PREFIX, type ShardInventory, type ShardSummary } from './shard-inventory.js';
import { blueprintProblem, clusterStateId, currentBlueprint, optimalBlueprint, sameBlueprint, type BlueprintEntry } from './shard-placement.js';
import type { ClusterSettings } from '../schemas/cluster-settings.js';

export const BDBS_PREFIX = '/bdbs/';

export interface BdbServiceDeps {
  kv: KvBackend;
  bdbs: Collection<BdbRecord>;
  shardsStore: Collection<ShardSummary>;
  shards: ShardInventory;
  cluster: Singleton<ClusterRecord>;
  policy: Singleton<ClusterSettings>;
  nodes: Collection<NodeRecord>;
  actions: ActionService;
  ports: PortAllocator;
  config: Config;
  clock: Clock;
  events: EventLog;
  redisVersion: () => string | undefined;
  totalMemory: () => number;
  /** The open-files hard limit the shards inherit (host-facts openFilesLimit); unchecked when absent. */
  openFilesHard?: () => number;
  /** Runs a command on the master shard (the controller owns shard connections). */
  runCommand: (bdbUid: number, command: string, args: (string | number)[]) => Promise<unknown>;
  /** Restarts the database's shards on the installed redis-server (the controller's restartShards); the shards restarted. */
  restartShards: (bdbUid: number, o: RestartOptions, step: (state: string, progress: number) => Promise<void>) => Promise<number[]>;
}

export type WithAction<T> = T & { action_uid: string };

/** dry_run, and the `cluster-state-id` request header (checked when given). */
export interface PlacementOptions {
  dryRun: boolean;
  stateId?: string;
}

export interface ViewOptions {
  /** The caller may not see the database's passwords. */
  hidePasswords?: boolean;
}

/** The actions of PUT /v1/bdbs/{uid}/{action} (requests/bdbs "Update database and perform action"). */
export const BDB_UPDATE_ACTIONS = ['flush', 'reset_admin_pass'] as const;
const isUpdateAction = (a: string): a is (typeof BDB_UPDATE_ACTIONS)[number] => (BDB_UPDATE_ACTIONS as readonly string[]).includes(a);

export class BdbService {
  /** Read for roles_permissions references only (uids). */
  private readonly roles: Collection<{ uid: number }>;
  private readonly redisAcls: Collection<{ uid: number }>;

  constructor(private readonly d: BdbServiceDeps) {
    this.roles = new Collection(d.kv, ROLES_PREFIX);
    this.redisAcls = new Collection(d.kv, REDIS_ACLS_PREFIX);
  }

  private async rec(uid: number): Promise<{ value: BdbRecord; modRevision: number }> {
    const r = await this.d.bdbs.get(uid);
    if (!r) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    return r;
  }

  /**
   * The API's bdb object. Passwords are masked when the cluster says so (mask_bdb_credentials) or
   * when the caller's role lacks view_redis_pass (permissions.md: db_viewer, cluster_viewer).
   */
  async view(rec: BdbRecord, opts: ViewOptions = {}): Promise<Bdb> {
    const { shards, ctx } = await this.viewInputs(opts);
    return bdbView(rec, shards, ctx);
  }

  /** What every bdb object is built from, read once for a whole list. */
  private async viewInputs(opts: ViewOptions): Promise<{ shards: ShardSummary[]; ctx: ViewContext }> {
    const [cluster, nodes, shards] = await Promise.all([this.d.cluster.get(), this.d.nodes.list(), this.d.shards.all()]);
    return {
      shards,
      ctx: {
        clusterName: cluster!.value.name,
        endpointAddr: endpointAddr(this.d.config.api_addr, nodes[0]?.addr ?? '127.0.0.1'),
        maskCredentials: cluster!.value.mask_bdb_credentials === true || opts.hidePasswords === true,
      },
    };
  }

  async list(opts: ViewOptions = {}): Promise<Bdb[]> {
    const [recs, { shards, ctx }] = await Promise.all([this.d.bdbs.list(), this.viewInputs(opts)]);
    return recs.map((r) => bdbView(r, shards, ctx));
  }

  async get(uid: number, opts: ViewOptions = {}): Promise<Bdb> {
    return this.view((await this.rec(uid)).value, opts);
  }

  /** The raw record (controller and password routes). */
  async record(uid: number): Promise<BdbRecord> {
    return (await this.rec(uid)).value;
  }

  private async rulesContext(excludeUid?: number): Promise<BdbRulesContext> {
    const all = (await this.d.bdbs.list()).filter((b) => b.uid !== excludeUid);
    const cluster = (await this.d.cluster.get())!.value;
    const policy = (await this.d.policy.get())?.value;
    const version = this.d.redisVersion();
    if (!version) throw RsError.custom('insufficient_resources', 406, 'redis-server is not installed on this node (see README: scripts/setup.sh)');
    return {
      usedPorts: all.map((b) => b.endpoint_port),
      portRange: this.d.config.db_ports,
      reservedPorts: [...(cluster.reserved_ports ?? []), ...(cluster.system_reserved_ports ?? []).map(String)],
      existingNames: all.map((b) => b.name),
      clusterMemoryBytes: this.d.totalMemory(),
      redisVersion: version,
      existingUids: all.map((b) => b.uid),
      shardsOverbooking: policy?.shards_overbooking ?? true,
      now: this.d.clock.now(),
      nodeUids: (await this.d.nodes.list()).map((n) => n.uid),
      roleUids: (await this.roles.list()).map((r) => r.uid),
      redisAclUids: (await this.redisAcls.list()).map((a) => a.uid),
      ...(this.d.openFilesHard ? { maxClients: maxClientsWithin(this.d.openFilesHard()) } : {}),
    };
  }

  async create(request: BdbCreate, opts: PlacementOptions): Promise<WithAction<Bdb> | Bdb> {
    const { shards_blueprint: blueprint, ...body } = request;
    const ctx = await this.rulesContext();
    const eff = checkCreate(body, ctx);
    await this.checkPlacement(eff, blueprint, opts.stateId, ctx);
    if (opts.dryRun) return this.view({ ...(eff as BdbRecord), uid: eff.uid ?? 0, endpoint_port: eff.port ?? 0, passwords: [], traffic: 'on' });

    const requestedPort = eff.port ?? 0;
    let endpointPort = requestedPort;
    if (!endpointPort) {
      const taken = new Set([...ctx.usedPorts, ...expandReserved(ctx.reservedPorts)]);
      const p = await this.d.ports.allocate(this.d.config.db_ports, taken);
      if (p === undefined) throw new BdbRuleError('port_unavailable', 'No free port is left in the database port range');
      endpointPort = p;
    } else if (!(await this.d.ports.isFree(endpointPort))) {
      throw new BdbRuleError('port_unavailable', `Port ${endpointPort} is in use on this node`);
    }
    const uid = eff.uid ?? (await this.d.bdbs.allocateUid());
    const now = rsTime(this.d.clock.now());
    const version = this.d.redisVersion()!;
    const password = eff.authentication_redis_pass ?? '';
    const rec: BdbRecord = {
      ...(eff as BdbRecord),
      uid,
      port: requestedPort,
      endpoint_port: endpointPort,
      passwords: password ? [password] : [],
      traffic: 'on',
      // RS generates the admin password (replication/SYNC access) itself; reset_admin_pass renews it.
      authentication_admin_pass: eff.authentication_admin_pass || randomBytes(24).toString('base64url'),
      status: 'pending',
      created_time: now,
      last_changed_time: now,
      version,
      redis_version: version.split('.').slice(0, 2).join('.'),
    };
    const shardOps = await this.layoutShards(rec, []);
    const { action, op } = this.d.actions.create('SMCreateBDB', `bdb:${uid}`);
    const res = await this.d.kv.txn([{ key: this.d.bdbs.key(uid), modRevision: 0 }], [this.d.bdbs.putOp(rec), ...shardOps, op]);
    if (!res.succeeded) throw new BdbRuleError('uid_exists', `Database uid ${uid} is already in use`);
    this.d.events.write('cluster_bdb_created', { bdb_uid: String(uid), bdb_name: rec.name });
    await this.d.actions.prune();
    return { ...(await this.view(rec)), action_uid: action.action_uid };
  }

  /**
   * Shard records for the bdb's topology: one master per shard, plus a replica each when
   * replication is on. Existing shards are kept (matched by role order); missing ones get a
   * uid, a loopback port and a directory; extra ones are deleted.
   */
  private async layoutShards(rec: BdbRecord, existing: ShardSummary[]): Promise<Op[]> {
    const node = (await this.d.nodes.list())[0]!;
    const wanted: ('master' | 'slave')[] = ['master', ...(rec.replication ? ['slave' as const] : [])];
    // Unused existing shards, masters first; each wanted role takes one of its own role, else any.
    const unused = [...existing].sort((a, b) => (a.role === b.role ? a.uid - b.uid : a.role === 'master' ? -1 : 1));
    const take = (role: 'master' | 'slave'): ShardSummary | undefined => {
      const i = Math.max(0, unused.findIndex((s) => s.role === role));
      return unused.splice(i, 1)[0];
    };
    const ops: Op[] = [];
    const all = await this.d.shards.all();
    const takenPorts = new Set(all.map((s) => s.port).filter((p): p is number => p !== undefined));
    const memory = perShardMemory(rec);
    for (const role of wanted) {
      const cur = take(role);
      if (cur) {
        ops.push(this.d.shardsStore.putOp({ ...cur, memory_limit: memory }));
        continue;
      }
      const port = await this.d.ports.allocate(this.d.config.shard_ports, takenPorts);
      if (port === undefined) throw new BdbRuleError('insufficient_resources', 'No free port is left in the shard port range');
      takenPorts.add(port);
      const suid = await this.d.shardsStore.allocateUid();
      ops.push(this.d.shardsStore.putOp({
        uid: suid, bdb_uid: rec.uid, node_uid: node.uid, role, memory_limit: memory, port,
        dir: path.join(node.persistent_storage_path, `bdb-${rec.uid}`, `shard-${suid}`), assigned_slots: '0-16383',
      }));
    }
    for (const s of unused) ops.push(this.d.shardsStore.deleteOp(s.uid));
    return ops;
  }

  private ensureIdle(uid: number): Promise<void> {
    return this.d.actions.ensureIdle(`bdb:${uid}`);
  }

  /**
   * Record a new action on the database that the request itself runs (the record stays as it is: the database
   * serves throughout). The unchanged record is written with it, so that a concurrent change or action of the
   * database conflicts (409) rather than running beside it.
   */
  private async startAction(cur: { value: BdbRecord; modRevision: number }, sm: string): Promise<string> {
    await this.ensureIdle(cur.value.uid);
    const { action, op } = this.d.actions.create(sm, `bdb:${cur.value.uid}`);
    const res = await this.d.kv.txn([{ key: this.d.bdbs.key(cur.value.uid), modRevision: cur.modRevision }], [this.d.bdbs.putOp(cur.value), op]);
    if (!res.succeeded) throw new BdbRuleError('busy', 'The database was changed concurrently; retry');
    return action.action_uid;
  }

  /** Write a changed record with a new action (status → active-change-pending). */
  private async commit(cur: { value: BdbRecord; modRevision: number }, next: BdbRecord, sm: string, extraOps: Op[] = []): Promise<string> {
    const { action, op } = this.d.actions.create(sm, `bdb:${next.uid}`);
    const rec: BdbRecord = { ...next, status: sm === 'SMDeleteBDB' ? 'delete-pending' : 'active-change-pending', last_changed_time: rsTime(this.d.clock.now()) };
    try {
      const res = await this.d.kv.txn([{ key: this.d.bdbs.key(next.uid), modRevision: cur.modRevision }], [this.d.bdbs.putOp(rec), ...extraOps, op]);
      if (!res.succeeded) throw new KvConflictError(this.d.bdbs.key(next.uid));
    } catch (e) {
      if (e instanceof KvConflictError) throw new BdbRuleError('busy', 'The database was changed concurrently; retry');
      throw e;
    }
    return action.action_uid;
  }

  async update(uid: number, request: BdbUpdate, opts: PlacementOptions): Promise<WithAction<Bdb> | Bdb> {
    const { shards_blueprint: blueprint, ...body } = request;
    const cur = await this.rec(uid);
    const patch = keepMaskedPasswords(cur.value, body);
    if (cur.value.status === 'delete-pending') throw new BdbRuleError('busy', `Database ${uid} is being deleted`);
    // Its shards cannot start: recover it first (POST /v1/bdbs/{uid}/actions/recover, docs/notes-backup.md).
    if (cur.value.status === 'recovery' && !opts.dryRun) throw new BdbRuleError('busy', `Database ${uid} is in recovery; recover it first`);
    const ctx = await this.rulesContext(uid);
    const eff = checkUpdate(cur.value, patch, ctx) as BdbRecord;
    await this.checkPlacement(eff, blueprint, opts.stateId, ctx, await this.d.shards.ofBdb(uid));
    if (patch.authentication_redis_pass !== undefined) {
      eff.passwords = patch.authentication_redis_pass ? [patch.authentication_redis_pass] : [];
    }
    if (opts.dryRun) return this.view(eff);
    await this.ensureIdle(uid);
    const topology = patch.replication !== undefined && patch.replication !== cur.value.replication;
    const shardOps = topology || patch.memory_size !== undefined
      ? await this.layoutShards(eff, await this.d.shards.ofBdb(uid))
      : [];
    const action_uid = await this.commit(cur, eff, 'SMUpdateBDB', shardOps);
    this.d.events.write('bdb_updated', { bdb_uid: String(uid), bdb_name: eff.name, fields: Object.keys(patch) });
    return { ...(await this.get(uid)), action_uid };
  }

  /**
   * PUT /v1/bdbs/{uid}/{action}: the update, then `flush` (FLUSHALL on the master; replicas
   * follow) or `reset_admin_pass` (a new authentication_admin_pass, written with the update).
   */
  async updateWithAction(uid: number, patch: BdbUpdate, action: string, opts: { dryRun: boolean }): Promise<WithAction<Bdb> | Bdb> {
    if (!isUpdateAction(action)) {
      throw new RsError('unsupported_action', `Unknown action '${action}': supported actions are ${BDB_UPDATE_ACTIONS.join(' and ')}`);
    }
    const cur = (await this.rec(uid)).value;
    checkUpdateAction(cur, action);
    const full: BdbUpdate = action === 'reset_admin_pass'
      ? { ...patch, authentication_admin_pass: randomBytes(24).toString('base64url') } as BdbUpdate
      : patch;
    const res = await this.update(uid, full, opts);
    if (action === 'flush' && !opts.dryRun) {
      await this.d.runCommand(uid, 'FLUSHALL', []);
      this.d.events.write('bdb_flushed', { bdb_uid: String(uid), bdb_name: cur.name });
    }
    return res;
  }

  async delete(uid: number): Promise<{ action_uid: string }> {
    const cur = await this.rec(uid);
    const st = cur.value.status;
    if (st !== 'active' && st !== 'creation-failed' && st !== 'recovery') {
      throw new BdbRuleError('busy', `Database ${uid} is '${st}' and cannot be deleted now`);
    }
    await this.ensureIdle(uid);
    const action_uid = await this.commit(cur, cur.value, 'SMDeleteBDB');
    this.d.events.write('cluster_bdb_deleted', { bdb_uid: String(uid), bdb_name: cur.value.name });
    return { action_uid };
  }

  /**
   * POST /v1/bdbs/{uid}/upgrade: restart the shards on the installed redis-server (after a package upgrade, or
   * `force_restart`), as an SMUpgradeBDB action run by this request; the answer is the bdb with the action_uid.
   * Data is kept (replica first, then a handover) unless the database has neither replication nor persistence
   * (may_discard_data must say so) or force_discard asks to start empty.
   */
  async upgrade(uid: number, body: UpgradeRequest): Promise<WithAction<Bdb>> {
    const cur = await this.rec(uid);
    const rec = cur.value;
    if (rec.status !== 'active') throw new BdbRuleError('busy', `Database ${uid} is '${rec.status}'`);
    if (body.modules?.length) throw RsError.custom('missing_module', 400, `Database ${uid} has no modules to upgrade: openrs runs no Redis modules`);
    const installed = this.d.redisVersion() ?? '';
    if (body.redis_version !== undefined && !versionAvailable(body.redis_version, installed)) {
      throw RsError.custom('invalid_version', 400, versionUnavailable('redis_version', body.redis_version, installed));
    }
    if (body.swap_roles === true && body.preserve_roles === true) throw RsError.custom('invalid_param', 400, 'swap_roles and preserve_roles contradict each other');
    const losesData = !rec.replication && !dbPersistence(rec);
    if (losesData && !body.may_discard_data && !body.force_discard) {
      throw RsError.custom('discard_data_required', 400, `Database ${uid} has neither replication nor persistence: restarting its shards loses its data. Set may_discard_data to allow it`);
    }
    const actionUid = await this.startAction(cur, 'SMUpgradeBDB');
    const preserveRoles = body.preserve_roles === true || body.swap_roles === false;
    const o: RestartOptions = { force: body.force_restart === true || body.force_discard === true, discard: body.force_discard === true || losesData, preserveRoles };
    void this.runUpgrade(actionUid, uid, o);
    return { ...(await this.view(rec)), action_uid: actionUid };
  }

  private async runUpgrade(actionUid: string, uid: number, o: RestartOptions): Promise<void> {
    try {
      await this.d.actions.transition(actionUid, 'active', { progress: 0, state: 'init' });
      try {
        const restarted = await this.d.restartShards(uid, o, (state, progress) => this.d.actions.transition(actionUid, 'active', { state, progress }).then(() => undefined));
        if (restarted.length) this.d.events.write('bdb_upgraded', { bdb_uid: String(uid), shards: restarted.map(String), discarded: o.discard && restarted.length > 0 });
        await this.d.actions.transition(actionUid, 'completed', { progress: 100 });
      } catch (e) {
        await this.d.actions.transition(actionUid, 'failed', { error: (e as Error).message, error_code: 'upgrade_failed' });
      }
    } catch {
      // The store is gone (the manager stops): the next start marks the action failed (failInterruptedRequests).
    }
  }

  /** The `cluster-state-id` of now (shard-placement.ts): of the nodes and shards records. */
  async clusterStateId(): Promise<number> {
    return clusterStateId([...(await this.d.kv.list('/nodes/')), ...(await this.d.kv.list(SHARDS_PREFIX))]);
  }

  /**
   * A request's `cluster-state-id` header must name the state of now; a `shards_blueprint` must fit the database
   * (bad_shards_blueprint) and be where its shards are or go: openrs does not move shards between nodes.
   */
  private async checkPlacement(eff: Partial<Bdb>, blueprint: ShardsBlueprint | undefined, stateId: string | undefined, ctx: BdbRulesContext, shards?: ShardSummary[]): Promise<void> {
    if (stateId !== undefined && stateId !== String(await this.clusterStateId())) {
      throw new BdbRuleError('wrong_cluster_state_id', `cluster-state-id ${stateId} is not the current one: the cluster changed since; get a new blueprint`);
    }
    if (!blueprint) return;
    const nodes = ctx.nodeUids ?? [];
    const problem = blueprintProblem(blueprint, eff, nodes);
    if (problem) throw new BdbRuleError('bad_shards_blueprint', `shards_blueprint: ${problem}`);
    // Where the shards are, or where this request puts them.
    const fitting = [optimalBlueprint(eff, nodes), ...(shards?.length ? [currentBlueprint(shards)] : [])];
    if (!fitting.some((bp) => sameBlueprint(blueprint, bp))) {
      throw new BdbRuleError('bad_shards_blueprint', 'shards_blueprint: it moves shards between nodes, which openrs does not do');
    }
  }

  /** GET .../optimize_shards_placement and the dry runs of rebalance and revamp: the blueprint of the database with `patch` applied. */
  async placement(uid: number, patch: BdbUpdate): Promise<{ blueprint: BlueprintEntry[]; stateId: number }> {
    const cur = await this.rec(uid);
    const ctx = await this.rulesContext(uid);
    const eff = checkUpdate(cur.value, patch, ctx);
    return { blueprint: optimalBlueprint(eff, ctx.nodeUids ?? []), stateId: await this.clusterStateId() };
  }

  /**
   * PUT .../actions/rebalance: move the shards to where the placement policy puts them. The action records that the
   * shards were checked; when they already are there (always, on one node) nothing moves and it completes at once.
   * A dry run answers the blueprint instead.
   */
  async rebalance(uid: number, o: { dryRun: boolean; onlyFailovers: boolean; maxOperations?: number }): Promise<{ action_uid: string } | { blueprint: BlueprintEntry[]; stateId: number }> {
    if (o.maxOperations !== undefined && !o.onlyFailovers) throw RsError.custom('invalid_param', 400, 'max_operations applies only with only_failovers=true');
    if (o.dryRun) return this.placement(uid, {});
    const cur = await this.rec(uid);
    if (cur.value.status !== 'active') throw new BdbRuleError('busy', `Database ${uid} is '${cur.value.status}'`);
    const ctx = await this.rulesContext(uid);
    const shards = await this.d.shards.ofBdb(uid);
    if (!sameBlueprint(currentBlueprint(shards), optimalBlueprint(cur.value, ctx.nodeUids ?? []))) {
      throw RsError.custom('insufficient_resources', 406, 'The placement policy puts shards on other nodes, and openrs does not move shards between nodes');
    }
    const action_uid = await this.startAction(cur, 'SMRebalanceBDB');
    await this.d.actions.transition(action_uid, 'completed', { progress: 100, state: 'balanced' });
    return { action_uid };
  }

  /** The multi-password API of the default user (requests/bdbs/passwords.md). */
  async passwords(uid: number, op: 'set' | 'add' | 'delete', password: string): Promise<void> {
    if (password === '') throw RsError.custom('invalid_schema', 406, 'password must not be empty');
    for (;;) {
      const cur = await this.rec(uid);
      const list = cur.value.passwords;
      let next: string[];
      if (op === 'set') next = [password];
      else if (op === 'add') {
        if (list.includes(password)) throw RsError.custom('password_exists', 406, 'The database already has this password');
        next = [...list, password];
      } else {
        if (!list.includes(password)) throw RsError.custom('password_not_exist', 406, 'The database has no such password');
        next = list.filter((p) => p !== password);
        // Without a password the default user lets anyone in: that must be asked for, not be a side effect.
        if (!next.length && cur.value.default_user !== false) {
          throw RsError.custom('cannot_delete_last_password', 406, "This is the database's last password: without one, anyone may connect. To open the database, PUT authentication_redis_pass \"\"");
        }
      }
      try {
        await this.d.bdbs.kvPut({ ...cur.value, passwords: next, authentication_redis_pass: next[0] ?? '' }, cur.modRevision);
        this.d.events.write('bdb_password_changed', { bdb_uid: String(uid), operation: op });
        return;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }

  /** stop_traffic / resume_traffic: recorded as desired state; the controller tells the proxy. */
  async setTraffic(uid: number, traffic: 'on' | 'off'): Promise<{ action_uid: string }> {
    const cur = await this.rec(uid);
    if (cur.value.status !== 'active') throw new BdbRuleError('busy', `Database ${uid} is '${cur.value.status}'`);
    await this.ensureIdle(uid);
    const action_uid = await this.commit(cur, { ...cur.value, traffic }, traffic === 'off' ? 'SMStopTraffic' : 'SMResumeTraffic');
    this.d.events.write(traffic === 'off' ? 'bdb_stop_traffic' : 'bdb_resume_traffic', { bdb_uid: String(uid) });
    return { action_uid };
  }

  /** POST /v1/bdbs/{uid}/command: `OK`/`PONG` replies read as `true`, as the RS endpoint answers. */
  async command(uid: number, command: string, args: (string | number)[]): Promise<unknown> {
    const rec = (await this.rec(uid)).value;
    if (rec.status !== 'active' && rec.status !== 'active-change-pending') throw new BdbRuleError('busy', `Database ${uid} is '${rec.status}'`);
    try {
      const reply = await this.d.runCommand(uid, command, args);
      return reply === 'OK' || reply === 'PONG' ? true : reply instanceof Buffer ? reply.toString() : reply;
    } catch (e) {
      if ((e as Error).name === 'CommandRefusedError') throw RsError.custom('command_not_allowed', 400, (e as Error).message);
      throw RsError.custom('command_failed', 400, (e as Error).message);
    }
  }

  async shardsOf(uid: number): Promise<ShardSummary[]> {
    await this.rec(uid);
    return this.d.shards.ofBdb(uid);
  }
}

