import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DIRECTIVE_RULES, OTHER_FIELDS, RESERVED_CLIENTS, RS_UNSUPPORTED_COMMANDS, aclRulesFor, aclTokens, roleUserRules, configDrift, defaultUserRules, directivesFor, liveChanges,
  perShardMemory, persists, disabledCommandProblems, type BdbRedisSettings, type DirectiveRule,
} from '../../src/redis/config-map.js';
import { REDIS_7_0_COMMANDS, REDIS_COMMANDS } from '../../src/auth/redis-commands.js';
import { shardHarness } from './harness.js';

/** The management commands every database user loses (RS_UNSUPPORTED_COMMANDS), as rules. */
const RS = RS_UNSUPPORTED_COMMANDS.map((c) => `-${c}`);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('directivesFor', () => {
  it('RS defaults: unlimited memory, volatile-lru, no persistence, 10000 clients', () => {
    expect(directivesFor({}, 'master')).toEqual({
      maxmemory: '0',
      'maxmemory-policy': 'volatile-lru',
      appendonly: 'no',
      appendfsync: 'everysec',
      save: '',
      maxclients: String(10000 + RESERVED_CLIENTS),
      'repl-backlog-size': '1048576',
      'active-defrag-cycle-min': '1',
      'active-defrag-cycle-max': '25',
      'active-defrag-ignore-bytes': '104857600',
      'active-defrag-max-scan-fields': '1000',
      'active-defrag-threshold-lower': '10',
      'active-defrag-threshold-upper': '100',
      'tracking-table-max-keys': '1000000',
      'client-output-buffer-limit': 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    });
    expect(directivesFor({ type: 'memcached' }, 'master')['maxmemory-policy']).toBe('allkeys-lru');
  });

  it('memory_size is split over the shards; eviction_policy passes through', () => {
    expect(perShardMemory({ memory_size: 1 << 30, shards_count: 4 })).toBe(1 << 28);
    expect(perShardMemory({ memory_size: 1000, shards_count: 3 })).toBe(333);
    expect(directivesFor({ memory_size: 1 << 30, shards_count: 2, eviction_policy: 'allkeys-lfu' }, 'master')).toMatchObject({
      maxmemory: String(1 << 29),
      'maxmemory-policy': 'allkeys-lfu',
    });
  });

  it('persistence: aof with its fsync policy; snapshot with its policy (or the default)', () => {
    expect(directivesFor({ data_persistence: 'aof', aof_policy: 'appendfsync-always' }, 'master')).toMatchObject({ appendonly: 'yes', appendfsync: 'always', save: '' });
    expect(directivesFor({ data_persistence: 'snapshot', snapshot_policy: [{ secs: 900, writes: 1 }, { secs: 60, writes: 10000 }] }, 'master'))
      .toMatchObject({ appendonly: 'no', save: '900 1 60 10000' });
    expect(directivesFor({ data_persistence: 'snapshot' }, 'master').save).toBe('3600 1');
  });

  it('a replicated database persists on replicas only, unless master_persistence', () => {
    const bdb: BdbRedisSettings = { data_persistence: 'aof', replication: true };
    expect(persists(bdb, 'master')).toBeUndefined();
    expect(persists(bdb, 'slave')).toBe('aof');
    expect(directivesFor(bdb, 'master').appendonly).toBe('no');
    expect(directivesFor(bdb, 'slave').appendonly).toBe('yes');
    expect(directivesFor({ ...bdb, master_persistence: true }, 'master').appendonly).toBe('yes');
    expect(directivesFor({ data_persistence: 'snapshot', replication: true }, 'master').save).toBe('');
  });

  it('maxclients keeps room for the manager and replication; repl_backlog_size bytes or auto', () => {
    expect(directivesFor({ maxclients: 100 }, 'master').maxclients).toBe(String(100 + RESERVED_CLIENTS));
    expect(directivesFor({ repl_backlog_size: '10485760' }, 'master')['repl-backlog-size']).toBe('10485760');
    expect(directivesFor({ repl_backlog_size: 'auto' }, 'master')['repl-backlog-size']).toBe('1048576');
  });

  it('slave_buffer: auto keeps Redis\'s replica limits; a value in MB is the hard limit; hard:soft:time in MB and seconds', () => {
    const replica = (slave_buffer?: string) => /slave (\S+ \S+ \S+)/.exec(directivesFor({ slave_buffer }, 'master')['client-output-buffer-limit'] as string)?.[1];
    expect(replica()).toBe('268435456 67108864 60');
    expect(replica('auto')).toBe('268435456 67108864 60');
    expect(replica('512')).toBe(`${512 * 1024 * 1024} 0 0`);
    expect(replica('1024:512:120')).toBe(`${1024 * 1024 * 1024} ${512 * 1024 * 1024} 120`);
    // The other classes stay Redis's: the directive is written whole, as CONFIG GET prints it.
    expect(directivesFor({ slave_buffer: '512' }, 'slave')['client-output-buffer-limit']).toMatch(/^normal 0 0 0 slave .* pubsub 33554432 8388608 60$/);
  });

  it('every rule is live on Redis 7.0, and the table and OTHER_FIELDS do not overlap on directive-only fields', () => {
    expect(DIRECTIVE_RULES.filter((r) => !r.live)).toEqual([]);
    for (const f of ['resp3', 'disabled_commands', 'tls_mode']) expect(DIRECTIVE_RULES.some((r) => r.fields.includes(f as never))).toBe(false);
    expect(OTHER_FIELDS).toMatchObject({ resp3: 'proxy', disabled_commands: 'acl', tls_mode: 'proxy', shards_count: 'topology' });
  });
});

describe('ACL rules', () => {
  it('disabled_commands become -cmd rules, comma or space separated, deduplicated', () => {
    expect(aclRulesFor({ disabled_commands: 'FLUSHALL, keys config|set  flushall' })).toEqual([...RS, '-flushall', '-keys', '-config|set']);
    expect(aclRulesFor({})).toEqual(RS);
  });

  it('default user: passwords as SHA-256, nopass without any, reset (off) when default_user is false', () => {
    expect(defaultUserRules({ disabled_commands: 'keys' }, ['p1', 'p2'])).toEqual(['reset', 'on', `#${sha('p1')}`, `#${sha('p2')}`, '~*', '&*', '+@all', ...RS, '-keys']);
    expect(defaultUserRules({}, [])).toEqual(['reset', 'on', 'nopass', '~*', '&*', '+@all', ...RS]);
    expect(defaultUserRules({ default_user: false }, ['p1'])).toEqual(['reset']);
  });

  it('disabledCommandProblems: bad names, AUTH/HELLO, commands or subcommands this Redis does not have', () => {
    expect(disabledCommandProblems({ disabled_commands: 'keys,config|set FLUSHALL' }, REDIS_7_0_COMMANDS)).toEqual([]);
    expect(disabledCommandProblems({ disabled_commands: 'hello, x y;z notacommand config|nope hgetex' }, REDIS_7_0_COMMANDS)).toEqual([
      'hello cannot be disabled', 'x is not a command of this Redis', 'y;z is not a command name', 'notacommand is not a command of this Redis',
      'config has no subcommand nope', 'hgetex is not a command of this Redis',
    ]);
    expect(disabledCommandProblems({ disabled_commands: 'hgetex' }, REDIS_COMMANDS)).toEqual([]);
  });
});

describe('liveChanges and configDrift', () => {
  it('only the changed directives, as CONFIG SET steps; no restart on Redis 7.0', () => {
    const a: BdbRedisSettings = { memory_size: 1 << 30, eviction_policy: 'volatile-lru', data_persistence: 'disabled' };
    const b: BdbRedisSettings = { ...a, memory_size: 2 << 30, data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 1 }] };
    expect(liveChanges(a, b)).toEqual({
      configSet: [{ directive: 'maxmemory', value: String(2 << 30), live: true }, { directive: 'save', value: '60 1', live: true }],
      restart: [],
      acl: false,
      proxy: [],
      topology: [],
    });
    expect(liveChanges(a, a)).toEqual({ configSet: [], restart: [], acl: false, proxy: [], topology: [] });
  });

  it('depends on the role: enabling AOF on a replicated database touches replicas only', () => {
    const a: BdbRedisSettings = { replication: true };
    const b: BdbRedisSettings = { replication: true, data_persistence: 'aof' };
    expect(liveChanges(a, b, 'master').configSet).toEqual([]);
    expect(liveChanges(a, b, 'slave').configSet).toEqual([{ directive: 'appendonly', value: 'yes', live: true }]);
  });

  it('flags ACL, proxy and topology fields, and restart-only directives', () => {
    const c = liveChanges({ resp3: true, shards_count: 1 }, { resp3: false, disabled_commands: 'keys', shards_count: 2, memory_size: 0 });
    expect(c).toMatchObject({ acl: true, proxy: ['resp3'], topology: ['shards_count'] });
    const rules: DirectiveRule[] = [{ directive: 'databases', fields: ['shards_count'], live: false, value: (x) => String(x.shards_count ?? 1) }];
    expect(liveChanges({}, { shards_count: 3 }, 'master', rules).restart).toEqual([{ directive: 'databases', value: '3', live: false }]);
  });

  it('configDrift compares desired directives with CONFIG GET output', () => {
    const desired = directivesFor({ memory_size: 100, data_persistence: 'snapshot', snapshot_policy: [{ secs: 10, writes: 1 }] }, 'master');
    const observed = { ...(desired as Record<string, string>), save: '10  1' };
    expect(configDrift(desired, observed)).toEqual([]);
    expect(configDrift(desired, { ...observed, maxmemory: '0' })).toEqual([{ directive: 'maxmemory', value: '100', live: true }]);
  });
});

describe('the table against a real redis-server', () => {
  const h = shardHarness();

  it('directivesFor values start a shard and read back unchanged (no drift); liveChanges apply with CONFIG SET', async () => {
    const sup = h.supervisor();
    const before: BdbRedisSettings = { memory_size: 100 << 20, eviction_policy: 'allkeys-lru', data_persistence: 'snapshot', snapshot_policy: [{ secs: 900, writes: 1 }], maxclients: 500, repl_backlog_size: '2097152', active_defrag_ignore_bytes: '200mb', tracking_table_max_keys: 5000, slave_buffer: '512' };
    const shard = h.track(await sup.start(await h.spec(directivesFor(before, 'master'))));
    const admin = sup.admin(shard);
    const directives = DIRECTIVE_RULES.map((r) => r.directive);
    expect(configDrift(directivesFor(before, 'master'), await admin.configGetAll(...directives))).toEqual([]);

    const after: BdbRedisSettings = { ...before, memory_size: 50 << 20, eviction_policy: 'volatile-ttl', data_persistence: 'aof', aof_policy: 'appendfsync-always', maxclients: 1000, active_defrag_cycle_max: 50, active_defrag_cycle_min: 5, active_defrag_ignore_bytes: '1gb', active_defrag_max_scan_fields: 500, active_defrag_threshold_lower: 20, active_defrag_threshold_upper: 90, tracking_table_max_keys: 0, slave_buffer: '1024:512:120' };
    for (const s of liveChanges(before, after).configSet) await admin.configSet(s.directive, s.value);
    expect(configDrift(directivesFor(after, 'master'), await admin.configGetAll(...directives))).toEqual([]);
    admin.close();
    await sup.stop(shard);
  });
});

describe('database users from Redis ACLs (roleUserRules)', () => {
  it('reset, pub/sub default, passwords as #sha256, the ACL, disabled commands last', () => {
    expect(roleUserRules({ disabled_commands: 'flushall,keys' }, [sha('pw')], ['+@read ~*'])).toEqual([
      'reset', 'resetchannels', 'on', `#${sha('pw')}`, '+@read', '~*', ...RS, '-flushall', '-keys',
    ]);
  });

  it('further ACLs become selectors; selectors get the disabled commands and the pub/sub default too', () => {
    expect(aclTokens('+get ~a  (+set ~b)  ( +del ~c )')).toEqual(['+get', '~a', '(+set ~b)', '( +del ~c )']);
    expect(roleUserRules({ disabled_commands: 'flushall' }, ['h'], ['+@all ~a:*', '+get ~b:* (+set ~c:*)'], 'allchannels')).toEqual([
      'reset', 'allchannels', 'on', '#h', '+@all', '~a:*',
      `(allchannels +set ~c:* ${[...RS, '-flushall'].join(' ')})`, `(allchannels +get ~b:* ${[...RS, '-flushall'].join(' ')})`, ...RS, '-flushall',
    ]);
  });

  const h = shardHarness();
  it('Redis takes the rules it produces: the user signs in with its password and gets the union, minus disabled commands', async () => {
    const sup = h.supervisor();
    const shard = h.track(await sup.start(await h.spec()));
    const admin = sup.admin(shard);
    await admin.aclSetUser('u', roleUserRules({ disabled_commands: 'flushdb' }, [sha('secret')], ['+@all ~a:*', '+get ~b:* (+set ~c:*)']));
    const c = h.client(shard.port, { username: 'u', password: 'secret' });
    await c.connect();
    expect(await c.set('a:1', 'x')).toBe('OK');
    expect(await c.get('b:1')).toBeNull();
    expect(await c.set('c:1', 'x')).toBe('OK');
    await expect(c.set('b:1', 'x')).rejects.toThrow(/NOPERM/);
    await expect(c.flushdb()).rejects.toThrow(/NOPERM/);
    // Server management is the manager's, whatever the ACL grants (RS_UNSUPPORTED_COMMANDS).
    await expect(c.config('GET', 'masterauth')).rejects.toThrow(/NOPERM/);
    await expect(c.call('ACL', 'SETUSER', 'x', 'on')).rejects.toThrow(/NOPERM/);
    await expect(c.call('SHUTDOWN', 'NOSAVE')).rejects.toThrow(/NOPERM/);
    await expect(c.call('REPLICAOF', '127.0.0.1', '1')).rejects.toThrow(/NOPERM/);
    expect(await c.call('ACL', 'WHOAMI')).toBe('u');
    c.disconnect();
    // The default user too: every rule exists in this redis-server.
    await admin.aclSetUser('default', defaultUserRules({}, []));
    const anon = h.client(shard.port);
    await anon.connect();
    await expect(anon.call('BGSAVE')).rejects.toThrow(/NOPERM/);
    await expect(anon.call('CONFIG', 'SET', 'maxmemory', '0')).rejects.toThrow(/NOPERM/);
    expect(await anon.set('k', 'v')).toBe('OK');
    anon.disconnect();
    admin.close();
    await sup.stop(shard);
  });
});
