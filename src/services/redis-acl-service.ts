/**
 * Redis ACLs (requests/redis_acls, objects/redis_acl.md), kept at `/redis_acls/<uid>`. The rules
 * are checked by the ACL SETUSER grammar (auth/acl-grammar.ts, Redis Software dialect) with the
 * cluster's pub/sub default. "Full Access" is read-only; an ACL used by a database's
 * roles_permissions cannot be deleted.
 */
import type { Caller } from '../api/route-types.js';
import { checkAclRules } from '../auth/acl-grammar.js';
import { RsError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { ClusterSettings } from '../schemas/cluster-settings.js';
import type { RedisAcl, RedisAclCreate, RedisAclUpdate } from '../schemas/redis-acl.js';
import type { KvBackend } from '../store/kv.js';
import type { Collection, Singleton, Versioned } from '../store/object-store.js';
import { READ_ONLY_REDIS_ACL_UIDS } from './access-defaults.js';
import { bdbsUsing } from './role-service.js';

type Opts = { dryRun?: boolean; actor: Caller };

export class RedisAclService {
  constructor(
    private readonly kv: KvBackend,
    private readonly acls: Collection<RedisAcl>,
    private readonly policy: Singleton<ClusterSettings>,
    private readonly events: EventLog,
  ) {}

  list(): Promise<RedisAcl[]> {
    return this.acls.list();
  }

  private async load(uid: number): Promise<Versioned<RedisAcl>> {
    const a = await this.acls.get(uid);
    if (!a) throw new RsError('redis_acl_not_exist', `Redis ACL ${uid} does not exist`);
    return a;
  }

  async get(uid: number): Promise<RedisAcl> {
    return (await this.load(uid)).value;
  }

  /** The rules as ACL SETUSER would take them (400 invalid_param with Redis's reason otherwise). */
  async checkRules(acl: string): Promise<void> {
    if (acl.trim() === '') throw new RsError('invalid_param', 'acl must contain at least one rule');
    const pubsubDefault = (await this.policy.get())?.value.acl_pubsub_default ?? 'resetchannels';
    const err = checkAclRules(acl, { dialect: 'rs', pubsubDefault });
    if (!err) return;
    // A refused password rule is not echoed back (nor into debug logs of the error).
    const rule = /^[<>#!]/.test(err.rule) ? `${err.rule[0]}***` : err.rule;
    throw new RsError('invalid_param', `Invalid ACL rule '${rule}': ${err.message}`, { extra: { rule } });
  }

  private async check(a: RedisAcl): Promise<void> {
    await this.checkRules(a.acl);
    if ((await this.acls.list()).some((o) => o.uid !== a.uid && o.name.toLowerCase() === a.name.toLowerCase())) {
      throw new RsError('name_already_exists', `A Redis ACL named '${a.name}' already exists`);
    }
  }

  private event(type: string, a: RedisAcl, actor: Caller, fields: Record<string, unknown> = {}): void {
    this.events.write(type, { redis_acl_uid: a.uid, redis_acl_name: a.name, ...fields, actor_uid: actor.uid, actor: actor.email || actor.name });
  }

  /** POST /v1/redis_acls/validate (openapi): the checks of a create, without creating. */
  async validate(body: RedisAclCreate): Promise<void> {
    if (body.acl === undefined) throw new RsError('missing_field', 'Missing field(s): acl');
    await this.checkRules(body.acl);
  }

  async create(body: RedisAclCreate, opts: Opts): Promise<RedisAcl> {
    const missing = (['name', 'acl'] as const).filter((k) => body[k] === undefined);
    if (missing.length) throw new RsError('missing_field', `Missing field(s): ${missing.join(', ')}`);
    const draft = { ...body, uid: body.uid ?? 0 } as RedisAcl;
    await this.check(draft);
    if (opts.dryRun) {
      const { uid: _u, ...rest } = draft;
      return rest as RedisAcl;
    }
    for (;;) {
      const uid = body.uid ?? (await this.acls.allocateUid());
      const acl = { ...draft, uid };
      if ((await this.kv.txn([{ key: this.acls.key(uid), modRevision: 0 }], [this.acls.putOp(acl)])).succeeded) {
        this.event('redis_acl_created', acl, opts.actor, { acl: acl.acl });
        return acl;
      }
      if (body.uid !== undefined) throw new RsError('uid_already_exists', `A Redis ACL with uid ${body.uid} already exists`);
    }
  }

  async update(uid: number, body: RedisAclUpdate, opts: Opts): Promise<RedisAcl> {
    const { value: cur, modRevision } = await this.load(uid);
    if (READ_ONLY_REDIS_ACL_UIDS.has(uid)) throw new RsError('read_only_object', `Redis ACL '${cur.name}' is predefined and cannot be changed`);
    if (body.uid !== undefined && body.uid !== uid) throw new RsError('invalid_param', `uid ${body.uid} does not match the URL (${uid})`);
    const next = { ...cur, ...body, uid };
    await this.check(next);
    if (opts.dryRun) return next;
    if (!(await this.kv.txn([{ key: this.acls.key(uid), modRevision }], [this.acls.putOp(next)])).succeeded) {
      throw new RsError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
    }
    this.event('redis_acl_updated', next, opts.actor, { changed: Object.keys(body).filter((k) => k !== 'uid'), acl: next.acl });
    return next;
  }

  async delete(uid: number, opts: Opts): Promise<void> {
    const { value: cur, modRevision } = await this.load(uid);
    if (READ_ONLY_REDIS_ACL_UIDS.has(uid)) throw new RsError('read_only_object', `Redis ACL '${cur.name}' is predefined and cannot be deleted`);
    const bdbs = await bdbsUsing(this.kv, (p) => p.redis_acl_uid === uid);
    if (bdbs.length) throw new RsError('redis_acl_in_use', `Redis ACL '${cur.name}' is in use by databases ${bdbs.join(', ')} (roles_permissions)`);
    if (opts.dryRun) return;
    if (!(await this.kv.txn([{ key: this.acls.key(uid), modRevision }], [this.acls.deleteOp(uid)])).succeeded) {
      throw new RsError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
    }
    this.event('redis_acl_deleted', cur, opts.actor);
  }
}
