/** src/schemas/shard.ts against objects/shard/*.md and the capture shards_list.json. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { Shard, SHARD_DETAILED_STATUSES, SHARD_ROLE_TRANSITIONS, SHARD_STATUSES } from '../../src/schemas/shard.js';

const SHARD_DIR = new URL('../../../shared/spec/references/rest-api/objects/shard/', import.meta.url);
const CAPTURE = fileURLToPath(new URL('../../../shared/fixtures/redis-enterprise-rs/shards_list.json', import.meta.url));
const HAVE_SPEC = existsSync(fileURLToPath(SHARD_DIR));

/** name → Type/Value cell of a "| Name | Type/Value | Description |" table. */
function rows(page: string): Map<string, string> {
  const md = readFileSync(fileURLToPath(new URL(page, SHARD_DIR)), 'utf8');
  const out = new Map<string, string>();
  for (const line of md.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || cells[1] === 'Name' || /^-+$/.test(cells[1]!) || !cells[1]) continue;
    out.set(cells[1]!, cells[2]!);
  }
  return out;
}
const quoted = (cell: string) => [...cell.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();

describe.skipIf(!HAVE_SPEC)('Shard against objects/shard', () => {
  it('has every documented field and enum', () => {
    const doc = rows('_index.md');
    expect([...doc.keys()].filter((k) => !(k in Shard.properties))).toEqual([]);
    expect(Object.keys(Shard.properties).filter((k) => !doc.has(k))).toEqual([]);
    expect(quoted(doc.get('detailed_status')!)).toEqual([...SHARD_DETAILED_STATUSES].sort());
    expect(quoted(doc.get('status')!)).toEqual([...SHARD_STATUSES].sort());
    expect(quoted(doc.get('role')!)).toEqual(Object.keys(SHARD_ROLE_TRANSITIONS).sort());
  });

  it.each(['backup', 'loading', 'sync'] as const)('%s sub-object', (name) => {
    const doc = rows(`${name}.md`);
    const schema = Shard.properties[name] as unknown as { properties: Record<string, unknown> };
    expect([...doc.keys()].sort()).toEqual(Object.keys(schema.properties).sort());
  });
});

describe.skipIf(!existsSync(CAPTURE))('Shard against shards_list.json', () => {
  it('every captured shard validates', () => {
    const shards = JSON.parse(readFileSync(CAPTURE, 'utf8')) as unknown[];
    expect(shards.length).toBeGreaterThan(0);
    for (const s of shards) {
      const errors = [...Value.Errors(Shard, s)].map((e) => `${e.path}: ${e.message}`);
      if (errors.length) console.error(errors.join('\n'));
      expect(errors).toEqual([]);
    }
  });
});

describe('Shard shape', () => {
  const shard = {
    uid: '1', assigned_slots: '0-16383', bdb_uid: 1, detailed_status: 'ok', loading: { status: 'idle' }, node_uid: '1',
    redis_info: { used_memory: 1 }, report_timestamp: '2025-10-14T00:07:15Z', role: 'master', status: 'active',
  };
  it('accepts the optional sub-objects and refuses unknown values', () => {
    expect(Value.Check(Shard, { ...shard, backup: { status: 'exporting', progress: 10 }, sync: { status: 'idle', progress: 0 } })).toBe(true);
    expect(Value.Check(Shard, { ...shard, role: 'primary' })).toBe(false);
    expect(Value.Check(Shard, { ...shard, uid: 1 })).toBe(false);
  });
  it('roles swap only by failover or promotion', () => {
    expect(SHARD_ROLE_TRANSITIONS).toEqual({ master: ['slave'], slave: ['master'] });
  });
});
