import { describe, expect, it } from 'vitest';
import { CLIENT_SETTINGS, clientSetting, planConfigSet, visiblePairs } from '../../src/redis/client-config.js';
import { CLIENT_CONFIG_COMMANDS, aclRulesFor, directivesFor } from '../../src/redis/config-map.js';

describe('settings clients may CONFIG GET / SET (config-settings.md)', () => {
  it("names and aliases, any case; RS's excluded settings and everything else are not clients'", () => {
    expect(clientSetting('NOTIFY-KEYSPACE-EVENTS')?.name).toBe('notify-keyspace-events');
    expect(clientSetting('hash-max-ziplist-entries')?.name).toBe('hash-max-listpack-entries');
    expect(clientSetting('lua-time-limit')?.name).toBe('busy-reply-threshold');
    for (const n of ['maxmemory-samples', 'tracking-table-max-keys', 'maxmemory', 'dir', 'masterauth', 'requirepass', 'save']) expect(clientSetting(n)).toBeUndefined();
  });

  it("planConfigSet: Redis 7.0 names; RS's limits; all or nothing", () => {
    expect(planConfigSet(['notify-keyspace-events', 'Ex', 'ZSET-MAX-ZIPLIST-VALUE', '32'])).toEqual({ pairs: [['notify-keyspace-events', 'Ex'], ['zset-max-listpack-value', '32']] });
    expect(planConfigSet(['slowlog-max-len', '128'])).toEqual({ pairs: [['slowlog-max-len', '128']] });
    expect(planConfigSet(['slowlog-max-len', '1024'])).toHaveProperty('pairs');
    expect(planConfigSet(['slowlog-max-len', '127'])).toHaveProperty('error');
    expect(planConfigSet(['slowlog-max-len', '1025'])).toHaveProperty('error');
    expect(planConfigSet(['slowlog-log-slower-than', '1000'])).toHaveProperty('error');
    expect(planConfigSet(['slowlog-log-slower-than', '1001'])).toHaveProperty('pairs');
    expect(planConfigSet(['lua-time-limit', '60000'])).toHaveProperty('pairs');
    expect(planConfigSet(['lua-time-limit', '-1'])).toHaveProperty('error');
    expect(planConfigSet(['busy-reply-threshold', 'x'])).toHaveProperty('error');
    expect(planConfigSet(['slowlog-max-len', '200', 'maxmemory', '1'])).toEqual({ error: 'ERR Unsupported CONFIG parameter: maxmemory' });
    // Names first, over every pair, then values.
    expect(planConfigSet(['slowlog-max-len', '5', 'maxmemory', '1'])).toEqual({ error: 'ERR Unsupported CONFIG parameter: maxmemory' });
    expect(planConfigSet(['lua-time-limit', '10', 'busy-reply-threshold', '20'])).toHaveProperty('error');
    expect(planConfigSet([])).toHaveProperty('error');
    expect(planConfigSet(['slowlog-max-len'])).toEqual({ error: "ERR wrong number of arguments for 'config|set' command" });
    expect(planConfigSet(['slowlog-max-len', '200', 'x'])).toEqual({ error: 'ERR syntax error' });
  });

  it('visiblePairs keeps only those settings', () => {
    expect(visiblePairs([['dir', '/x'], ['slowlog-max-len', '128'], ['hash-max-ziplist-entries', '128']])).toEqual([['slowlog-max-len', '128'], ['hash-max-ziplist-entries', '128']]);
  });

  it('redis_config becomes directives (redis.conf, CONFIG SET on every shard); unset ones stay Redis defaults', () => {
    const d = directivesFor({ redis_config: { 'notify-keyspace-events': 'AKE', 'slowlog-max-len': '512' } }, 'slave');
    expect(d['notify-keyspace-events']).toBe('AKE');
    expect(d['slowlog-max-len']).toBe('512');
    expect(d).not.toHaveProperty('list-compress-depth');
    expect(CLIENT_SETTINGS.every((s) => !(s.name in directivesFor({}, 'master')))).toBe(true);
  });

  it('database users keep CONFIG blocked; only the probe of their rules lifts it', () => {
    expect(aclRulesFor({})).toEqual(expect.arrayContaining(['-config|get', '-config|set', '-config|rewrite']));
    const probe = aclRulesFor({ disabled_commands: 'config' }, CLIENT_CONFIG_COMMANDS);
    expect(probe).not.toContain('-config|get');
    expect(probe).toContain('-config|resetstat');
    // disabled_commands still applies to the probe.
    expect(probe).toContain('-config');
  });
});
