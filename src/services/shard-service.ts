/** /v1/shards, /v1/bdbs/{uid}/shards and shard failover (requests/shards). */
import { RsError } from '../errors.js';
import { versionAvailable, versionUnavailable } from './bdb-rules.js';
import type { InfoSections } from '../redis/replies.js';
import type { ShardDetailedStatus } from '../schemas/shard.js';
import { rsTime, type Clock } from '../util/clock.js';
import type { ActionService } from './action-service.js';
import type { ShardInventory, ShardSummary } from './shard-inventory.js';

export interface ShardControl {
  /**
   * detailed_status as the watchdog last saw the shard's process: 'down' when it does not run,
   * 'timeout' when stopped or not answering PING, 'busy' / 'loading' when Redis answers so (a shard
   * being started that loads its dataset is 'loading' too), else 'ok'; with 'loading', `loaded`: the
   * percentage of its dataset loaded so far.
   */
  shardState(shardUid: number): { health: ShardDetailedStatus; loaded?: number };
  /**
   * `planned`: only a handover, unless the master's process is gone or stopped; `dead`: promote the
   * replica without the master's handover, and leave the master's process to the reconcile.
   */
  failover(bdbUid: number, reason: string, o?: { mode?: 'planned' | 'dead' }): Promise<{ done: boolean; why?: string }>;
  /** Some replica of the database answers PING now and is in sync. */
  replicaAnswers(bdbUid: number): Promise<boolean>;
}

/** The body fields of the failover calls (requests/shards/actions/failover.md), besides the shard list. */
export interface FailoverOptions {
  dryRun?: boolean;
  /** `dead_uids` / `dead_uid`: masters of this request known to be dead (not asked to hand over, not stopped). */
  deadUids?: string[];
  /** `dead_nodes`: nodes whose replicas may not be promoted. */
  deadNodes?: string[];
  /** `redis_version_upgrade`: the version the promoted masters run; only the installed one can. */
  redisVersionUpgrade?: string;
}

/** The newest INFO of a shard that the stats sampler collected (every second), and when (ms since the epoch). */
export type ShardInfoSource = (shardUid: number) => { info: InfoSections; time: number } | undefined;

/**
 * `extra_info_keys` (requests/shards, "Redis INFO command keys ... returned in the redis_info object"):
 * each key found in some INFO section, with INFO's numbers as JSON numbers (the page's types: integer
 * for counts and flags, string for e.g. rdb_last_bgsave_status and redis_version). A key INFO does not
 * have is left out.
 */
export function pickInfo(info: InfoSections, keys: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const key of keys) {
    for (const section of Object.values(info)) {
      if (!Object.hasOwn(section, key)) continue;
      const v = section[key]!;
      out[key] = /^-?\d+(\.\d+)?$/.test(v) && Number.isFinite(Number(v)) ? Number(v) : v;
      break;
    }
  }
  return out;
}

export class ShardService {
  private info: ShardInfoSource = () => undefined;

  constructor(
    private readonly shards: ShardInventory,
    private readonly control: ShardControl,
    private readonly actions: ActionService,
    private readonly clock: Clock,
    private readonly bdbExists: (uid: number) => Promise<boolean>,
    /** The installed redis-server's version (what a promoted shard runs). */
    private readonly redisVersion: () => string,
  ) {}

  /** Where redis_info and report_timestamp come from: the stats sampler, composed after this service. */
  readInfoFrom(source: ShardInfoSource): void {
    this.info = source;
  }

  /**
   * The shard object with the capture's types (uid and node_uid are strings there). redis_info holds
   * the `extraInfoKeys` asked for, from the shard's INFO as last collected; report_timestamp is when.
   */
  private view(s: ShardSummary, extraInfoKeys: readonly string[]): Record<string, unknown> {
    const { health, loaded } = this.control.shardState(s.uid);
    const collected = this.info(s.uid);
    return {
      uid: String(s.uid),
      bdb_uid: s.bdb_uid,
      node_uid: String(s.node_uid),
      role: s.role,
      assigned_slots: s.assigned_slots ?? '0-16383',
      // A process that runs is active, answering or not (detailed_status says how it is doing).
      status: health === 'down' ? 'inactive' : 'active',
      detailed_status: health,
      loading: loaded === undefined ? { status: 'idle' } : { status: 'in_progress', progress: loaded },
      redis_info: collected ? pickInfo(collected.info, extraInfoKeys) : {},
      report_timestamp: rsTime(collected ? new Date(collected.time) : this.clock.now()),
    };
  }

  async list(bdbUid?: number, extraInfoKeys: readonly string[] = []): Promise<Record<string, unknown>[]> {
    if (bdbUid !== undefined && !(await this.bdbExists(bdbUid))) throw new RsError('db_not_exist', `Database ${bdbUid} does not exist`);
    return (await this.shards.all()).filter((s) => bdbUid === undefined || s.bdb_uid === bdbUid).map((s) => this.view(s, extraInfoKeys));
  }

  async get(uid: number, extraInfoKeys: readonly string[] = []): Promise<Record<string, unknown>> {
    const s = (await this.shards.all()).find((x) => x.uid === uid);
    if (!s) throw new RsError('shard_not_exist', `Shard ${uid} does not exist`);
    return this.view(s, extraInfoKeys);
  }

  /**
   * Fail over master shards of one database to their replicas (requests/shards/actions/failover.md).
   * `dryRun` ("If true, will just do a dry run"): every check of the real call, the same errors,
   * and nothing changes: no action is recorded and no role moves, so the answer has no action_uid.
   */
  async failover(shardUids: string[] | undefined, opts: FailoverOptions = {}): Promise<{ action_uid?: string; description: string }> {
    if (!shardUids?.length) throw new RsError('shard_uids_required');
    const all = await this.shards.all();
    const picked = shardUids.map((u) => {
      const s = all.find((x) => String(x.uid) === String(u));
      if (!s) throw new RsError('shard_not_exist', `Shard ${u} does not exist`);
      if (s.role !== 'master') throw new RsError('shard_is_slave', `Shard ${u} is a replica`);
      return s;
    });
    const bdb = picked[0]!.bdb_uid;
    if (picked.some((s) => s.bdb_uid !== bdb)) throw new RsError('failover_shards_different_bdb');
    if (!all.some((s) => s.bdb_uid === bdb && s.role === 'slave')) {
      throw RsError.custom('no_replica', 400, `Database ${bdb} has no replica to fail over to`);
    }
    // A dead master is one this request fails over: it is promoted over without a handover.
    for (const u of opts.deadUids ?? []) {
      if (!all.some((x) => String(x.uid) === String(u))) throw new RsError('shard_not_exist', `Shard ${u} does not exist`);
      if (!picked.some((s) => String(s.uid) === String(u))) throw RsError.custom('invalid_dead_uid', 400, `Shard ${u} is not one of the shards to fail over`);
    }
    // dead_nodes: a replica on one of them is not promoted (there is no other node to take the role).
    const dead = new Set((opts.deadNodes ?? []).map(String));
    if (!all.some((s) => s.bdb_uid === bdb && s.role === 'slave' && !dead.has(String(s.node_uid)))) {
      throw RsError.custom('no_replica', 400, `Database ${bdb} has no replica outside dead_nodes to fail over to`);
    }
    // A replica that is down or hung cannot take over: said now, rather than by a failed action.
    if (!(await this.control.replicaAnswers(bdb))) throw RsError.custom('no_replica', 400, `No replica of database ${bdb} answers and is in sync with its master`);
    // The bdb code, with the status this page documents for a bad request.
    const v = opts.redisVersionUpgrade;
    const installed = this.redisVersion();
    if (v !== undefined && !versionAvailable(v, installed)) throw RsError.custom('invalid_version', 400, versionUnavailable('redis_version_upgrade', v, installed));
    if (await this.actions.openFor(`bdb:${bdb}`)) throw new RsError('db_busy');
    if (opts.dryRun) return { description: 'Dry run: the failover would be triggered' };
    const { action, op } = this.actions.create('SMFailover', `bdb:${bdb}`);
    await this.actions.record(op);
    // "This request is asynchronous": the answer names the action, which tells how the failover went.
    void this.run(action.action_uid, bdb, (opts.deadUids ?? []).length > 0);
    return { action_uid: action.action_uid, description: 'Failover was triggered' };
  }

  /**
   * The failover behind an action: active while it runs, then completed, or failed with the reason (an
   * error on the way, the proxy gone mid-switch, fails it too). If even the action cannot be written, the
   * action stays open and the next manager start marks it failed (failInterruptedRequests).
   */
  private async run(actionUid: string, bdb: number, deadMaster: boolean): Promise<void> {
    try {
      await this.actions.transition(actionUid, 'active');
      const r = await this.control.failover(bdb, deadMaster ? 'requested through the API (dead master)' : 'requested through the API', { mode: deadMaster ? 'dead' : 'planned' })
        .catch((e: unknown) => ({ done: false, why: `the failover was interrupted: ${(e as Error).message}` }));
      await this.actions.transition(actionUid, r.done ? 'completed' : 'failed', r.done ? {} : { error: r.why ?? 'the failover did not happen', error_code: 'internal_error' });
    } catch {
      // the store is gone (the manager stops): see above
    }
  }
}
