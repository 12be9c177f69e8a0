/**
 * Which Redis ACL users a database's shards must have, from its roles_permissions (pure).
 *
 * As in RS (security/access-control): a user whose role_uids include a role listed in the bdb's
 * roles_permissions signs in to that database with its user name and password(s), and gets the
 * mapped Redis ACL's rules, minus the database's disabled_commands. Everything else on the shards
 * (except `default` and the internal admin user) is removed by the reconciler.
 */
import type { UserRecord } from '../auth/user-record.js';
import { roleUserRules, type BdbRedisSettings, type PubsubDefault } from '../redis/config-map.js';
import type { RedisAcl } from '../schemas/redis-acl.js';

export interface DbUsersInput {
  users: readonly UserRecord[];
  acls: readonly Pick<RedisAcl, 'uid' | 'acl'>[];
  pubsubDefault?: PubsubDefault;
  /** Names never given to a database user: `default` and the internal admin user. */
  reserved: readonly string[];
}

export interface DbUsersPlan {
  /** ACL user name → ACL SETUSER rules. */
  users: Map<string, string[]>;
  /** Users mapped to the database that get no ACL user, and why (logged by the reconciler). */
  skipped: { uid: number; name: string; reason: string }[];
}

type Mapping = { role_uid?: number; redis_acl_uid?: number };

export function dbUsersFor(bdb: BdbRedisSettings & { roles_permissions?: readonly Mapping[] }, input: DbUsersInput, allow: readonly string[] = []): DbUsersPlan {
  const plan: DbUsersPlan = { users: new Map(), skipped: [] };
  const mappings = bdb.roles_permissions ?? [];
  if (!mappings.length) return plan;
  const acls = new Map(input.acls.map((a) => [a.uid, a.acl]));
  const reserved = new Set(input.reserved);
  for (const u of [...input.users].sort((a, b) => a.uid - b.uid)) {
    // Every ACL this user reaches through any of its roles, in roles_permissions order, once each.
    const aclUids = [...new Set(mappings.filter((m) => m.role_uid !== undefined && u.role_uids?.includes(m.role_uid)).map((m) => m.redis_acl_uid))];
    const rules = aclUids.map((id) => (id === undefined ? undefined : acls.get(id))).filter((a): a is string => a !== undefined);
    if (!rules.length) continue;
    const skip = (reason: string) => plan.skipped.push({ uid: u.uid, name: u.name, reason });
    if (u.auth_method !== 'regular') skip(`auth_method '${u.auth_method}' has no password to sign in to a database with`);
    else if (!u.db_password_sha256?.length) skip('no database password yet: set the password again (PUT /v1/users/password)');
    else if (!u.name || /[\s\0]/.test(u.name)) skip('Redis user names cannot contain spaces');
    else if (reserved.has(u.name)) skip(`'${u.name}' is reserved on database shards`);
    else if (plan.users.has(u.name)) skip(`another user already has the name '${u.name}'`);
    else plan.users.set(u.name, roleUserRules(bdb, u.db_password_sha256, rules, input.pubsubDefault, allow));
  }
  return plan;
}
