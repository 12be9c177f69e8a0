/**
 * Shard migration (requests/shards/actions/migrate.md): move shards to `target_node_uid`.
 *
 * openrs is a single-node cluster, so the only node a shard can be asked to move to is the one it
 * is on. The page: "If the shard is already on the target node, nothing happens." That request is
 * answered as RS answers it, with an action, which is recorded completed at once (there is no work,
 * and the description says so rather than "Migrate was triggered"). A node that does not exist is
 * the page's 404; moving a shard to another node (possible only once nodes can join) is refused as
 * unsupported, never acknowledged. docs/decisions/bdb-routes-extra.md.
 */
import { RsError } from '../errors.js';
import type { Collection } from '../store/object-store.js';
import type { ActionService } from './action-service.js';
import type { NodeRecord } from './node-service.js';
import type { ShardInventory } from './shard-inventory.js';

/** The body fields of both migrate calls besides the shard list. */
export interface MigrateOptions {
  targetNodeUid?: number;
  dryRun?: boolean;
}

export class ShardMigrateService {
  constructor(
    private readonly shards: ShardInventory,
    private readonly nodes: Collection<NodeRecord>,
    private readonly actions: ActionService,
  ) {}

  async migrate(shardUids: string[] | undefined, opts: MigrateOptions): Promise<{ action_uid?: string; description: string }> {
    if (!shardUids?.length) throw new RsError('shard_uids_required');
    const all = await this.shards.all();
    const picked = shardUids.map((u) => {
      const s = all.find((x) => String(x.uid) === String(u));
      if (!s) throw new RsError('shard_not_exist', `Shard ${u} does not exist`);
      return s;
    });
    const target = opts.targetNodeUid;
    if (target === undefined) throw new RsError('target_node_uid_required', '"target_node_uid" is required: the node to migrate the shards to');
    if (!(await this.nodes.get(target))) throw new RsError('node_not_found', `Node ${target} does not exist`);
    const bdbs = [...new Set(picked.map((s) => s.bdb_uid))];
    for (const b of bdbs) if (await this.actions.openFor(`bdb:${b}`)) throw new RsError('db_busy', `Database ${b} is currently busy`);
    const moving = picked.filter((s) => s.node_uid !== target);
    if (moving.length) {
      throw new RsError('unsupported_option', `Moving shards between nodes is not implemented by openrs (shard ${moving.map((s) => `${s.uid} is on node ${s.node_uid}`).join(', shard ')})`);
    }
    const which = `${picked.length === 1 ? 'Shard' : 'Shards'} ${picked.map((s) => s.uid).join(', ')} ${picked.length === 1 ? 'is' : 'are'} already on node ${target}`;
    if (opts.dryRun) return { description: `Dry run: ${which}; nothing would be migrated` };
    // One action for the request, on the database when there is one (scoped roles see it there).
    const { action, op } = this.actions.create('SMMigrateShards', bdbs.length === 1 ? `bdb:${bdbs[0]}` : 'cluster');
    await this.actions.record(op);
    await this.actions.transition(action.action_uid, 'completed');
    return { action_uid: action.action_uid, description: `${which}: nothing to migrate` };
  }
}
