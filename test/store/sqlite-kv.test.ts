import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteKv } from '../../src/store/sqlite/sqlite-kv.js';
import { openStore } from '../../src/store/open-store.js';
import type { WatchEvent } from '../../src/store/kv.js';
import { waitFor } from '../helpers/wait-for.js';
import { runKvContract } from './kv-contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-kv-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

runKvContract('sqlite file', () => new SqliteKv(path.join(dir, `kv-${n++}.db`)));
runKvContract('sqlite :memory:', () => new SqliteKv(':memory:'));

describe('sqlite backend specifics', () => {
  it('keeps data across close and reopen of the same file', async () => {
    const file = path.join(dir, 'persist.db');
    const a = new SqliteKv(file);
    const rev = await a.put('/cluster', { name: 'x' });
    await a.close();
    const b = new SqliteKv(file);
    expect(await b.get('/cluster')).toMatchObject({ value: { name: 'x' }, modRevision: rev });
    expect(await b.revision()).toBe(rev);
    await b.close();
  });

  it('keeps the store file owner-only (it holds password hashes and private keys)', async () => {
    const file = path.join(dir, 'private.db');
    const kv = new SqliteKv(file);
    await kv.put('/secret', 'x');
    for (const f of [file, `${file}-wal`]) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    await kv.close();
  });

  it('a watcher sees writes made by another handle on the same file (poll path)', async () => {
    const file = path.join(dir, 'shared.db');
    const reader = new SqliteKv(file);
    const writer = new SqliteKv(file);
    const got: WatchEvent[] = [];
    const stop = reader.watch('/x/', 0, (e) => got.push(...e));
    await writer.put('/x/1', 'from-writer');
    await waitFor(() => got.length === 1, { what: 'cross-handle watch event', timeoutMs: 5000 });
    expect(got[0]).toMatchObject({ type: 'put', key: '/x/1', value: 'from-writer' });
    stop();
    await writer.close();
    await reader.close();
  });

  it('a watcher behind the compacted log resynchronizes from live state', async () => {
    const kv = new SqliteKv(':memory:');
    for (let i = 0; i < 11_000; i++) await kv.put('/bulk/k', i);
    const got: WatchEvent[] = [];
    const stop = kv.watch('/bulk/', 1, (e) => got.push(...e));
    await waitFor(() => got.length > 0, { what: 'resync events' });
    expect(got).toEqual([{ type: 'put', key: '/bulk/k', value: 10_999, revision: 11_000 }]);
    stop();
    await kv.close();
  });

  it('openStore picks the backend by URL and rejects unknown schemes', async () => {
    const kv = openStore('sqlite://:memory:');
    expect(kv).toBeInstanceOf(SqliteKv);
    await kv.close();
    expect(() => openStore('etcd://localhost:2379')).toThrow(/unsupported store scheme/);
    expect(() => openStore('nonsense')).toThrow(/invalid store URL/);
  });
});
