/**
 * CONFIG GET / SET / REWRITE from a database's clients, which the proxy hands to the manager
 * (config-socket.ts): RS lets clients read and change a subset of settings
 * (references/compatibility/config-settings.md), which Redis 7.0's ACL cannot express, so the
 * database users' ACL keeps CONFIG blocked and the manager runs it for them:
 *  - the caller's own ACL decides, as Redis would: its rules without that block go on a short-lived
 *    probe user, and ACL DRYRUN says whether the command would be allowed (NOPERM otherwise);
 *  - only the settings of client-config.ts are read or written;
 *  - a SET runs on the master, and what Redis then reports is kept in the bdb record (`redis_config`),
 *    so the reconciler puts it on the replicas and in redis.conf: it survives restarts and failovers.
 */
import { randomBytes } from 'node:crypto';
import { isReplyError, type ShardAdmin } from '../redis/admin.js';
import { configSetArity, planConfigSet, visiblePairs } from '../redis/client-config.js';
import { PROBE_USER_PREFIX } from '../redis/config-map.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ShardInventory } from '../services/shard-inventory.js';
import { KvConflictError } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import { KeyedLock } from '../util/keyed-lock.js';

/** What the proxy asks: `args` are CONFIG's arguments (the subcommand first). */
export interface ClientConfigRequest {
  bdb: number;
  user: string;
  args: string[];
  /** When the proxy stops waiting (epoch ms): a SET not started by then is not made. */
  deadline?: number;
}

/** The answer, for the proxy to put in the client's protocol. */
export type ClientConfigResult = { ok: true } | { error: string } | { pairs: [string, string][] };

export interface ClientConfigDeps {
  bdbs: Collection<BdbRecord>;
  shards: ShardInventory;
  admin(shard: { uid: number; port?: number }): ShardAdmin;
  /** The user's ACL rules without the block on CONFIG (BdbController.configProbeRules). */
  probeRules(rec: BdbRecord, user: string): Promise<string[] | undefined>;
}

const SERVING = new Set(['active', 'active-change-pending']);

export class ClientConfig {
  constructor(private readonly d: ClientConfigDeps) {}

  /** Per database: CONFIG SETs run one at a time, so the value kept is the value Redis was given last. */
  private readonly lock = new KeyedLock<number>();

  handle(req: ClientConfigRequest): Promise<ClientConfigResult> {
    return this.lock.run(req.bdb, () => this.run(req));
  }

  private async run(req: ClientConfigRequest): Promise<ClientConfigResult> {
    try {
      return await this.answer(req);
    } catch (e) {
      // Redis's refusal is the client's answer; a shard connection lost (a master going away) is worth a retry.
      return { error: isReplyError(e) ? (e as Error).message : `TRYAGAIN ${(e as Error).message}` };
    }
  }

  /** In Redis's order: arity, then the caller's permission (NOPERM), then the names and values. */
  private async answer(req: ClientConfigRequest): Promise<ClientConfigResult> {
    const sub = (req.args[0] ?? '').toLowerCase();
    const rest = req.args.slice(1);
    if (sub !== 'get' && sub !== 'set' && sub !== 'rewrite') return { error: `ERR unknown subcommand '${req.args[0] ?? ''}'. Try CONFIG HELP.` };
    if (sub === 'get' && rest.length === 0) return { error: "ERR wrong number of arguments for 'config|get' command" };
    if (sub === 'rewrite' && rest.length !== 0) return { error: "ERR wrong number of arguments for 'config|rewrite' command" };
    const arity = sub === 'set' ? configSetArity(rest) : undefined;
    if (arity) return { error: arity };
    const rec = (await this.d.bdbs.get(req.bdb))?.value;
    const master = (await this.d.shards.all()).find((s) => s.bdb_uid === req.bdb && s.role === 'master');
    if (!rec || !SERVING.has(rec.status ?? '') || !master?.port) return { error: `TRYAGAIN database ${req.bdb} is not active` };
    const admin = this.d.admin(master);
    const denied = await this.denied(admin, rec, req.user, ['CONFIG', sub, ...rest]);
    if (denied) return { error: denied };
    if (sub === 'get') return { pairs: visiblePairs(Object.entries(await admin.configGetAll(...rest))) };
    // Every setting clients change is kept in the CCS as soon as it is set: there is nothing more to write.
    if (sub === 'rewrite') return { ok: true };
    const plan = planConfigSet(rest);
    if ('error' in plan) return plan;
    const pairs = plan.pairs;
    // The proxy has answered -TRYAGAIN by now (a manager that was stopped or slow): a retry will come.
    if (req.deadline !== undefined && Date.now() >= req.deadline) return { error: 'TRYAGAIN the request waited too long' };
    try {
      await admin.command('CONFIG', ['SET', ...pairs.flat()]);
    } catch (e) {
      if (!isReplyError(e)) throw e;
      return { error: (e as Error).message };
    }
    // As Redis prints them (notify-keyspace-events KEA reads back AKE), so the reconciler sees no drift.
    const now = await admin.configGetAll(...pairs.map(([n]) => n));
    await this.keep(req.bdb, Object.fromEntries(pairs.map(([n, v]) => [n, now[n] ?? v])));
    return { ok: true };
  }

  /** Redis's NOPERM answer when the user's ACL does not allow `command`; undefined when it does. */
  private async denied(admin: ShardAdmin, rec: BdbRecord, user: string, command: string[]): Promise<string | undefined> {
    const rules = await this.d.probeRules(rec, user);
    if (!rules) return `NOPERM user '${user}' has no access to this database`;
    for (let attempt = 1; ; attempt++) {
      const probe = PROBE_USER_PREFIX + randomBytes(6).toString('hex');
      try {
        // Switched off: nobody can sign in as the probe, and DRYRUN still evaluates its rules.
        await admin.aclSetUser(probe, [...rules, 'off']);
        const verdict = String(await admin.command('ACL', ['DRYRUN', probe, ...command]));
        return verdict === 'OK' ? undefined : `NOPERM ${verdict.charAt(0).toLowerCase()}${verdict.slice(1)}`;
      } catch (e) {
        // A reconcile pass that applied the database's users in between removed the probe: once more.
        if (attempt >= 2 || !isReplyError(e) || !/not found/i.test((e as Error).message)) throw e;
      } finally {
        await admin.aclDelUser(probe).catch(() => undefined);
      }
    }
  }

  private async keep(bdbUid: number, values: Record<string, string>): Promise<void> {
    for (;;) {
      const cur = await this.d.bdbs.get(bdbUid);
      if (!cur) return;
      try {
        await this.d.bdbs.kvPut({ ...cur.value, redis_config: { ...cur.value.redis_config, ...values } }, cur.modRevision);
        return;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }
}
