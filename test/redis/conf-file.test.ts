import { describe, expect, it } from 'vitest';
import { adminUserRule, mergeAclFile, quoteArg, renderConf, shardDirectives } from '../../src/redis/conf-file.js';

const admin = { user: 'openrs-admin', password: 'pw' };

describe('redis.conf rendering', () => {
  it('base directives, then the spec (which wins), then the admin user; empty values as ""', () => {
    const d = shardDirectives({ port: 12000, dir: '/data/redis-1', directives: { bind: '10.0.0.5', maxmemory: '1024', user: 'default on nopass ~* +@all' } }, admin);
    const text = renderConf(d);
    expect(text).toMatch(/^bind 10\.0\.0\.5$/m);
    expect(text).toMatch(/^port 12000$/m);
    expect(text).toMatch(/^pidfile \/data\/redis-1\/redis\.pid$/m);
    expect(text).toMatch(/^save ""$/m);
    expect(text).toMatch(/^masteruser openrs-admin$/m);
    expect(text).toMatch(/^user default on nopass ~\* \+@all\nuser openrs-admin on #[0-9a-f]{64} ~\* &\* \+@all$/m);
  });

  it('the admin user cannot be redefined by the spec; supervisor-owned directives are refused', () => {
    const d = shardDirectives({ port: 1, dir: '/d', directives: { user: ['openrs-admin on nopass +@all', 'app on >x +get'] } }, admin);
    expect(d.user).toEqual(['app on >x +get', adminUserRule(admin)]);
    for (const name of ['port', 'dir', 'pidfile', 'logfile', 'daemonize', 'aclfile', 'include', 'PORT']) {
      expect(() => shardDirectives({ port: 1, dir: '/d', directives: { [name]: 'x' } }, admin)).toThrow(/managed by the supervisor/);
    }
  });

  it('with aclFile: an aclfile directive and no user lines', () => {
    const d = shardDirectives({ port: 1, dir: '/d', directives: {}, aclFile: true }, admin);
    expect(d.aclfile).toBe('/d/users.acl');
    expect(d.user).toBeUndefined();
    expect(() => shardDirectives({ port: 1, dir: '/d', directives: { user: 'x on' }, aclFile: true }, admin)).toThrow(/aclFile/);
    expect(mergeAclFile('user default on nopass ~* +@all\nuser openrs-admin on #old ~* +@all\n', admin)).toBe(`user default on nopass ~* +@all\nuser ${adminUserRule(admin)}\n`);
    // No default user yet (a new shard): one that is off, never redis-server's open `on nopass +@all`.
    expect(mergeAclFile('', admin)).toBe(`user default off resetkeys resetchannels -@all\nuser ${adminUserRule(admin)}\n`);
    expect(mergeAclFile('user defaulter on >x +get\n', admin)).toMatch(/^user default off /);
  });

  it('quoting and injection', () => {
    expect(quoteArg('/plain/path')).toBe('/plain/path');
    expect(quoteArg('/with space/a"b\\c')).toBe('"/with space/a\\"b\\\\c"');
    expect(quoteArg('')).toBe('""');
    expect(() => renderConf({ maxmemory: '1\nslaveof 1.2.3.4 6379' })).toThrow(/line break/);
    expect(() => renderConf({ 'bad name': 'x' })).toThrow(/directive name/);
  });
});
