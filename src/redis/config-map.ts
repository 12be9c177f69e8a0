/**
 * How bdb fields become redis-server settings (STYLE §3 habit 9: the directives live in a table).
 *
 * DIRECTIVE_RULES: bdb field(s) → one redis.conf directive, its value in the form CONFIG SET takes and CONFIG GET
 * prints (so desired and observed compare as strings), and whether CONFIG SET applies it without a restart.
 * OTHER_FIELDS: bdb fields that reach Redis another way (ACL rules, the proxy, the shard topology).
 * Everything here is pure; the reconciler applies the results through ShardAdmin and ShardSupervisor.
 */
import { createHash } from 'node:crypto';
import { CLIENT_SETTINGS } from './client-config.js';
import type { Directives } from './conf-file.js';

/** RS shard roles (Redis's words). */
export type ShardRole = 'master' | 'slave';

/** The bdb fields this module reads; structurally compatible with the full bdb object. */
export interface BdbRedisSettings {
  type?: string;
  memory_size?: number;
  shards_count?: number;
  eviction_policy?: string;
  data_persistence?: string;
  aof_policy?: string;
  snapshot_policy?: readonly { secs: number; writes: number }[];
  replication?: boolean;
  master_persistence?: boolean;
  maxclients?: number;
  repl_backlog_size?: string;
  resp3?: boolean;
  disabled_commands?: string;
  default_user?: boolean;
  active_defrag_cycle_max?: number;
  active_defrag_cycle_min?: number;
  active_defrag_ignore_bytes?: string;
  active_defrag_max_scan_fields?: number;
  active_defrag_threshold_lower?: number;
  active_defrag_threshold_upper?: number;
  tracking_table_max_keys?: number;
  slave_buffer?: string;
  /** What clients set with CONFIG SET (client-config.ts), by Redis 7.0 name, as CONFIG GET printed it. */
  redis_config?: Readonly<Record<string, string>>;
}

export interface DirectiveRule {
  directive: string;
  /** The bdb fields the value depends on. */
  fields: readonly (keyof BdbRedisSettings)[];
  /** CONFIG SET applies it to a running shard; false → the shard must restart with a new redis.conf. */
  live: boolean;
  /** undefined: the directive is left to Redis's default (not written, not compared). */
  value(bdb: BdbRedisSettings, role: ShardRole): string | undefined;
}

const AOF_FSYNC: Record<string, string> = { 'appendfsync-every-sec': 'everysec', 'appendfsync-always': 'always' };
/** Connections a shard keeps beyond bdb.maxclients: proxy pools, the admin client, replicas, stats. */
export const RESERVED_CLIENTS = 32;
/** Descriptors redis-server keeps beyond maxclients for itself (server.h CONFIG_MIN_RESERVED_FDS). */
const REDIS_RESERVED_FDS = 32;

/**
 * The largest bdb maxclients a shard can run with under an open-files hard limit: redis-server needs its maxclients
 * (ours plus RESERVED_CLIENTS) plus 32 descriptors, and lowers maxclients at start when the limit is smaller (then
 * refuses the CONFIG SET that would restore it).
 */
export function maxClientsWithin(openFilesHard: number): number {
  return openFilesHard - REDIS_RESERVED_FDS - RESERVED_CLIENTS;
}
/** `snapshot` persistence without a snapshot_policy (openrs choice): every hour if anything changed. */
export const DEFAULT_SNAPSHOT_POLICY = [{ secs: 3600, writes: 1 }];

export const DIRECTIVE_RULES: readonly DirectiveRule[] = [
  { directive: 'maxmemory', fields: ['memory_size', 'shards_count', 'replication'], live: true, value: (b) => String(perShardMemory(b)) },
  {
    directive: 'maxmemory-policy', fields: ['eviction_policy', 'type'], live: true,
    value: (b) => b.eviction_policy ?? (b.type === 'memcached' ? 'allkeys-lru' : 'volatile-lru'),
  },
  { directive: 'appendonly', fields: ['data_persistence', 'replication', 'master_persistence'], live: true, value: (b, r) => (persists(b, r) === 'aof' ? 'yes' : 'no') },
  { directive: 'appendfsync', fields: ['aof_policy'], live: true, value: (b) => AOF_FSYNC[b.aof_policy ?? 'appendfsync-every-sec'] ?? 'everysec' },
  {
    directive: 'save', fields: ['data_persistence', 'snapshot_policy', 'replication', 'master_persistence'], live: true,
    value: (b, r) => (persists(b, r) === 'snapshot' ? (b.snapshot_policy?.length ? b.snapshot_policy : DEFAULT_SNAPSHOT_POLICY).map((p) => `${p.secs} ${p.writes}`).join(' ') : ''),
  },
  { directive: 'maxclients', fields: ['maxclients'], live: true, value: (b) => String((b.maxclients ?? 10000) + RESERVED_CLIENTS) },
  // 'auto' (the RS default) is Redis's own default size.
  { directive: 'repl-backlog-size', fields: ['repl_backlog_size'], live: true, value: (b) => (/^\d+$/.test(b.repl_backlog_size ?? '') ? b.repl_backlog_size! : '1048576') },
  // Active defragmentation tuning (Redis 7.0 defaults when unset). `activedefrag` itself is refused
  // (bdb-field-rules.ts): the OS package's jemalloc lacks the defragmentation hint.
  { directive: 'active-defrag-cycle-min', fields: ['active_defrag_cycle_min'], live: true, value: (b) => String(b.active_defrag_cycle_min ?? 1) },
  { directive: 'active-defrag-cycle-max', fields: ['active_defrag_cycle_max'], live: true, value: (b) => String(b.active_defrag_cycle_max ?? 25) },
  { directive: 'active-defrag-ignore-bytes', fields: ['active_defrag_ignore_bytes'], live: true, value: (b) => String(memBytes(b.active_defrag_ignore_bytes ?? '104857600')) },
  { directive: 'active-defrag-max-scan-fields', fields: ['active_defrag_max_scan_fields'], live: true, value: (b) => String(b.active_defrag_max_scan_fields ?? 1000) },
  { directive: 'active-defrag-threshold-lower', fields: ['active_defrag_threshold_lower'], live: true, value: (b) => String(b.active_defrag_threshold_lower ?? 10) },
  { directive: 'active-defrag-threshold-upper', fields: ['active_defrag_threshold_upper'], live: true, value: (b) => String(b.active_defrag_threshold_upper ?? 100) },
  { directive: 'tracking-table-max-keys', fields: ['tracking_table_max_keys'], live: true, value: (b) => String(b.tracking_table_max_keys ?? 1000000) },
  // The limit sits on the master's connections to its replicas; every shard gets it, as any may become master.
  { directive: 'client-output-buffer-limit', fields: ['slave_buffer'], live: true, value: (b) => outputBufferLimits(b.slave_buffer) },
  // The settings clients changed with CONFIG SET: on every shard, in redis.conf for restarts and new replicas.
  ...CLIENT_SETTINGS.map((c): DirectiveRule => ({ directive: c.name, fields: ['redis_config'], live: true, value: (b) => b.redis_config?.[c.name] })),
];

/** Redis 7.0's client-output-buffer-limit per class (bytes: hard, soft, soft seconds), as CONFIG GET prints them. */
const OUTPUT_BUFFER_DEFAULTS = { normal: '0 0 0', slave: '268435456 67108864 60', pubsub: '33554432 8388608 60' } as const;
const MB = 1024 * 1024;

/**
 * client-output-buffer-limit from bdb.slave_buffer (rladmin tune.md): 'auto' → Redis's own replica limits; a value
 * in MB → that hard limit (no soft limit); `hard:soft:time` → hard and soft in MB, and the seconds the soft limit
 * may be exceeded. All three classes are written, as CONFIG GET prints them, so desired and observed compare as
 * strings; the normal and pubsub classes keep Redis's defaults.
 */
export function outputBufferLimits(slaveBuffer = 'auto'): string {
  const n = slaveBuffer.split(':').map(Number);
  const slave = slaveBuffer === 'auto' || n.some((x) => !Number.isSafeInteger(x))
    ? OUTPUT_BUFFER_DEFAULTS.slave
    : n.length === 3 ? `${n[0]! * MB} ${n[1]! * MB} ${n[2]}` : `${n[0]! * MB} 0 0`;
  return `normal ${OUTPUT_BUFFER_DEFAULTS.normal} slave ${slave} pubsub ${OUTPUT_BUFFER_DEFAULTS.pubsub}`;
}

/** A redis.conf memory amount in bytes, as Redis reads it (memtoull): k = 1000, kb = 1024, and so on. */
export function memBytes(v: string): number {
  const m = /^(\d+)([kmg]b?)?$/i.exec(v.trim());
  if (!m) return Number.NaN;
  const unit = (m[2] ?? '').toLowerCase();
  const mul: Record<string, number> = { '': 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * mul[unit]!;
}

export type OtherHandling = 'acl' | 'proxy' | 'topology';

/** bdb fields that change shards without a redis.conf directive, and who handles them. */
export const OTHER_FIELDS: Readonly<Record<string, OtherHandling>> = {
  // ACL rules on database users (live, ACL SETUSER); the admin user is never restricted.
  disabled_commands: 'acl', default_user: 'acl', authentication_redis_pass: 'acl', roles_permissions: 'acl',
  // The proxy owns client connections: RESP3 refusal (Redis 7.0 cannot: HELLO is exempt from ACL; docs/notes-redis.md), TLS, pipelining.
  resp3: 'proxy', tls_mode: 'proxy', enforce_client_authentication: 'proxy', authentication_ssl_client_certs: 'proxy',
  ssl: 'proxy', max_client_pipeline: 'proxy', port: 'proxy',
  // Which shards exist and how they replicate: new processes, not settings.
  shards_count: 'topology', replication: 'topology', sharding: 'topology', oss_cluster: 'topology', shard_key_regex: 'topology',
};

/** maxmemory of each shard (bytes): memory_size split over every copy (masters and replicas); 0 = unlimited. */
export function perShardMemory(bdb: BdbRedisSettings): number {
  // memory-limit.md: the limit is "across all database replicas and shards, including both primary and
  // replica shards", so a replica halves what each shard may hold.
  const copies = Math.max(1, bdb.shards_count ?? 1) * (bdb.replication ? 2 : 1);
  return Math.floor((bdb.memory_size ?? 0) / copies);
}

/**
 * Which persistence this shard runs. As in RS, a replicated database persists on its replicas only, unless
 * master_persistence. (So a master that restarts comes back empty: the reconciler must fail over to the replica
 * or restart from the replica's files, never let the replica resync from an empty master.)
 */
export function persists(bdb: BdbRedisSettings, role: ShardRole): 'aof' | 'snapshot' | undefined {
  const p = dbPersistence(bdb);
  return p && (!bdb.replication || role === 'slave' || bdb.master_persistence) ? p : undefined;
}

/** The database's persistence, if it has any (on which shards: persists()); its shards' files are then its data. */
export function dbPersistence(bdb: BdbRedisSettings): 'aof' | 'snapshot' | undefined {
  const p = bdb.data_persistence;
  return p === 'aof' || p === 'snapshot' ? p : undefined;
}

/** The redis.conf directives for one shard of the bdb (to put in ShardSpec.directives). */
export function directivesFor(bdb: BdbRedisSettings, role: ShardRole, rules: readonly DirectiveRule[] = DIRECTIVE_RULES): Directives {
  const out: Directives = {};
  for (const rule of rules) {
    const v = rule.value(bdb, role);
    if (v !== undefined) out[rule.directive] = v;
  }
  return out;
}

/** The commands in disabled_commands (comma or space separated), lower case. */
export function disabledCommands(bdb: BdbRedisSettings): string[] {
  return [...new Set((bdb.disabled_commands ?? '').split(/[\s,]+/).map((c) => c.trim().toLowerCase()).filter(Boolean))];
}

/**
 * Commands a database's own users may not run, whatever their ACL: the server-management commands RS marks
 * "not supported" (references/compatibility/commands: server.md, connection.md, data-types.md, scripting.md),
 * as they would let a client of one database stop or reconfigure its shard behind the manager's back, lock
 * the manager out (ACL SETUSER/DELUSER on its admin user), or make it a replica of a foreign host. CONFIG
 * GET/SET go too: RS allows a subset of settings, but Redis 7.0's ACL cannot allow single settings ("first-arg
 * of a subcommand is not supported"), and CONFIG GET would show the replication credentials (masterauth).
 * Only commands that exist in Redis 7.0 (ACL SETUSER refuses unknown ones).
 */
export const RS_UNSUPPORTED_COMMANDS = [
  'acl|deluser', 'acl|genpass', 'acl|load', 'acl|log', 'acl|save', 'acl|setuser',
  // Supported by RS, but here they would show every user's password as an unsalted SHA-256 (the users' own
  // REST passwords, which database users sign in with) and the manager's admin user, to any client (QA).
  'acl|list', 'acl|getuser',
  'config|get', 'config|set', 'config|resetstat', 'config|rewrite',
  'debug', 'shutdown', 'swapdb', 'module|help', 'module|load', 'module|loadex', 'module|unload',
  'latency|doctor', 'latency|graph', 'latency|help', 'latency|history', 'latency|latest', 'latency|reset',
  'memory|doctor', 'memory|malloc-stats', 'memory|purge', 'memory|stats',
  'bgrewriteaof', 'bgsave', 'lastsave', 'save',
  'failover', 'migrate', 'psync', 'replconf', 'replicaof', 'restore-asking', 'role', 'slaveof', 'sync',
  'client|pause', 'client|unpause', 'client|no-evict', 'client|getredir',
  'pfdebug', 'pfselftest', 'script|debug',
] as const;

/**
 * Rules appended to every database user's ACL rules (the `default` user and each redis_acl user), last so they
 * win: the RS-unsupported management commands, then disabled_commands. disabled_commands is enforced here rather
 * than with `rename-command X ""`, which needs a restart and would also take the command from the admin user
 * (the manager needs CONFIG, FLUSHALL, SHUTDOWN...).
 */
export function aclRulesFor(bdb: BdbRedisSettings, allow: readonly string[] = []): string[] {
  return [...RS_UNSUPPORTED_COMMANDS.filter((c) => !allow.includes(c)), ...disabledCommands(bdb)].map((c) => `-${c}`);
}

/**
 * The CONFIG subcommands the proxy answers for clients (controller/client-config.ts): the rules of a user
 * without their RS block, put on a probe user, tell whether the user's own ACL allows them.
 */
export const CLIENT_CONFIG_COMMANDS = ['config|get', 'config|set', 'config|rewrite'] as const;
/** ACL users of that name are the manager's short-lived probes (controller/client-config.ts). */
export const PROBE_USER_PREFIX = 'openrs-probe-';

/**
 * ACL SETUSER rules for the `default` user: off when bdb.default_user is false, else full access with the
 * database's passwords (stored as SHA-256, `#hex`, so the rules are safe in redis.conf, users.acl and logs;
 * none → nopass), minus the disabled commands.
 */
export function defaultUserRules(bdb: BdbRedisSettings, passwords: readonly string[], allow: readonly string[] = []): string[] {
  if (bdb.default_user === false) return ['reset'];
  const auth = passwords.length ? passwords.map((p) => `#${createHash('sha256').update(p).digest('hex')}`) : ['nopass'];
  return ['reset', 'on', ...auth, '~*', '&*', '+@all', ...aclRulesFor(bdb, allow)];
}

/** Where a new ACL user's pub/sub permissions start (cluster policy `acl_pubsub_default`). */
export type PubsubDefault = 'resetchannels' | 'allchannels';

/**
 * A redis_acl rule string as ACL SETUSER arguments: split on whitespace, a selector `( ... )` kept as one
 * argument (the RS dialect allows no parentheses inside key or channel patterns, auth/acl-grammar.ts).
 */
export function aclTokens(acl: string): string[] {
  const out: string[] = [];
  let open: string | undefined;
  for (const t of acl.split(/\s+/).filter(Boolean)) {
    if (open !== undefined) {
      open += ` ${t}`;
      if (t.endsWith(')')) {
        out.push(open);
        open = undefined;
      }
    } else if (t.startsWith('(') && !t.endsWith(')')) {
      open = t;
    } else {
      out.push(t);
    }
  }
  if (open !== undefined) out.push(open);
  return out;
}

const isSelector = (t: string) => t.startsWith('(') && t.endsWith(')');
/** Add rules inside a selector argument: `(+get ~a)` + [-x] → `(+get ~a -x)`. */
const intoSelector = (sel: string, before: string[], after: string[]) => `(${[...before, sel.slice(1, -1).trim(), ...after].filter(Boolean).join(' ')})`;

/**
 * ACL SETUSER rules for a database user made from roles_permissions (controller/db-users.ts): enabled, with the
 * user's passwords as `#<sha256>` (the user record keeps these beside its scrypt hashes: docs/notes-data-plane.md),
 * the first Redis ACL's rules, further ACLs (a user may hold several roles mapped on this database) as extra
 * selectors, so a command allowed by any of them is allowed, as Redis evaluates selectors. disabled_commands go
 * last, at the root and inside every selector, so no ACL can bring them back. Every selector starts from the
 * cluster's pub/sub default.
 */
export function roleUserRules(bdb: BdbRedisSettings, passwordSha256: readonly string[], acls: readonly string[], pubsub: PubsubDefault = 'resetchannels', allow: readonly string[] = []): string[] {
  const disabled = aclRulesFor(bdb, allow);
  const root: string[] = [];
  const selectors: string[] = [];
  acls.forEach((acl, i) => {
    const tokens = aclTokens(acl);
    const plain = tokens.filter((t) => !isSelector(t));
    selectors.push(...tokens.filter(isSelector));
    if (i === 0) root.push(...plain);
    else if (plain.length) selectors.push(`(${plain.join(' ')})`);
  });
  return [
    'reset', pubsub, 'on', ...passwordSha256.map((h) => `#${h}`), ...root,
    ...selectors.map((s) => intoSelector(s, pubsub === 'allchannels' ? ['allchannels'] : [], disabled)),
    ...disabled,
  ];
}

export interface ConfigStep {
  directive: string;
  value: string;
  live: boolean;
}

export interface ConfigChanges {
  /** CONFIG SET these on the running shard. */
  configSet: ConfigStep[];
  /** Directives that changed but are not live: the shard must restart with a new redis.conf. */
  restart: ConfigStep[];
  /** Database users' ACL rules must be re-applied. */
  acl: boolean;
  /** Changed fields the proxy applies. */
  proxy: string[];
  /** Changed fields that change which shards exist or how they replicate. */
  topology: string[];
}

/** What changes on a shard of this role when the bdb goes from oldBdb to newBdb. */
export function liveChanges(oldBdb: BdbRedisSettings, newBdb: BdbRedisSettings, role: ShardRole = 'master', rules: readonly DirectiveRule[] = DIRECTIVE_RULES): ConfigChanges {
  const steps = configDrift(directivesFor(newBdb, role, rules), directivesFor(oldBdb, role, rules) as Record<string, string>, rules);
  const changed = Object.keys(OTHER_FIELDS).filter((f) => JSON.stringify((oldBdb as Record<string, unknown>)[f]) !== JSON.stringify((newBdb as Record<string, unknown>)[f]));
  return {
    configSet: steps.filter((s) => s.live),
    restart: steps.filter((s) => !s.live),
    acl: changed.some((f) => OTHER_FIELDS[f] === 'acl'),
    proxy: changed.filter((f) => OTHER_FIELDS[f] === 'proxy'),
    topology: changed.filter((f) => OTHER_FIELDS[f] === 'topology'),
  };
}

/**
 * Level-based comparison for the reconciler: desired directives (directivesFor) vs a shard's CONFIG GET values.
 * Only the table's directives are compared; `save` ignores spacing.
 */
export function configDrift(desired: Directives, observed: Record<string, string>, rules: readonly DirectiveRule[] = DIRECTIVE_RULES): ConfigStep[] {
  const steps: ConfigStep[] = [];
  for (const rule of rules) {
    const want = desired[rule.directive];
    if (typeof want !== 'string') continue;
    const have = observed[rule.directive];
    if (have === undefined || normalize(have) !== normalize(want)) steps.push({ directive: rule.directive, value: want, live: rule.live });
  }
  return steps;
}

/**
 * What is wrong with the commands of disabled_commands, given the installed Redis's commands (name →
 * subcommands): each becomes a `-cmd` ACL rule, and ACL SETUSER refuses a name it does not know, so such a
 * value would fail every later change of the database. Empty when all is well.
 */
export function disabledCommandProblems(bdb: BdbRedisSettings, known: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  for (const c of disabledCommands(bdb)) {
    const [name, sub] = c.split('|') as [string, string | undefined];
    if (!/^[a-z][a-z0-9_.-]*(\|[a-z0-9_.-]+)?$/.test(c)) out.push(`${c} is not a command name`);
    // Redis exempts these from ACL checks (acl.c ACLSelectorCheckCmd skips CMD_NO_AUTH commands).
    else if (name === 'auth' || name === 'hello') out.push(`${c} cannot be disabled`);
    else if (!known.has(name)) out.push(`${name} is not a command of this Redis`);
    else if (sub !== undefined && !known.get(name)!.has(sub)) out.push(`${name} has no subcommand ${sub}`);
  }
  return out;
}

function normalize(v: string): string {
  return v.trim().split(/\s+/).join(' ');
}
