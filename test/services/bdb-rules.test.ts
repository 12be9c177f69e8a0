import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import { RsError } from '../../src/errors.js';
import { maxClientsWithin } from '../../src/redis/config-map.js';
import { type Bdb, type BdbCreate, BdbUpdate, bdbDefaults, BDB_CREATE_ONLY_FIELDS, BDB_WRITABLE_FIELDS } from '../../src/schemas/bdb.js';
import {
  BDB_ERRORS, BDB_FIELD_RULES, type BdbErrorCode, BdbRuleError, type BdbRulesContext, checkCreate, checkCreateV2,
  checkUpdate, checkUpdateAction, classifyField, keepMaskedPasswords, MIN_SHARD_MEMORY_BYTES, unsupportedFields,
} from '../../src/services/bdb-rules.js';

const GiB = 1024 ** 3;
const LOC = { type: 'mount_point', path: '/var/backups' } as const;
const MiB = 1024 ** 2;

const ctx = (over: Partial<BdbRulesContext> = {}): BdbRulesContext => ({
  usedPorts: [12000],
  portRange: { from: 10000, to: 19999 },
  reservedPorts: ['10050', '13000-13010'],
  existingNames: ['taken'],
  clusterMemoryBytes: 8 * GiB,
  redisVersion: '7.0.15',
  ...over,
});

const create = (over: Record<string, unknown> = {}): BdbCreate => ({ name: 'db1', memory_size: GiB, ...over }) as BdbCreate;

/** An existing database record, as the service stores it. */
const current = (over: Partial<Bdb> = {}): Partial<Bdb> => ({
  ...bdbDefaults(), uid: 1, name: 'db1', memory_size: GiB, port: 0, version: '7.0.15', redis_version: '7.0', status: 'active', ...over,
});

/** Runs fn, expects a BdbRuleError with `code` and the page's status; returns it. */
function rejects(fn: () => unknown, code: BdbErrorCode): BdbRuleError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BdbRuleError);
    const err = e as BdbRuleError;
    expect({ code: err.error_code, status: err.status }).toEqual({ code, status: BDB_ERRORS[code][0] });
    return err;
  }
  throw new Error(`expected ${code}`);
}

let certA = '';
let certB = '';
beforeAll(async () => {
  certA = (await generateSelfSigned({ commonName: 'client-a', altNames: [], days: 30 })).certificate;
  certB = (await generateSelfSigned({ commonName: 'client-b', altNames: [], days: 1 })).certificate;
});

describe('BdbRuleError', () => {
  it('carries error_code, status and description, and serializes as an RS error body', () => {
    const e = new BdbRuleError('port_unavailable', 'Port 1 is reserved');
    expect(e).toBeInstanceOf(RsError);
    expect([e.error_code, e.status, e.statusCode, e.description]).toEqual(['port_unavailable', 406, 406, 'Port 1 is reserved']);
    expect(e.toJSON()).toEqual({ error_code: 'port_unavailable', description: 'Port 1 is reserved' });
    expect(new BdbRuleError('busy').status).toBe(409);
    expect(new BdbRuleError('uid_exists').description).toBe('The specified database UID is already in use.');
    expect(new BdbRuleError('unsupported_option').status).toBe(400);
  });
});

describe('checkCreate', () => {
  it('accepts the page example and returns defaults plus the body', () => {
    const rec = checkCreate(create({ name: 'test-database', type: 'redis', memory_size: 1073741824 }), ctx());
    expect(rec).toMatchObject({ name: 'test-database', memory_size: GiB, eviction_policy: 'volatile-lru', shards_count: 1, port: 0 });
  });

  it('roles_permissions must name existing roles and Redis ACLs; avoid_nodes / use_nodes must leave a node', () => {
    const refs = ctx({ roleUids: [1, 2], redisAclUids: [3], nodeUids: [1] });
    expect(() => checkCreate(create({ roles_permissions: [{ role_uid: 2, redis_acl_uid: 3 }] }), refs)).not.toThrow();
    rejects(() => checkCreate(create({ roles_permissions: [{ role_uid: 9, redis_acl_uid: 3 }] }), refs), 'role_not_exist');
    rejects(() => checkCreate(create({ roles_permissions: [{ role_uid: 1, redis_acl_uid: 9 }] }), refs), 'redis_acl_not_exist');
    rejects(() => checkUpdate(current(), { roles_permissions: [{ role_uid: 9, redis_acl_uid: 3 }] }, refs), 'role_not_exist');
    rejects(() => checkCreate(create({ avoid_nodes: ['1'] }), refs), 'insufficient_resources');
    rejects(() => checkCreate(create({ use_nodes: ['7'] }), refs), 'insufficient_resources');
    expect(() => checkCreate(create({ use_nodes: ['1'], avoid_nodes: ['2'] }), refs)).not.toThrow();
  });

  it('missing_db_name / missing_memory_size', () => {
    rejects(() => checkCreate({ memory_size: GiB } as BdbCreate, ctx()), 'missing_db_name');
    rejects(() => checkCreate(create({ name: '' }), ctx()), 'missing_db_name');
    rejects(() => checkCreate({ name: 'x' } as BdbCreate, ctx()), 'missing_memory_size');
  });

  it('uid_exists is a 409', () => {
    rejects(() => checkCreate(create({ uid: 3 }), ctx({ existingUids: [1, 3] })), 'uid_exists');
    expect(() => checkCreate(create({ uid: 4 }), ctx({ existingUids: [1, 3] }))).not.toThrow();
  });

  it('name_violation: characters, length, ends, duplicates (case-sensitive)', () => {
    for (const name of ['has space', 'under_score', '-lead', 'trail-', 'a'.repeat(64), 'ünï']) {
      rejects(() => checkCreate(create({ name }), ctx()), 'name_violation');
    }
    rejects(() => checkCreate(create({ name: 'taken' }), ctx()), 'name_violation');
    for (const name of ['a', 'A-1-b', 'a'.repeat(63), 'Taken']) expect(() => checkCreate(create({ name }), ctx())).not.toThrow();
  });

  it('invalid_version: version and redis_version must name the installed server', () => {
    rejects(() => checkCreate(create({ version: '7.2' }), ctx()), 'invalid_version');
    rejects(() => checkCreate(create({ version: '6.0.15' }), ctx()), 'invalid_version');
    rejects(() => checkCreate(create({ redis_version: '5.0-big' }), ctx()), 'invalid_version');
    rejects(() => checkCreate(create({ version: '7.0.15.1' }), ctx()), 'invalid_version');
    for (const v of ['7', '7.0', '7.0.15', '7.0.0']) expect(() => checkCreate(create({ version: v, redis_version: v }), ctx())).not.toThrow();
  });

  it('port_unavailable: outside the range, reserved, or in use; 0 is automatic', () => {
    for (const port of [6379, 20000, 10050, 13000, 13005, 13010, 12000]) {
      rejects(() => checkCreate(create({ port }), ctx()), 'port_unavailable');
    }
    for (const port of [0, 10000, 12001, 19999]) expect(() => checkCreate(create({ port }), ctx())).not.toThrow();
  });

  it('memcached_cannot_use_modules and redis_acl_unsupported', () => {
    rejects(() => checkCreate(create({ type: 'memcached', module_list: [{ module_name: 'search' }] }), ctx()), 'memcached_cannot_use_modules');
    rejects(() => checkCreate(create({ type: 'memcached', roles_permissions: [{ role_uid: 1, redis_acl_uid: 1 }] }), ctx()), 'redis_acl_unsupported');
  });

  it('replication_violation: a CRDT database must use replication', () => {
    rejects(() => checkCreate(create({ crdt: true }), ctx()), 'replication_violation');
  });

  it('invalid_sharding', () => {
    rejects(() => checkCreate(create({ shards_count: 2 }), ctx()), 'invalid_sharding');
    rejects(() => checkCreate(create({ sharding: true }), ctx()), 'invalid_sharding');
    expect(() => checkCreate(create({ sharding: true, shard_key_regex: [{ regex: '(?<tag>.*)' }] }), ctx())).not.toThrow();
  });

  it('memory: replication_size_violation, invalid_memory_size, insufficient_resources', () => {
    rejects(() => checkCreate(create({ replication: true, memory_size: 2 * MIN_SHARD_MEMORY_BYTES - 1 }), ctx()), 'replication_size_violation');
    expect(() => checkCreate(create({ replication: true, memory_size: 2 * MIN_SHARD_MEMORY_BYTES }), ctx())).not.toThrow();
    rejects(() => checkCreate(create({ memory_size: MiB }), ctx()), 'invalid_memory_size');
    expect(() => checkCreate(create({ memory_size: 0 }), ctx())).not.toThrow(); // unlimited
    rejects(() => checkCreate(create({ memory_size: 9 * GiB }), ctx()), 'insufficient_resources');
    expect(() => checkCreate(create({ memory_size: 9 * GiB }), ctx({ shardsOverbooking: true }))).not.toThrow();
  });

  it('invalid_replication: not enough nodes', () => {
    rejects(() => checkCreate(create({ replication: true }), ctx({ nodeCount: 1 })), 'invalid_replication');
    expect(() => checkCreate(create({ replication: true }), ctx({ nodeCount: 2 }))).not.toThrow();
    expect(() => checkCreate(create({ replication: true }), ctx())).not.toThrow();
  });

  it('invalid_data_persistence', () => {
    rejects(() => checkCreate(create({ data_persistence: 'snapshot' }), ctx()), 'invalid_data_persistence');
    rejects(() => checkCreate(create({ aof_policy: 'appendfsync-always' }), ctx()), 'invalid_data_persistence');
    expect(() => checkCreate(create({ data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 1 }] }), ctx())).not.toThrow();
    expect(() => checkCreate(create({ data_persistence: 'aof', aof_policy: 'appendfsync-always' }), ctx())).not.toThrow();
    expect(() => checkCreate(create({ aof_policy: 'appendfsync-every-sec' }), ctx())).not.toThrow();
  });

  it('missing_backup_interval', () => {
    rejects(() => checkCreate(create({ backup: true, backup_interval: 0, backup_location: LOC }), ctx()), 'missing_backup_interval');
    expect(() => checkCreate(create({ backup: true, backup_interval: 3600, backup_location: LOC }), ctx())).not.toThrow();
  });

  it('backup needs a backup_location (missing_field), and backup_interval_offset < backup_interval (invalid_param)', () => {
    rejects(() => checkCreate(create({ backup: true, backup_interval: 3600 }), ctx()), 'missing_field');
    rejects(() => checkCreate(create({ backup_interval: 60, backup_interval_offset: 100 }), ctx()), 'invalid_param');
    rejects(() => checkCreate(create({ backup_interval: 60, backup_interval_offset: 60 }), ctx()), 'invalid_param');
    expect(() => checkCreate(create({ backup_interval: 60, backup_interval_offset: 59 }), ctx())).not.toThrow();
    expect(() => checkCreate(create({ backup_interval_offset: 3600 }), ctx())).not.toThrow(); // default interval 86400
  });

  it('eviction_policy_violation: LFU needs Redis 4, LRM Redis 8.6', () => {
    rejects(() => checkCreate(create({ eviction_policy: 'allkeys-lfu' }), ctx({ redisVersion: '3.2.12' })), 'eviction_policy_violation');
    rejects(() => checkCreate(create({ eviction_policy: 'allkeys-lrm' }), ctx()), 'eviction_policy_violation');
    expect(() => checkCreate(create({ eviction_policy: 'volatile-lfu' }), ctx())).not.toThrow();
    expect(() => checkCreate(create({ eviction_policy: 'volatile-lrm' }), ctx({ redisVersion: '8.6.0' }))).not.toThrow();
  });

  it('invalid_bdb_tags', () => {
    rejects(() => checkCreate(create({ tags: [{ key: 'env', value: 'a' }, { key: 'env', value: 'b' }] }), ctx()), 'invalid_bdb_tags');
    expect(() => checkCreate(create({ tags: [{ key: 'env', value: 'a' }, { key: 'team', value: 'a' }] }), ctx())).not.toThrow();
  });

  it('client certificates: invalid_certificate, certificate_expired, duplicated_certs', () => {
    const certs = (...pems: string[]) => ({ tls_mode: 'enabled', authentication_ssl_client_certs: pems.map((client_cert) => ({ client_cert })) });
    rejects(() => checkCreate(create(certs('not a certificate')), ctx()), 'invalid_certificate');
    rejects(() => checkCreate(create(certs(certA, certB)), ctx({ now: new Date(Date.now() + 3 * 86_400_000) })), 'certificate_expired');
    rejects(() => checkCreate(create(certs(certA, certB, certA)), ctx()), 'duplicated_certs');
    rejects(() => checkCreate(create({ tls_mode: 'enabled', enforce_client_authentication: 'enabled' }), ctx()), 'invalid_certificate');
    expect(() => checkCreate(create(certs(certA, certB)), ctx())).not.toThrow();
    expect(() => checkCreate(create({ tls_mode: 'enabled' }), ctx())).not.toThrow();
    expect(() => checkCreate(create({ tls_mode: 'enabled', enforce_client_authentication: 'disabled' }), ctx())).not.toThrow();
  });

  it('client certificates: every certificate of a bundle entry is checked; one stored that has expired since does not block later changes', () => {
    const later = ctx({ now: new Date(Date.now() + 3 * 86_400_000) });
    // A bundle entry: both are trusted, so both are checked (before, only its first).
    rejects(() => checkCreate(create({ tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: certB }, { client_cert: `${certA}\n${certB}` }] }), ctx()), 'duplicated_certs');
    rejects(() => checkCreate(create({ tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: `${certB}\n${certA}` }] }), later), 'certificate_expired');
    // Stored while valid, expired since: an unrelated change, or the same list sent back, goes through ...
    const stored = current({ tls_mode: 'enabled', ssl: true, authentication_ssl_client_certs: [{ client_cert: certA }] });
    expect(checkUpdate(stored, { eviction_policy: 'allkeys-lru', tls_mode: 'enabled' }, later).eviction_policy).toBe('allkeys-lru');
    expect(() => checkUpdate(stored, { authentication_ssl_client_certs: [{ client_cert: certA }] }, later)).not.toThrow();
    // ... an expired certificate the request adds does not.
    rejects(() => checkUpdate(stored, { authentication_ssl_client_certs: [{ client_cert: certA }, { client_cert: certB }] }, later), 'certificate_expired');
  });

  it('the deprecated ssl and tls_mode always say the same thing; the one the request changes wins', () => {
    const tls = (r: Partial<Bdb>) => ({ tls_mode: r.tls_mode, ssl: r.ssl });
    expect(tls(checkCreate(create({ tls_mode: 'enabled' }), ctx()))).toEqual({ tls_mode: 'enabled', ssl: true });
    expect(tls(checkCreate(create({ ssl: true }), ctx()))).toEqual({ tls_mode: 'enabled', ssl: true });
    expect(tls(checkCreate(create(), ctx()))).toEqual({ tls_mode: 'disabled', ssl: false });
    const on = current({ tls_mode: 'enabled', ssl: true });
    expect(tls(checkUpdate(on, { tls_mode: 'disabled' }, ctx()))).toEqual({ tls_mode: 'disabled', ssl: false });
    expect(tls(checkUpdate(on, { ssl: false }, ctx()))).toEqual({ tls_mode: 'disabled', ssl: false });
    // A GET body sent back with only ssl flipped: ssl wins over the unchanged tls_mode.
    expect(tls(checkUpdate(current(), { ssl: true, tls_mode: 'disabled' }, ctx()))).toEqual({ tls_mode: 'enabled', ssl: true });
    // A record stored before the two were kept in step (ssl: true, tls_mode: 'disabled'): tls_mode sent turns TLS off.
    expect(tls(checkUpdate(current({ ssl: true, tls_mode: 'disabled' }), { tls_mode: 'disabled' }, ctx()))).toEqual({ tls_mode: 'disabled', ssl: false });
  });

  it('invalid_oss_cluster_configuration', () => {
    rejects(() => checkCreate(create({ oss_cluster: true }), ctx()), 'invalid_oss_cluster_configuration');
    rejects(() => checkCreate(create({ oss_cluster: true, proxy_policy: 'all-master-shards', hash_slots_policy: 'legacy' }), ctx()), 'invalid_oss_cluster_configuration');
    // A valid OSS cluster configuration is still one openrs cannot serve.
    const err = rejects(() => checkCreate(create({ oss_cluster: true, proxy_policy: 'all-master-shards' }), ctx()), 'unsupported_option');
    expect(err.description).toMatch(/oss_cluster .*proxy_policy/);
  });

  it('not_rack_aware', () => {
    rejects(() => checkCreate(create({ rack_aware: true }), ctx()), 'not_rack_aware');
    expect(() => checkCreate(create({ rack_aware: false }), ctx())).not.toThrow();
  });

  it('missing_module, and module configuration once the module is listed', () => {
    rejects(() => checkCreate(create({ module_list: [{ module_name: 'search' }] }), ctx()), 'missing_module');
    rejects(() => checkCreate(create({ module_list: [{ module_name: 'search' }] }), ctx({ installedModules: ['ReJSON'] })), 'missing_module');
    expect(() => checkCreate(create({ module_list: [{ module_name: 'Search' }], search: { 'search-timeout': 100 } }), ctx({ installedModules: ['search'] }))).not.toThrow();
    expect(() => checkCreate(create({ module_list: [{ module_id: 'abc' }] }), ctx({ installedModules: ['abc'] }))).not.toThrow();
    rejects(() => checkCreate(create({ search: { 'search-timeout': 100 } }), ctx()), 'unsupported_option');
    expect(() => checkCreate(create({ search: {} }), ctx())).not.toThrow();
  });

  it('unsupported_option names every unsupported field in one error', () => {
    const err = rejects(() => checkCreate(create({ bigstore: true, proxy_policy: 'all-nodes', tls_mode: 'replica_ssl' }), ctx()), 'unsupported_option');
    expect(err.description).toMatch(/bigstore \(.*Flash/);
    expect(err.description).toMatch(/proxy_policy/);
    expect(err.description).toMatch(/tls_mode/);
    for (const body of [
      { type: 'memcached' }, { crdt: true, replication: true }, { shards_count: 2, sharding: true, shard_key_regex: [{ regex: '(?<tag>.*)' }] },
      { replica_sources: [{ uri: 'redis://:pw@host:12000' }] }, { replica_sync: 'enabled' }, { backup_location: { type: 's3', bucket_name: 'b', access_key_id: 'a', secret_access_key: 's' } },
      { audit_settings: { audit_mode: 'connection' } }, { hash_slots_policy: 'legacy' }, { slave_ha: true }, { crdt_featureset_version: 1 },
      { dataset_import_sources: [{ type: 'url', url: 'ftp://h/x.rdb' }] }, { authorized_names: ['x'] }, { internal: true },
    ]) {
      rejects(() => checkCreate(create(body), ctx()), 'unsupported_option');
    }
  });

  it('unsupported fields given their default, or an allowed value, are accepted', () => {
    expect(() => checkCreate(create({
      bigstore: false, crdt: false, replica_sync: 'disabled', sync: 'disabled', proxy_policy: 'single', tls_mode: 'enabled',
      shards_count: 1, type: 'redis', hash_slots_policy: '16k', replica_sources: [], audit_settings: { audit_mode: 'disabled' },
      backup_location: { type: 'mount_point', path: '/backups' }, dataset_import_sources: [{ type: 'mount_point', path: '/in/x.rdb' }],
      oss_cluster: false, mkms: true, syncer_log_level: 'info', gradual_sync_policy_parameters: { src_endpoint_limit: 1, src_node_limit: -1 },
    }), ctx())).not.toThrow();
  });
});

describe('checkCreateV2', () => {
  const plan = (roles: string[]) => ({ original_bdb_shards: roles.map((role, i) => ({ uid: String(i + 1), node_uid: '1', role, assigned_slots: '0-16383' })) });
  it('runs the v1 checks on "bdb" and wants one master per shard in the recovery plan', () => {
    expect(checkCreateV2({ bdb: create(), recovery_plan: plan(['master', 'slave']) } as never, ctx())).toMatchObject({ name: 'db1' });
    rejects(() => checkCreateV2({ bdb: create(), recovery_plan: plan(['master', 'master']) } as never, ctx()), 'invalid_sharding');
    rejects(() => checkCreateV2({ bdb: create({ name: 'taken' }) } as never, ctx()), 'name_violation');
  });
});

describe('checkUpdate', () => {
  it('accepts the page example and returns the merged record', () => {
    const rec = checkUpdate(current(), { replication: true, data_persistence: 'aof' }, ctx());
    expect(rec).toMatchObject({ replication: true, data_persistence: 'aof', name: 'db1' });
  });

  it('read_only_field: create-only fields may only repeat their value', () => {
    for (const patch of [{ port: 12001 }, { uid: 2 }, { version: '7.0' }, { type: 'memcached' }, { replica_read_only: true }, { redis_version: '7.2' }]) {
      const err = rejects(() => checkUpdate(current(), patch as BdbUpdate, ctx()), 'read_only_field');
      expect(err.description).toContain(Object.keys(patch)[0]);
    }
    expect(() => checkUpdate(current(), { port: 0, uid: 1, version: '7.0.15', type: 'redis' }, ctx())).not.toThrow();
    // Read-only fields (refused by the schema too) are refused by name.
    expect(rejects(() => checkUpdate(current(), { status: 'active' } as never, ctx()), 'read_only_field').description).toContain('status');
    rejects(() => checkCreate(create({ shard_list: [1] }), ctx()), 'read_only_field');
  });

  it('name_violation: renames follow the name rules; CRDT databases cannot be renamed', () => {
    rejects(() => checkUpdate(current(), { name: 'taken' }, ctx()), 'name_violation');
    rejects(() => checkUpdate(current(), { name: 'bad name' }, ctx()), 'name_violation');
    rejects(() => checkUpdate(current({ crdt: true, replication: true }), { name: 'db2' }, ctx()), 'name_violation');
    expect(() => checkUpdate(current(), { name: 'db2' }, ctx())).not.toThrow();
    expect(() => checkUpdate(current(), { name: 'db1' }, ctx({ existingNames: ['db1'] }))).not.toThrow();
  });

  it('crdt_sharding_violation', () => {
    rejects(() => checkUpdate(current({ crdt: true, replication: true }), { sharding: true, shard_key_regex: [{ regex: '(?<tag>.*)' }] }, ctx()), 'crdt_sharding_violation');
  });

  it('replication_violation, replication_node_violation, replication_size_violation', () => {
    rejects(() => checkUpdate(current({ crdt: true, replication: true }), { replication: false }, ctx()), 'replication_violation');
    rejects(() => checkUpdate(current(), { replication: true }, ctx({ nodeCount: 1 })), 'replication_node_violation');
    rejects(() => checkUpdate(current({ memory_size: 20 * MiB }), { replication: true }, ctx()), 'replication_size_violation');
    rejects(() => checkUpdate(current({ replication: true }), { memory_size: 20 * MiB }, ctx()), 'replication_size_violation');
  });

  it('memory, persistence, backup, eviction, tags, certificates and oss cluster on update', () => {
    rejects(() => checkUpdate(current(), { memory_size: 100 * GiB }, ctx()), 'insufficient_resources');
    rejects(() => checkUpdate(current(), { memory_size: 1 }, ctx()), 'invalid_memory_size');
    rejects(() => checkUpdate(current(), { data_persistence: 'snapshot' }, ctx()), 'invalid_data_persistence');
    rejects(() => checkUpdate(current({ data_persistence: 'snapshot', snapshot_policy: [{ secs: 1, writes: 1 }] }), { snapshot_policy: [] }, ctx()), 'invalid_data_persistence');
    rejects(() => checkUpdate(current(), { aof_policy: 'appendfsync-always' }, ctx()), 'invalid_data_persistence');
    rejects(() => checkUpdate(current({ backup_interval: 0 }), { backup: true, backup_location: LOC }, ctx()), 'missing_backup_interval');
    expect(() => checkUpdate(current(), { backup: true, backup_location: LOC }, ctx())).not.toThrow(); // default interval 86400
    rejects(() => checkUpdate(current(), { backup: true }, ctx()), 'missing_field');
    expect(() => checkUpdate(current({ backup_location: LOC }), { backup: true }, ctx())).not.toThrow();
    rejects(() => checkUpdate(current(), { backup_interval: 60, backup_interval_offset: 100 }, ctx()), 'invalid_param');
    rejects(() => checkUpdate(current({ backup_interval_offset: 3600 }), { backup_interval: 600 }, ctx()), 'invalid_param');
    expect(() => checkUpdate(current({ backup_interval_offset: 3600 }), { backup_interval: 7200 }, ctx())).not.toThrow();
    rejects(() => checkUpdate(current(), { eviction_policy: 'volatile-lrm' }, ctx()), 'eviction_policy_violation');
    rejects(() => checkUpdate(current(), { tags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }, ctx()), 'invalid_bdb_tags');
    rejects(() => checkUpdate(current(), { authentication_ssl_client_certs: [{ client_cert: certA }, { client_cert: certA }] }, ctx()), 'duplicated_certs');
    rejects(() => checkUpdate(current(), { oss_cluster: true }, ctx()), 'invalid_oss_cluster_configuration');
    rejects(() => checkUpdate(current(), { module_list: [{ module_name: 'bf' }] }, ctx()), 'missing_module');
  });

  it('rack_awareness_violation', () => {
    rejects(() => checkUpdate(current(), { rack_aware: true }, ctx()), 'rack_awareness_violation');
  });

  it('unsupported_option unless the value is the default or the current one', () => {
    rejects(() => checkUpdate(current(), { shards_count: 3, sharding: true, shard_key_regex: [{ regex: '(?<tag>.*)' }] }, ctx()), 'unsupported_option');
    rejects(() => checkUpdate(current(), { proxy_policy: 'all-master-shards' }, ctx()), 'unsupported_option');
    expect(() => checkUpdate(current({ proxy_policy: 'single' }), { proxy_policy: 'single', bigstore: false }, ctx())).not.toThrow();
  });

  it('a PUT of the whole current object changes nothing and passes', () => {
    const cur = current({ name: 'taken', port: 12000 });
    const patch = Object.fromEntries(Object.entries(cur).filter(([k]) => k in BdbUpdate.properties)) as BdbUpdate;
    expect(checkUpdate(cur, patch, ctx())).toEqual(cur);
  });
});

describe('repl_backlog_size', () => {
  it("below Redis's 16 KiB minimum is refused (406 invalid_param); the minimum and 'auto' are taken", () => {
    const cur = bdbDefaults();
    expect(() => checkUpdate(cur, { repl_backlog_size: '1' }, ctx())).toThrow(expect.objectContaining({ error_code: 'invalid_param', status: 406 }));
    expect(() => checkUpdate(cur, { repl_backlog_size: '16383' }, ctx())).toThrow(/16384/);
    expect(checkUpdate(cur, { repl_backlog_size: '16384' }, ctx()).repl_backlog_size).toBe('16384');
    expect(checkUpdate(cur, { repl_backlog_size: 'auto' }, ctx()).repl_backlog_size).toBe('auto');
  });
});

describe('maxclients and the open-files limit', () => {
  it("above what the node's limit allows is refused (406 invalid_param), the default on create too; within it is taken", () => {
    // A hard limit of 4096: redis-server keeps 32 descriptors, openrs 32 connections, so 4032 clients at most.
    const low = ctx({ maxClients: maxClientsWithin(4096) });
    expect(() => checkCreate({ name: 'db', memory_size: 1 << 30 } as BdbCreate, low)).toThrow(expect.objectContaining({ error_code: 'invalid_param', status: 406 }));
    expect(() => checkCreate({ name: 'db', memory_size: 1 << 30, maxclients: 4033 } as BdbCreate, low)).toThrow(/at most 4032 .*ulimit -Hn/);
    expect(checkCreate({ name: 'db', memory_size: 1 << 30, maxclients: 4032 } as BdbCreate, low).maxclients).toBe(4032);
    const cur = { ...bdbDefaults(), maxclients: 100 };
    expect(() => checkUpdate(cur, { maxclients: 5000 }, low)).toThrow(/maxclients 5000/);
    expect(checkUpdate(cur, { maxclients: 4000 }, low).maxclients).toBe(4000);
    // A change of something else does not trip over a value stored before the limit was lowered.
    expect(checkUpdate({ ...bdbDefaults(), maxclients: 10000 }, { eviction_policy: 'allkeys-lru' }, low).eviction_policy).toBe('allkeys-lru');
    // Unchecked without a known limit.
    expect(checkCreate({ name: 'db', memory_size: 1 << 30, maxclients: 1_000_000 } as BdbCreate, ctx()).maxclients).toBe(1_000_000);
  });
});

describe('keepMaskedPasswords', () => {
  it('drops a password sent back masked when one is set; keeps a real one, and the mask where none was set', () => {
    const cur = { authentication_redis_pass: 'secret', authentication_admin_pass: 'admin-secret' };
    expect(keepMaskedPasswords(cur, { authentication_redis_pass: '********', authentication_admin_pass: '********', maxclients: 5 })).toEqual({ maxclients: 5 });
    expect(keepMaskedPasswords(cur, { authentication_redis_pass: 'new-one' })).toEqual({ authentication_redis_pass: 'new-one' });
    expect(keepMaskedPasswords({ authentication_redis_pass: '' }, { authentication_redis_pass: '********' })).toEqual({ authentication_redis_pass: '********' });
  });
});

describe('checkUpdateAction', () => {
  it('not_supported_action_on_crdt', () => {
    rejects(() => checkUpdateAction(current({ crdt: true }), 'reset_admin_pass'), 'not_supported_action_on_crdt');
    expect(() => checkUpdateAction(current({ crdt: true }), 'flush')).not.toThrow();
    expect(() => checkUpdateAction(current(), 'reset_admin_pass')).not.toThrow();
  });
});

const CAPTURE = fileURLToPath(new URL('../../../shared/fixtures/redis-enterprise-rs/bdb_single.json', import.meta.url));
describe.skipIf(!existsSync(CAPTURE))('the captured RS database', () => {
  const bdb = () => JSON.parse(readFileSync(CAPTURE, 'utf8')) as Bdb;
  const rsCtx = () => ctx({ redisVersion: '8.0.2', installedModules: ['search', 'timeseries', 'bf', 'ReJSON'], existingNames: [] });

  it('re-creating it from its settable fields passes', () => {
    const b = bdb();
    const body = Object.fromEntries(Object.entries(b).filter(([k]) => k in BdbUpdate.properties && k !== 'uid')) as BdbCreate;
    expect(() => checkCreate(body, rsCtx())).not.toThrow();
  });

  it('PUTting it back unchanged passes', () => {
    const b = bdb();
    const patch = Object.fromEntries(Object.entries(b).filter(([k]) => k in BdbUpdate.properties)) as BdbUpdate;
    expect(() => checkUpdate(b, patch, rsCtx())).not.toThrow();
  });
});

describe('field classification', () => {
  it('covers every field a request may set', () => {
    const settable = [...BDB_WRITABLE_FIELDS, ...BDB_CREATE_ONLY_FIELDS].sort();
    expect(Object.keys(BDB_FIELD_RULES).sort()).toEqual(settable);
    // Plus what a request carries without it being a field of the database (checked, never stored).
    expect(Object.keys(BdbUpdate.properties).sort()).toEqual([...settable, 'shards_blueprint'].sort());
  });

  it('classifyField and unsupportedFields', () => {
    expect(classifyField('memory_size')).toBe('supported');
    expect(classifyField('bigstore')).toBe('unsupported-unless-default');
    expect(() => classifyField('status' as never)).toThrow(TypeError);
    const u = unsupportedFields();
    for (const f of ['bigstore', 'crdt', 'replica_sources', 'replica_sync', 'oss_sharding', 'shards_count', 'rack_aware', 'proxy_policy', 'tls_mode', 'module_list', 'type']) {
      expect(u.get(f as never), f).toMatch(/\w/);
    }
    expect(u.has('memory_size' as never)).toBe(false);
  });

  it('every unsupported field has a default or an allowed value, so a plain create never trips it', () => {
    const d = bdbDefaults() as Record<string, unknown>;
    const noWay = [...unsupportedFields().keys()].filter((f) => d[f] === undefined && !BDB_FIELD_RULES[f].allowed);
    // No documented or captured default: any value of these is refused.
    expect(noWay.sort()).toEqual(['crdt_featureset_version', 'crdt_protocol_version']);
  });
});
