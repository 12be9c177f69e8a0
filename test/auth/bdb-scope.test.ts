/** Database-scope rules and filtering (src/auth/bdb-scope.ts), as pure functions. */
import { describe, expect, it } from 'vitest';
import { bdbScopeRuleFor, bdbUidOf, filterByScope, OutOfScope, scopedBdbs } from '../../src/auth/bdb-scope.js';
import type { Role } from '../../src/schemas/role.js';

describe('bdbScopeRuleFor', () => {
  it('names the database parameter of /bdbs/{uid}... and /actions/bdb/{uid} routes', () => {
    expect(bdbScopeRuleFor('GET', '/v1/bdbs/:uid')).toEqual({ param: 'uid' });
    expect(bdbScopeRuleFor('POST', '/v1/bdbs/:uid/actions/export')).toEqual({ param: 'uid' });
    expect(bdbScopeRuleFor('GET', '/v1/bdbs/stats/last/:uid')).toEqual({ param: 'uid' });
    expect(bdbScopeRuleFor('GET', '/v1/actions/bdb/:uid')).toEqual({ param: 'uid' });
    expect(bdbScopeRuleFor('GET', '/v1/local/bdbs/:uid/endpoint/availability')).toEqual({ param: 'uid' });
  });

  it('filters database lists, refuses database writes without a uid, checks shards by their database', () => {
    expect(bdbScopeRuleFor('GET', '/v1/bdbs')).toEqual({ field: 'uid' });
    expect(bdbScopeRuleFor('GET', '/v1/bdbs/stats/last')).toEqual({ field: 'uid' });
    expect(bdbScopeRuleFor('POST', '/v1/bdbs')).toEqual({ deny: true });
    expect(bdbScopeRuleFor('POST', '/v2/bdbs')).toEqual({ deny: true });
    expect(bdbScopeRuleFor('GET', '/v1/shards')).toEqual({ field: 'bdb_uid', shardField: 'uid' });
    expect(bdbScopeRuleFor('GET', '/v1/shards/:uid')).toEqual({ shardParam: 'uid' });
    expect(bdbScopeRuleFor('POST', '/v1/shards/:uid/actions/failover')).toEqual({ shardParam: 'uid' });
    expect(bdbScopeRuleFor('POST', '/v1/shards/actions/failover')).toEqual({ deny: true });
    expect(bdbScopeRuleFor('GET', '/v2/actions')).toEqual({ field: 'object_name' });
    expect(bdbScopeRuleFor('GET', '/v1/endpoints/stats')).toEqual({ field: 'uid' });
  });

  it('leaves other routes alone', () => {
    for (const url of ['/v1/cluster', '/v1/nodes/:uid', '/v1/users/:uid', '/v1/roles', '/v1/logs', '/v1/bootstrap/:action']) {
      expect(bdbScopeRuleFor('GET', url), url).toBeUndefined();
    }
  });
});

describe('filterByScope', () => {
  const scope = new Set([1, 3]);
  it('drops list entries and map keys outside the scope, keeps entries naming no database', () => {
    expect(filterByScope([{ uid: 1 }, { uid: 2 }, { uid: 3 }], { field: 'uid' }, scope)).toEqual([{ uid: 1 }, { uid: 3 }]);
    expect(filterByScope({ 1: 'a', 2: 'b' }, { field: 'uid' }, scope)).toEqual({ 1: 'a' });
    const actions = { actions: [], 'state-machines': [{ object_name: 'bdb:2' }, { object_name: 'bdb:3' }, { object_name: 'cluster' }] };
    expect(filterByScope(actions, { field: 'object_name' }, scope)).toEqual({ actions: [], 'state-machines': [{ object_name: 'bdb:3' }, { object_name: 'cluster' }] });
    expect(filterByScope([{ uid: '2:1:1' }, { uid: '3:1:1' }], { field: 'uid' }, scope)).toEqual([{ uid: '3:1:1' }]);
  });

  it('maps shard uids to their databases; unknown shards are hidden', () => {
    const shardBdbs = new Map([[10, 1], [11, 2]]);
    const rule = { field: 'bdb_uid', shardField: 'uid' };
    expect(filterByScope([{ uid: '10' }, { uid: '11' }, { uid: '12' }], rule, scope, shardBdbs)).toEqual([{ uid: '10' }]);
    expect(filterByScope({ 10: {}, 11: {} }, rule, scope, shardBdbs)).toEqual({ 10: {} });
    expect(filterByScope([{ uid: 11, bdb_uid: 1 }], rule, scope, shardBdbs)).toEqual([{ uid: 11, bdb_uid: 1 }]);
  });

  it('a single object outside the scope throws OutOfScope', () => {
    expect(() => filterByScope({ uid: 2, name: 'x' }, { field: 'uid' }, scope)).toThrow(OutOfScope);
    expect(filterByScope({ uid: 3, name: 'x' }, { field: 'uid' }, scope)).toEqual({ uid: 3, name: 'x' });
  });

  it('bdbUidOf reads numbers, numeric strings, bdb:N and endpoint uids only', () => {
    expect([3, '3', 'bdb:3', '3:1:2'].map(bdbUidOf)).toEqual([3, 3, 3, 3]);
    expect(['node:3', 'cluster', '', 'x3', undefined, 3.5].map(bdbUidOf)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('scopedBdbs', () => {
  const roles = new Map<number, Role>([
    [4, { uid: 4, name: 'DB Member', management: 'db_member' }],
    [5, { uid: 5, name: 'DB Viewer', management: 'db_viewer' }],
    [10, { uid: 10, name: 'a', management: 'db_member', resources: [{ type: 'db', uids: ['1', '2'] }] }],
    [11, { uid: 11, name: 'b', management: 'db_member', resources: [{ type: 'db', uids: ['5'] }] }],
    [12, { uid: 12, name: 'c', management: 'db_viewer', resources: [{ type: 'db', uids: ['9'] }] }],
    [13, { uid: 13, name: 'd', management: 'db_viewer', resources: [{ type: 'db', uids: [] }] }],
  ]);
  const reader = { get: async (uid: number) => (roles.has(uid) ? { value: roles.get(uid)! } : undefined) };
  const caller = (role: 'db_member' | 'db_viewer' | 'admin', role_uids: number[]) => ({ uid: 9, name: 'u', email: 'u@x', role, role_uids });

  it('unions the scoped roles at the effective level; one unscoped role there lifts the limit', async () => {
    expect(await scopedBdbs(caller('db_member', [10]), reader)).toEqual(new Set([1, 2]));
    expect(await scopedBdbs(caller('db_member', [10, 11]), reader)).toEqual(new Set([1, 2, 5]));
    expect(await scopedBdbs(caller('db_member', [10, 4]), reader)).toBeUndefined();
    // A lower-level role neither widens nor lifts the scope.
    expect(await scopedBdbs(caller('db_member', [10, 12, 5]), reader)).toEqual(new Set([1, 2]));
    expect(await scopedBdbs(caller('db_viewer', [13]), reader)).toEqual(new Set());
  });

  it('other management roles and callers without role uids are never limited', async () => {
    expect(await scopedBdbs(caller('admin', [10]), reader)).toBeUndefined();
    expect(await scopedBdbs(caller('db_member', []), reader)).toBeUndefined();
  });
});
