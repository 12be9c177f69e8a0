/**
 * Checks src/schemas/bdb.ts against the spec pages (parsed at test time) and the real captures:
 * every documented field is in `Bdb`, the capture validates, the documented defaults are the
 * defaults, and the request schemas accept the pages' examples.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  Bdb, BDB_ALWAYS_PRESENT, BDB_CREATE_ONLY_FIELDS, BDB_READ_ONLY_FIELDS, BDB_STATUS_TRANSITIONS, BDB_STATUSES,
  BDB_WRITABLE_FIELDS, BdbCreate, BdbCreateV2, BdbUpdate, bdbCaptureOnly, bdbDefaults, canBdbTransition, moduleDefaults,
  SYNC_TRANSITIONS,
} from '../../src/schemas/bdb.js';

const SPEC = new URL('../../../shared/spec/references/rest-api/', import.meta.url);
const FIXTURES = new URL('../../../shared/fixtures/redis-enterprise-rs/', import.meta.url);
const BDB_MD = fileURLToPath(new URL('objects/bdb/_index.md', SPEC));
const HAVE_SPEC = existsSync(BDB_MD);
const HAVE_FIXTURES = existsSync(fileURLToPath(new URL('bdb_single.json', FIXTURES)));

const spec = (rel: string) => readFileSync(fileURLToPath(new URL(rel, SPEC)), 'utf8');
const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(name, FIXTURES)), 'utf8'));

/** Fields of the page that `Bdb` deliberately lacks, with the reason. */
const OMITTED: Record<string, string> = {};

interface DocRow { name: string; text: string }

/** The rows of a "| Name | Type/Value & Description |" table; link and span markup stripped from names. */
function tableRows(md: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const line of md.split('\n')) {
    if (!line.startsWith('| ') || /^\|\s*(Name|Field|Key name|Status)\s*\|/.test(line) || /^\|\s*-/.test(line)) continue;
    const [, first = '', ...rest] = line.split('|');
    const name = first.replace(/<[^>]+>/g, '').trim().replace(/^\[(\w[\w-]*)\]\(.*\)$/, '$1').trim();
    if (name) rows.push({ name, text: rest.join('|') });
  }
  return rows;
}

/** A documented default: "(default: X)" / "default: `X`", or the only bold quoted value of a Values list. */
function docDefault(text: string): string | undefined {
  const m = /\(default:?(?:&nbsp;|\s)*([^)]*)\)/.exec(text) ?? /default: `([^`]*)`/.exec(text);
  if (m) return m[1]!.trim().replace(/^"(.*)"$/, '$1');
  const bold = [...text.matchAll(/\*\*\s*['‘]([^'’]+)['’]\s*\*\*/g)];
  return bold.length === 1 ? bold[0]![1] : undefined;
}

const SIZE = /^(\d+)(kb|mb|gb)$/i;
/** The doc's default text as a value of the field's schema type. */
function typed(schema: TSchema, text: string): unknown {
  const s = schema as { type?: string; anyOf?: { const?: unknown }[] };
  if (s.type === 'integer' || s.type === 'number') return Number(text);
  if (s.type === 'boolean') return text === 'true';
  if (s.anyOf?.every((b) => typeof b.const === 'number')) return Number(text);
  const size = SIZE.exec(text);
  if (s.type === 'string' && size) return String(Number(size[1]) * 1024 ** { kb: 1, mb: 2, gb: 3 }[size[2]!.toLowerCase() as 'kb']!);
  return text;
}

describe.skipIf(!HAVE_SPEC)('Bdb against objects/bdb/_index.md', () => {
  const rows = HAVE_SPEC ? tableRows(readFileSync(BDB_MD, 'utf8')) : [];

  it('parses the field table', () => {
    expect(rows.length).toBeGreaterThan(150);
  });

  it('has every documented field', () => {
    const missing = rows.map((r) => r.name).filter((n) => !(n in Bdb.properties) && !(n in OMITTED));
    expect(missing).toEqual([]);
  });

  it('has no field that is neither documented nor in the capture', () => {
    const documented = new Set(rows.map((r) => r.name));
    const extra = Object.keys(Bdb.properties).filter((k) => !documented.has(k) && !(k in bdbCaptureOnly));
    expect(extra).toEqual([]);
  });

  it("gives every documented default, converted to the field's type", () => {
    const defaults = bdbDefaults() as Record<string, unknown>;
    const checked: string[] = [];
    for (const { name, text } of rows) {
      const d = docDefault(text);
      if (d === undefined || !(name in Bdb.properties)) continue;
      if (name === 'slave_ha') {
        expect(d).toBe('takes the cluster setting');
        continue;
      }
      if (name === 'gradual_sync_policy_parameters') continue; // prose defaults, checked below
      expect({ name, value: defaults[name] }).toEqual({ name, value: typed(Bdb.properties[name as keyof typeof Bdb.properties], d) });
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThan(60);
  });

  it('gives the defaults the page states in prose', () => {
    const d = bdbDefaults();
    expect(d.eviction_policy).toBe('volatile-lru'); // "Redis DB default: 'volatile-lru'"
    expect(d.bigstore_version).toBe(1); // "1 for Auto Tiering ... Default version"
    expect(d.max_aof_file_size).toBe(300 * 1024 ** 3); // "Default 300GB"
    expect(d.gradual_sync_policy_parameters).toEqual({ src_endpoint_limit: 1, src_node_limit: -1 });
    expect(d.slave_ha).toBe(false);
    expect(bdbDefaults({ slave_ha: true }).slave_ha).toBe(true);
    expect(d.port).toBe(0); // "Generated automatically if omitted and returned as 0"
  });

  it('classifies every documented field as writable, create-only or read-only', () => {
    const groups = new Set<string>([...BDB_WRITABLE_FIELDS, ...BDB_CREATE_ONLY_FIELDS, ...BDB_READ_ONLY_FIELDS]);
    expect(rows.map((r) => r.name).filter((n) => !groups.has(n) && !(n in OMITTED))).toEqual([]);
    const readOnlyOnPage = rows.filter((r) => /\(read-only\)/.test(r.text)).map((r) => r.name);
    expect(readOnlyOnPage.filter((n) => !BDB_READ_ONLY_FIELDS.includes(n as never))).toEqual([]);
  });

  it('lists the status values of the page', () => {
    const row = rows.find((r) => r.name === 'status')!;
    const values = [...row.text.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
    expect([...values].sort()).toEqual([...BDB_STATUSES].sort());
  });
});

describe.skipIf(!HAVE_SPEC)('bdb sub-object pages', () => {
  it('status.md transitions', () => {
    const rows = tableRows(spec('objects/bdb/status.md'));
    for (const { name, text } of rows) {
      const status = name.replace(/'/g, '') as keyof typeof BDB_STATUS_TRANSITIONS;
      const next = [...(text.split('|')[1] ?? '').matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
      expect({ status, next: [...BDB_STATUS_TRANSITIONS[status]].sort() }).toEqual({ status, next: next.sort() });
    }
    expect(rows).toHaveLength(BDB_STATUSES.length);
    expect(canBdbTransition('pending', 'active')).toBe(true);
    expect(canBdbTransition('active', 'pending')).toBe(false);
  });

  it('replica_sync.md transitions', () => {
    for (const { name, text } of tableRows(spec('objects/bdb/replica_sync.md'))) {
      const state = name.replace(/'/g, '') as keyof typeof SYNC_TRANSITIONS;
      const next = [...(text.split('|')[1] ?? '').matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
      expect([...SYNC_TRANSITIONS[state]].sort()).toEqual(next.sort());
    }
  });

  it.each([
    ['search.md', 'search'], ['timeseries.md', 'timeseries'], ['probabilistic.md', 'probabilistic'],
    ['query_performance_factor.md', 'query_performance_factor'],
  ] as const)('%s: every field and default', (page, key) => {
    const schema = Bdb.properties[key] as unknown as { properties: Record<string, TSchema> };
    const defaults = moduleDefaults()[key] as Record<string, unknown>;
    const rows = tableRows(spec(`objects/bdb/${page}`));
    expect(rows.length).toBeGreaterThan(1);
    for (const { name, text } of rows) {
      expect(schema.properties).toHaveProperty([name]);
      const d = docDefault(text.split('|')[0] ?? '');
      if (d !== undefined) expect({ name, value: defaults[name] }).toEqual({ name, value: typed(schema.properties[name]!, d) });
    }
  });

  it('audit_settings.md: every field and default', () => {
    const md = spec('objects/bdb/audit_settings.md');
    const audit = bdbDefaults().audit_settings as Record<string, unknown>;
    const sections: [string, Record<string, unknown>][] = [
      ['## audit_settings object', audit],
      ['## username_filter object', audit.username_filter as Record<string, unknown>],
      ['## source_ip_filter object', audit.source_ip_filter as Record<string, unknown>],
    ];
    for (const [heading, values] of sections) {
      const section = md.split(heading)[1]!.split('\n## ')[0]!;
      for (const { name, text } of tableRows(section)) {
        const d = /default: `([^`]*)`/.exec(text)?.[1] ?? (/default: disabled/.test(text) ? undefined : null);
        if (d === null || d === undefined) continue;
        expect({ name, value: values[name] }).toEqual({ name, value: JSON.parse(d.replace(/'/g, '"')) });
      }
    }
  });

  it('snapshot_policy.md and syncer_sources.md fields', () => {
    const snap = Bdb.properties.snapshot_policy.items as unknown as { properties: object };
    for (const { name } of tableRows(spec('objects/bdb/snapshot_policy.md'))) expect(snap.properties).toHaveProperty([name]);
    const src = Bdb.properties.replica_sources.items as unknown as { properties: object };
    for (const { name } of tableRows(spec('objects/bdb/syncer_sources.md'))) expect(src.properties).toHaveProperty([name]);
  });

  it('backup_location.md and dataset_import_sources.md location types', () => {
    for (const page of ['backup_location.md', 'dataset_import_sources.md']) {
      const types = [...spec(`objects/bdb/${page}`).matchAll(/^\| [^|]+ \| "(\w+)" \|$/gm)].map((m) => m[1]);
      expect(types.sort()).toEqual(['abs', 'gs', 'mount_point', 's3', 'sftp', 'url']);
    }
    expect(Value.Check(BdbUpdate, { backup_location: { type: 'mount_point', path: '/backups' } })).toBe(true);
    expect(Value.Check(BdbUpdate, { backup_location: { type: 's3', bucket_name: 'b', access_key_id: 'a', secret_access_key: 's' } })).toBe(true);
    expect(Value.Check(BdbUpdate, { backup_location: { type: 'mount_point' } })).toBe(false);
    expect(Value.Check(BdbUpdate, { dataset_import_sources: [{ type: 'gs', bucket_name: 'b', client_email: 'e', client_id: 'i', private_key: 'k', private_key_id: 'p', filename: 'x.rdb' }] })).toBe(true);
  });
});

function expectValid(schema: TSchema, value: unknown): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);
  if (errors.length) console.error(errors.join('\n'));
  expect(errors).toEqual([]);
}

describe.skipIf(!HAVE_FIXTURES)('Bdb against the captures', () => {
  it('bdb_single.json validates', () => {
    expectValid(Bdb, fixture('bdb_single.json'));
  });

  it('bdbs_list.json entries validate', () => {
    for (const b of fixture('bdbs_list.json') as unknown[]) expectValid(Bdb, b);
  });

  it('the always-present fields are exactly the capture fields', () => {
    expect(Object.keys(fixture('bdb_single.json') as object).sort()).toEqual([...BDB_ALWAYS_PRESENT].sort());
  });

  it('the defaults equal the capture wherever the creator did not set the field', () => {
    const capture = fixture('bdb_single.json') as Record<string, unknown>;
    const d = bdbDefaults() as Record<string, unknown>;
    // The capture was created with a memory_size; RS 8 attaches its bundled modules itself.
    const differ = Object.keys(d).filter((k) => k in capture && !Value.Equal(d[k], capture[k]));
    expect(differ.sort()).toEqual(['memory_size', 'module_list']);
  });
});

describe('Bdb records and request bodies', () => {
  const record = () => ({
    ...bdbDefaults(),
    uid: 1, name: 'db1', memory_size: 1073741824, status: 'active', created_time: '2025-10-14T00:01:22Z',
    last_changed_time: '2025-10-14T00:01:22Z', authentication_admin_pass: 'x', version: '7.0.15', redis_version: '7.0',
    shard_list: [1],
    endpoints: [{
      uid: '1:1', addr: ['10.0.0.1'], addr_type: 'external', dns_name: 'redis-12000.c.local', port: 12000,
      proxy_policy: 'single', oss_cluster_api_preferred_endpoint_type: 'ip', oss_cluster_api_preferred_ip_type: 'internal',
    }],
  });

  it('defaults plus the computed fields make a complete Bdb', () => {
    expectValid(Bdb, record());
    expectValid(Type.Partial(Bdb), bdbDefaults());
  });

  it('a Bdb without an always-present field is invalid', () => {
    const { status: _s, ...rest } = record();
    expect(Value.Check(Bdb, rest)).toBe(false);
    expect(Value.Check(Bdb, { ...record(), surprise: 1 })).toBe(false);
  });

  it('BdbCreate: the page example; no read-only or unknown fields (name is checked by bdb-rules: 406 missing_db_name)', () => {
    expectValid(BdbCreate, { name: 'test-database', type: 'redis', memory_size: 1073741824 });
    expect(Value.Check(BdbCreate, { name: 'a', status: 'active' })).toBe(false);
    expect(Value.Check(BdbCreate, { name: 'a', bogus: true })).toBe(false);
    expect(Value.Check(BdbCreate, { name: 'a', eviction_policy: 'lru' })).toBe(false);
    expect(Value.Check(BdbCreate, { name: 'a', shards_count: 513 })).toBe(false);
    expectValid(BdbCreate, { name: 'a', uid: 7, port: 12000, version: '7.0', replica_read_only: false });
  });

  it('BdbUpdate: the page example; all optional; no read-only or unknown fields', () => {
    expectValid(BdbUpdate, { replication: true, data_persistence: 'aof' });
    expectValid(BdbUpdate, {});
    expect(Value.Check(BdbUpdate, { endpoints: [] })).toBe(false);
    expect(Value.Check(BdbUpdate, { shard_list: [1] })).toBe(false);
    expect(Value.Check(BdbUpdate, { nope: 1 })).toBe(false);
  });

  it('BdbCreateV2: the page example', () => {
    expectValid(BdbCreateV2, {
      bdb: { name: 'test-database', type: 'redis', memory_size: 1073741824, shards_count: 1 },
      recovery_plan: { original_bdb_shards: [{ assigned_slots: '0-16383', node_uid: '1', role: 'master', uid: '1' }] },
    });
    expect(Value.Check(BdbCreateV2, { name: 'flat' })).toBe(false);
  });

  it('module_list accepts the capture form and the documented form', () => {
    expectValid(BdbUpdate, { module_list: [{ module_name: 'search', module_args: '' }] });
    expectValid(BdbUpdate, { module_list: [{ module_id: 'x', module_args: ['a', null], semantic_version: '1.0.0' }] });
  });

  it('tags, subjects and gradual sync limits follow their patterns', () => {
    expect(Value.Check(BdbUpdate, { tags: [{ key: 'a<b', value: 'x' }] })).toBe(false);
    expect(Value.Check(BdbUpdate, { authorized_subjects: [{ CN: 'x', C: 'USA' }] })).toBe(false);
    expect(Value.Check(BdbUpdate, { gradual_sync_policy_parameters: { dst_shard_limit: 0 } })).toBe(false);
    expectValid(BdbUpdate, { gradual_sync_policy_parameters: { dst_shard_limit: -1, src_node_limit: 4 } });
  });
});
