/** LdapAuth's rules without a directory: caching bounds, dedup, escaping and DN comparison. */
import { describe, expect, it } from 'vitest';
import { FilterParser } from 'ldapts';
import { LDAP_CACHE_MAX_MS, LdapAuth } from '../../src/auth/ldap-auth.js';
import { escapeDnValue, escapeFilterValue, type DirectoryResult } from '../../src/auth/ldap-directory.js';
import type { ManagementRole } from '../../src/auth/permissions.js';
import { RsError } from '../../src/errors.js';
import type { Ldap } from '../../src/schemas/ldap.js';
import type { LdapConfigService } from '../../src/services/ldap-config-service.js';
import { isDn, normalizeDn, type LdapMappingService } from '../../src/services/ldap-mapping-service.js';
import { applyLdapUpdate, LDAP_DEFAULTS } from '../../src/services/ldap-rules.js';

const req = { log: { info() {}, warn() {} } } as any;

function setup(opts: { cache_ttl?: number; result?: DirectoryResult; role?: ManagementRole } = {}) {
  const state = { revision: 1, control_plane: true, now: 0, lookups: 0 };
  const cfg = { ...LDAP_DEFAULTS, uris: ['ldap://x:389'], cache_ttl: opts.cache_ttl ?? 300 } as Ldap;
  const config = { active: async () => (state.control_plane ? { value: cfg, modRevision: state.revision } : undefined) } as unknown as LdapConfigService;
  const mappings = {
    roleForGroups: async (g: string[]) => (g.includes('cn=ops') ? (opts.role ?? 'admin') : undefined),
    roleUidsForGroups: async (g: string[]) => (g.includes('cn=ops') ? [1] : []),
  } as unknown as LdapMappingService;
  const lookup = async (): Promise<DirectoryResult> => {
    state.lookups++;
    await new Promise((r) => setTimeout(r, 5));
    return opts.result ?? { kind: 'ok', dn: 'uid=a', groups: ['cn=ops'], email: 'a@x' };
  };
  const auth = new LdapAuth(config, mappings, lookup, () => state.now);
  return { auth, state };
}

describe('LdapAuth', () => {
  it('asks nothing while LDAP is not enabled for the control plane', async () => {
    const { auth, state } = setup();
    state.control_plane = false;
    expect(await auth.verifyBasic('a', 'p', req)).toBeUndefined();
    expect(state.lookups).toBe(0);
  });

  it('caches a success at most LDAP_CACHE_MAX_MS, whatever cache_ttl says', async () => {
    const { auth, state } = setup({ cache_ttl: 3600 });
    expect(await auth.verifyBasic('a', 'p', req)).toMatchObject({ name: 'a', email: 'a@x', role: 'admin', uid: 0 });
    state.now = LDAP_CACHE_MAX_MS - 1;
    await auth.verifyBasic('a', 'p', req);
    expect(state.lookups).toBe(1);
    state.now = LDAP_CACHE_MAX_MS + 1;
    await auth.verifyBasic('a', 'p', req);
    expect(state.lookups).toBe(2);
  });

  it('cache_ttl 0 caches nothing; a new config revision or another password misses the cache', async () => {
    const none = setup({ cache_ttl: 0 });
    await none.auth.verifyBasic('a', 'p', req);
    await none.auth.verifyBasic('a', 'p', req);
    expect(none.state.lookups).toBe(2);
    const { auth, state } = setup();
    await auth.verifyBasic('a', 'p', req);
    state.revision = 2;
    await auth.verifyBasic('a', 'p', req);
    await auth.verifyBasic('a', 'other', req);
    expect(state.lookups).toBe(3);
  });

  it('concurrent requests with the same credentials share one lookup', async () => {
    const { auth, state } = setup();
    await Promise.all([1, 2, 3, 4].map(() => auth.verifyBasic('a', 'p', req)));
    expect(state.lookups).toBe(1);
  });

  it('unknown user → undefined (next verifier); bad password, empty password, no mapping → 401', async () => {
    expect(await setup({ result: { kind: 'unknown_user' } }).auth.verifyBasic('a', 'p', req)).toBeUndefined();
    const is401 = (e: unknown) => e instanceof RsError && e.statusCode === 401;
    await expect(setup({ result: { kind: 'bad_password' } }).auth.verifyBasic('a', 'p', req)).rejects.toSatisfy(is401);
    await expect(setup().auth.verifyBasic('a', '', req)).rejects.toSatisfy(is401);
    await expect(setup({ result: { kind: 'ok', dn: 'uid=a', groups: ['cn=dev'], email: '' } }).auth.verifyBasic('a', 'p', req)).rejects.toSatisfy(is401);
  });
});

describe('escaping and DN comparison', () => {
  it('escapes DN values (RFC 4514) and filter values (RFC 4515)', () => {
    expect(escapeDnValue('a,b+c"d\\e<f>g;h=i')).toBe('a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i');
    expect(escapeDnValue('#lead')).toBe('\\#lead');
    expect(escapeDnValue(' both ')).toBe('\\ both\\ ');
    const f = `(uid=${escapeFilterValue('*)(uid=*')})`;
    expect(f).toBe('(uid=\\2a\\29\\28uid=\\2a)');
    expect(FilterParser.parseString(f).type).toBe(FilterParser.parseString('(uid=x)').type);
  });

  it('compares DNs case- and spacing-insensitively, keeping escaped separators', () => {
    expect(normalizeDn('CN=Ops, OU=Groups,DC=Example,DC=com')).toBe(normalizeDn('cn=ops,ou=groups,dc=example,dc=com'));
    expect(normalizeDn('cn=a\\,b,dc=x')).not.toBe(normalizeDn('cn=a,b,dc=x'));
    expect(isDn('cn=ops,ou=groups,dc=example,dc=com')).toBe(true);
    expect(isDn('OU=ops.group,DC=redislabs,DC=com')).toBe(true);
    expect(isDn('cn=a\\,b+uid=2,dc=x')).toBe(true);
    expect(isDn('not a dn')).toBe(false);
    expect(isDn('cn=x,,dc=y')).toBe(false);
  });
});

describe('applyLdapUpdate', () => {
  it('keeps the stored bind password when the mask is sent back', () => {
    const cur = applyLdapUpdate(undefined, { bind_dn: 'cn=svc', bind_pass: 's3cret' });
    expect(applyLdapUpdate(cur, { bind_pass: '***' }).bind_pass).toBe('s3cret');
  });

  it('setting one of two exclusive fields clears the other; both at once is illegal', () => {
    const tpl = applyLdapUpdate(undefined, { user_dn_template: 'uid=%u,dc=x' });
    const q = applyLdapUpdate(tpl, { user_dn_query: { base: 'dc=x', filter: '(uid=%u)', scope: 'subtree' } });
    expect(q.user_dn_template).toBe('');
    expect(() => applyLdapUpdate(tpl, { user_dn_template: 'uid=%u', user_dn_query: { base: 'dc=x', filter: '(uid=%u)', scope: 'one' } }))
      .toThrow(/mutually exclusive/);
    // The empty forms clear without conflict.
    expect(applyLdapUpdate(tpl, { user_dn_template: '', user_dn_query: {} }).user_dn_template).toBe('');
  });
});
