/** /v1/shards, /v1/bdbs/{uid}/shards and shard failover (requests/shards). */
import { RsError } from '../errors.js';
import type { ShardDetailedStatus } from '../schemas/shard.js';
import { rsTime, type Clock } from '../util/clock.js';
import type { ActionService } from './action-service.js';
import type { ShardInventory, ShardSummary } from './shard-inventory.js';

export interface ShardControl {
  /**
   * detailed_status as the watchdog last saw the shard's process: 'down' when it does not run,
   * 'timeout' when stopped or not answering PING, 'busy' / 'loading' when Redis answers so, else 'ok'.
   */
  shardHealth(shardUid: number): ShardDetailedStatus;
  failover(bdbUid: number, reason: string): Promise<boolean>;
}

export class ShardService {
  constructor(
    private readonly shards: ShardInventory,
    private readonly control: ShardControl,
    private readonly actions: ActionService,
    private readonly clock: Clock,
    private readonly bdbExists: (uid: number) => Promise<boolean>,
  ) {}

  /** The shard object with the capture's types (uid and node_uid are strings there). */
  private view(s: ShardSummary): Record<string, unknown> {
    const health = this.control.shardHealth(s.uid);
    return {
      uid: String(s.uid),
      bdb_uid: s.bdb_uid,
      node_uid: String(s.node_uid),
      role: s.role,
      assigned_slots: s.assigned_slots ?? '0-16383',
      // A process that runs is active, answering or not (detailed_status says how it is doing).
      status: health === 'down' ? 'inactive' : 'active',
      detailed_status: health,
      loading: { status: 'idle' },
      redis_info: {},
      report_timestamp: rsTime(this.clock.now()),
    };
  }

  async list(bdbUid?: number): Promise<Record<string, unknown>[]> {
    if (bdbUid !== undefined && !(await this.bdbExists(bdbUid))) throw new RsError('db_not_exist', `Database ${bdbUid} does not exist`);
    return (await this.shards.all()).filter((s) => bdbUid === undefined || s.bdb_uid === bdbUid).map((s) => this.view(s));
  }

  async get(uid: number): Promise<Record<string, unknown>> {
    const s = (await this.shards.all()).find((x) => x.uid === uid);
    if (!s) throw new RsError('shard_not_exist', `Shard ${uid} does not exist`);
    return this.view(s);
  }

  /**
   * Fail over master shards of one database to their replicas (requests/shards/actions/failover.md).
   * `dryRun` ("If true, will just do a dry run"): every check of the real call, the same errors,
   * and nothing changes: no action is recorded and no role moves, so the answer has no action_uid.
   */
  async failover(shardUids: string[] | undefined, opts: { dryRun?: boolean } = {}): Promise<{ action_uid?: string; description: string }> {
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
    if (await this.actions.openFor(`bdb:${bdb}`)) throw new RsError('db_busy');
    if (opts.dryRun) return { description: 'Dry run: the failover would be triggered' };
    const { action, op } = this.actions.create('SMFailover', `bdb:${bdb}`);
    await this.actions.record(op);
    const ok = await this.control.failover(bdb, 'requested through the API');
    await this.actions.transition(action.action_uid, ok ? 'completed' : 'failed', ok ? {} : { error: 'no replica answered', error_code: 'internal_error' });
    return { action_uid: action.action_uid, description: 'Failover was triggered' };
  }
}
