/**
 * Export, import and their status fields (requests/bdbs/actions/export.md, import.md,
 * *_reset_status.md) on a real node: files are checked by loading them into a separate
 * redis-server, imports by reading the keys back through the database endpoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createBdb, pidOf, shardsOf } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { connected, loadRdb, waitAction, waitField } from './backup-helpers.js';

let t: TestNode;
let loc: string;
const BIN_KEY = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]);

beforeAll(async () => {
  t = await startTestNode();
  loc = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-exports-'));
});
afterAll(async () => {
  await t?.close();
  if (loc) fs.rmSync(loc, { recursive: true, force: true });
});

async function seed(c: Redis, n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await c.set(`k:${i}`, `v${i}`);
  await c.hset('h', { a: '1', b: '2' });
  await c.set('ttl', 'soon', 'PX', 600_000);
  await c.set(BIN_KEY, 'binary');
}

async function expectSeeded(c: Redis, n = 50): Promise<void> {
  expect(await c.dbsize()).toBe(n + 3);
  expect(await c.get('k:0')).toBe('v0');
  expect(await c.get(`k:${n - 1}`)).toBe(`v${n - 1}`);
  expect(await c.hgetall('h')).toEqual({ a: '1', b: '2' });
  const ttl = await c.pttl('ttl');
  expect(ttl).toBeGreaterThan(500_000);
  expect(ttl).toBeLessThanOrEqual(600_000);
  expect(await c.get(BIN_KEY)).toBe('binary');
}

async function exportTo(uid: number, dir: string): Promise<{ status: number; json: any }> {
  return t.req('POST', `/v1/bdbs/${uid}/actions/export`, { body: { export_location: { type: 'mount_point', path: dir } } });
}

describe('export', () => {
  it('writes one gzipped RDB per master shard that a fresh redis-server loads, and reports status', async () => {
    const bdb = await createBdb(t, { name: 'db-export' });
    const c = await connected(bdb.endpoints[0].port);
    await seed(c);
    c.disconnect();
    expect(bdb.export_status).toBe('');

    const dir = fs.mkdtempSync(path.join(loc, 'exp-'));
    const r = await exportTo(bdb.uid, dir);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(typeof r.json.action_uid).toBe('string');
    const done = await waitField(t, bdb.uid, 'export_status', ['succeeded', 'failed']);
    expect(done).toMatchObject({ export_status: 'succeeded', export_progress: 100, export_failure_reason: '', status: 'active' });
    expect(done.last_export_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await waitAction(t, r.json.action_uid)).toMatchObject({
      name: 'SMExportBDB', object_name: `bdb:${bdb.uid}`, status: 'completed', progress: 100, action_type: 'other',
    });
    // requests/actions: GET /v1/actions "does not return any information about other actions, such as
    // import, export, and backup"; /v2/actions does.
    const v1 = await t.req('GET', `/v1/actions/${r.json.action_uid}`);
    expect([v1.status, v1.json.error_code]).toEqual([404, 'action_not_exist']);
    expect(((await t.req('GET', '/v1/actions')).json['state-machines'] as any[]).some((a) => a.action_uid === r.json.action_uid)).toBe(false);
    const forBdb = (await t.req('GET', `/v1/actions/bdb/${bdb.uid}`)).json as any[];
    expect(forBdb.map((a) => a.name)).toEqual(['SMCreateBDB']);

    const files = fs.readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^export_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ_db-export_db${bdb.uid}_1-of-1\\.rdb\\.gz$`));
    const loaded = await loadRdb(path.join(dir, files[0]!));
    try {
      await expectSeeded(loaded.redis);
    } finally {
      loaded.stop();
    }

    // export_reset_status: back to idle ('' as in the capture) and no reason.
    const reset = await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/export_reset_status`);
    expect(reset.status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ export_status: '', export_progress: 0, export_failure_reason: '' });
  });

  it('bad locations: the export fails with the documented reason and the data stays; other location types are refused', async () => {
    const bdb = await createBdb(t, { name: 'db-export-bad' });
    const c = await connected(bdb.endpoints[0].port);
    await seed(c, 5);

    const aFile = path.join(loc, 'not-a-dir.txt');
    fs.writeFileSync(aFile, 'x');
    // Root may write anywhere a mode allows; /sys refuses even root.
    const unwritable = process.getuid?.() === 0 ? '/sys' : (() => { const d = fs.mkdtempSync(path.join(loc, 'ro-')); fs.chmodSync(d, 0o555); return d; })();
    const cases: [string, string][] = [
      [path.join(loc, 'does-not-exist'), 'wrong-file-path'],
      [aFile, 'wrong-file-path'],
      ['relative/path', 'wrong-file-path'],
      [unwritable, 'no-permission'],
    ];
    for (const [where, reason] of cases) {
      const r = await exportTo(bdb.uid, where);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const done = await waitField(t, bdb.uid, 'export_status', ['succeeded', 'failed']);
      expect({ where, status: done.export_status, reason: done.export_failure_reason }).toEqual({ where, status: 'failed', reason });
      expect(await waitAction(t, r.json.action_uid)).toMatchObject({ status: 'failed', error_code: reason });
      expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/export_reset_status`)).status).toBe(200);
    }
    await expectSeeded(c, 5);
    c.disconnect();

    const refused: [unknown, number, string][] = [
      [{ type: 's3', bucket_name: 'b', access_key_id: 'a', secret_access_key: 's' }, 400, 'unsupported_option'],
      [{ type: 'url', url: 'ftp://user:pw@example.com/backups/' }, 400, 'unsupported_option'],
      [{ type: 'sftp', sftp_url: 'sftp://user@example.com/backups/' }, 400, 'unsupported_option'],
      [{ type: 'gs', bucket_name: 'b', client_id: 'i', client_email: 'e', private_key: 'k', private_key_id: 'p' }, 400, 'unsupported_option'],
      [{ type: 'abs', account_name: 'n', container: 'c', account_key: 'k' }, 400, 'unsupported_option'],
      [{ type: 'nfs', path: '/mnt' }, 400, 'invalid_schema'],
      [{ type: 'mount_point' }, 400, 'invalid_schema'],
    ];
    for (const [location, status, code] of refused) {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/export`, { body: { export_location: location } });
      expect({ location, status: r.status, code: r.json?.error_code }).toEqual({ location, status, code });
    }
    // The schema error names what is wrong, not the first union branch's field ('url').
    const why = async (p: string, body: unknown, method = 'POST') => {
      const r = await t.req(method, p, { body });
      expect([r.status, r.json?.error_code], r.text).toEqual([400, 'invalid_schema']);
      return r.json.description as string;
    };
    const exp = `/v1/bdbs/${bdb.uid}/actions/export`;
    expect(await why(exp, { export_location: { type: 'mount_point' } })).toBe(`body.export_location: must have required property 'path' (type "mount_point")`);
    expect(await why(exp, { export_location: { type: 'nfs', path: '/mnt' } }))
      .toBe('body.export_location.type: unknown type "nfs"; must be one of "url", "sftp", "s3", "gs", "abs", "mount_point"');
    expect(await why(exp, { export_location: { path: '/mnt' } })).toMatch(/^body.export_location: must have required property 'type' \(one of "url", .*"mount_point"\)$/);
    expect(await why(exp, { export_location: { type: 'mount_point', path: 1 } })).toBe('body.export_location.path: must be string (type "mount_point")');
    expect(await why(exp, { export_location: { type: 's3', bucket_name: 'b' } })).toBe(`body.export_location: must have required property 'access_key_id' (type "s3")`);
    expect(await why(exp, { export_location: 'x' })).toBe('body.export_location: must be object');
    expect(await why(`/v1/bdbs/${bdb.uid}/actions/import`, { dataset_import_sources: [{ type: 'mount_point', path: '/a.rdb' }, { type: 'mount_point' }] }))
      .toBe(`body.dataset_import_sources.1: must have required property 'path' (type "mount_point")`);
    expect(await why(`/v1/bdbs/${bdb.uid}`, { backup_location: { type: 'ftp' } }, 'PUT')).toMatch(/^body.backup_location.type: unknown type "ftp"; must be one of /);

    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/export`, { body: {} })).status).toBe(400);
    expect((await exportTo(99999, loc)).status).toBe(404);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.export_status).toBe('');
  });
});

describe('import', () => {
  it('export → FLUSHALL → import brings the keys back (gzipped and plain RDB), with import status', async () => {
    const bdb = await createBdb(t, { name: 'db-import', data_persistence: 'aof' });
    const c = await connected(bdb.endpoints[0].port);
    await seed(c);
    const dir = fs.mkdtempSync(path.join(loc, 'imp-'));
    expect((await exportTo(bdb.uid, dir)).status).toBe(200);
    await waitField(t, bdb.uid, 'export_status', ['succeeded']);
    const gz = path.join(dir, fs.readdirSync(dir)[0]!);

    await c.flushall();
    await c.set('extra', 'gone after import');
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: gz }] } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const done = await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed']);
    expect(done).toMatchObject({ import_status: 'succeeded', import_progress: 100, import_failure_reason: '' });
    expect(await waitAction(t, r.json.action_uid)).toMatchObject({ name: 'SMImportBDB', status: 'completed' });
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.status).toBe('active');
    await expectSeeded(c);
    expect(await c.exists('extra')).toBe(0);

    // A plain (gunzipped) RDB imports too; the AOF has the imported data (a restart would keep it).
    const plain = path.join(dir, 'plain.rdb');
    fs.writeFileSync(plain, zlib.gunzipSync(fs.readFileSync(gz)));
    await c.flushall();
    const r2 = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: plain }] } });
    expect(r2.status).toBe(200);
    await waitField(t, bdb.uid, 'import_status', ['succeeded']);
    await expectSeeded(c);
    // Sources set on the database: write-only (read back as an empty list, as real clusters answer), and
    // used by an import that names none.
    const put = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { dataset_import_sources: [{ type: 'mount_point', path: plain }] } });
    expect(put.status, put.text).toBe(200);
    await waitField(t, bdb.uid, 'status', ['active']);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.dataset_import_sources).toEqual([]);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}?fields=dataset_import_sources`)).json).toEqual({ dataset_import_sources: [] });
    await c.flushall();
    const r3 = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`);
    expect(r3.status, r3.text).toBe(200);
    await waitField(t, bdb.uid, 'import_status', ['succeeded']);
    await expectSeeded(c);
    c.disconnect();

    // The import went through the AOF: a shard killed now restarts with the imported keys.
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => { const p = pidOf(shard!.dir); return p !== undefined && p !== pid; }, { what: 'shard restarted' });
    await waitFor(async () => {
      const again = await connected(bdb.endpoints[0].port);
      try {
        await expectSeeded(again);
        return true;
      } finally {
        again.disconnect();
      }
    }, { what: 'imported keys after the restart' });

    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/import_reset_status`)).status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ import_status: 'idle', import_progress: 0, import_failure_reason: '' });
  });

  it('into a replicated database: the replica gets the imported keys too', async () => {
    const src = await createBdb(t, { name: 'db-import-src' });
    const c = await connected(src.endpoints[0].port);
    await seed(c);
    c.disconnect();
    const dir = fs.mkdtempSync(path.join(loc, 'repl-'));
    expect((await exportTo(src.uid, dir)).status).toBe(200);
    await waitField(t, src.uid, 'export_status', ['succeeded']);

    const bdb = await createBdb(t, { name: 'db-import-repl', replication: true });
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: path.join(dir, fs.readdirSync(dir)[0]!) }] } });
    expect(r.status).toBe(200);
    expect((await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed'])).import_status).toBe('succeeded');
    const replica = (await shardsOf(t, bdb.uid)).find((s) => s.role === 'slave')!;
    await waitFor(async () => {
      const rc = await connected(replica.port);
      try {
        await expectSeeded(rc);
        return true;
      } finally {
        rc.disconnect();
      }
    }, { what: 'keys on the replica' });
  });

  it('a missing, garbage or damaged file fails with its reason and leaves the data intact', async () => {
    const bdb = await createBdb(t, { name: 'db-import-bad' });
    const c = await connected(bdb.endpoints[0].port);
    await seed(c, 5);
    const garbage = path.join(loc, 'garbage.rdb');
    fs.writeFileSync(garbage, 'this is not an rdb file at all\n');
    const badGzip = path.join(loc, 'bad.rdb.gz');
    fs.writeFileSync(badGzip, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('truncated gzip')]));
    const damaged = path.join(loc, 'damaged.rdb');
    fs.writeFileSync(damaged, Buffer.concat([Buffer.from('REDIS0009\xfa\x09redis-ver\x067.0.15', 'latin1'), Buffer.from('garbage-after-the-header')]));
    const cases: [string, string][] = [
      [path.join(loc, 'no-such-file.rdb'), 'download-error'],
      [loc, 'download-error'],
      [garbage, 'file-corrupted'],
      [badGzip, 'file-corrupted'],
      [damaged, 'file-corrupted'],
    ];
    for (const [file, reason] of cases) {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: file }] } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const done = await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed']);
      expect({ file, status: done.import_status, reason: done.import_failure_reason, bdb: done.status }).toEqual({ file, status: 'failed', reason, bdb: 'active' });
      expect(await waitAction(t, r.json.action_uid)).toMatchObject({ status: 'failed', error_code: reason });
      await expectSeeded(c, 5);
    }
    c.disconnect();

    const refused: [unknown, number, string][] = [
      [{ dataset_import_sources: [{ type: 'url', url: 'ftp://example.com/x.rdb' }] }, 400, 'unsupported_option'],
      [{ dataset_import_sources: [{ type: 's3', bucket_name: 'b', access_key_id: 'a', secret_access_key: 's', filename: 'x.rdb' }] }, 400, 'unsupported_option'],
      [{ dataset_import_sources: [] }, 400, 'missing_field'],
      [{}, 400, 'missing_field'],
      [{ dataset_import_sources: [{ type: 'mount_point', path: garbage }], name: 'other' }, 400, 'invalid_schema'],
    ];
    for (const [body, status, code] of refused) {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body });
      expect({ body, status: r.status, code: r.json?.error_code }).toEqual({ body, status, code });
    }
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`)).json?.error_code).toBe('missing_field');
  });

  it('no location inside the node\'s own storage: an import from there (another database\'s files) or an export into it fails', async () => {
    const bdb = await createBdb(t, { name: 'db-private' });
    const c = await connected(bdb.endpoints[0].port);
    await seed(c, 5);
    const out = fs.mkdtempSync(path.join(loc, 'priv-'));
    const r0 = await exportTo(bdb.uid, out);
    expect(r0.status).toBe(200);
    expect((await waitField(t, bdb.uid, 'export_status', ['succeeded', 'failed'])).export_status).toBe('succeeded');
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/export_reset_status`)).status).toBe(200);
    const rdb = path.join(out, fs.readdirSync(out)[0]!);
    // A valid RDB placed among the shards' files, and a link from outside to it: both refused.
    const inside = path.join(t.dataDir, 'persist', 'copied.rdb.gz');
    fs.copyFileSync(rdb, inside);
    const link = path.join(out, 'link.rdb.gz');
    fs.symlinkSync(inside, link);
    await c.flushall();
    for (const file of [inside, link]) {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: file }] } });
      expect(r.status).toBe(200);
      const done = await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed']);
      expect({ file, status: done.import_status, reason: done.import_failure_reason }).toEqual({ file, status: 'failed', reason: 'download-error' });
      expect(await waitAction(t, r.json.action_uid)).toMatchObject({ status: 'failed', error: expect.stringContaining("node's own storage") });
      expect(await c.dbsize()).toBe(0);
    }
    const dirLink = path.join(loc, 'into-data');
    fs.symlinkSync(path.join(t.dataDir, 'logs'), dirLink);
    for (const where of [t.dataDir, path.join(t.dataDir, 'persist'), dirLink]) {
      const r = await exportTo(bdb.uid, where);
      expect(r.status).toBe(200);
      const done = await waitField(t, bdb.uid, 'export_status', ['succeeded', 'failed']);
      expect({ where, status: done.export_status, reason: done.export_failure_reason }).toEqual({ where, status: 'failed', reason: 'no-permission' });
      expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/export_reset_status`)).status).toBe(200);
    }
    expect(fs.readdirSync(t.dataDir).filter((f) => f.startsWith('export_'))).toEqual([]);
    // The same file outside the node's storage imports.
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: rdb }] } });
    expect(r.status).toBe(200);
    expect((await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed'])).import_status).toBe('succeeded');
    await expectSeeded(c, 5);
    c.disconnect();
  });

  it('a dataset larger than memory_size fails with file-larger-than-mem-limit and keeps the data', async () => {
    const big = await createBdb(t, { name: 'db-import-big' });
    const c = await connected(big.endpoints[0].port);
    const mb = 'x'.repeat(1024 * 1024);
    const p = c.pipeline();
    for (let i = 0; i < 24; i++) p.set(`big:${i}`, mb);
    await p.exec();
    c.disconnect();
    const dir = fs.mkdtempSync(path.join(loc, 'big-'));
    expect((await exportTo(big.uid, dir)).status).toBe(200);
    await waitField(t, big.uid, 'export_status', ['succeeded']);

    const small = await createBdb(t, { name: 'db-import-small', memory_size: 16 * 1024 * 1024 });
    const s = await connected(small.endpoints[0].port);
    await s.set('mine', 'kept');
    const r = await t.req('POST', `/v1/bdbs/${small.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: path.join(dir, fs.readdirSync(dir)[0]!) }] } });
    expect(r.status).toBe(200);
    const done = await waitField(t, small.uid, 'import_status', ['succeeded', 'failed']);
    expect(done.import_failure_reason).toMatch(/^file-larger-than-mem-limit:\d+:16777216$/);
    expect(await s.get('mine')).toBe('kept');
    s.disconnect();
  });
});

describe('permissions and conflicts', () => {
  it('db_viewer may view the recovery plan but not start exports or imports; a second operation is 409', async () => {
    const bdb = await createBdb(t, { name: 'db-perm' });
    const email = 'viewer@test.local';
    const pass = 'viewer-pass-123456';
    expect((await t.req('POST', '/v1/users', { body: { email, password: pass, role: 'db_viewer', name: 'viewer' } })).status).toBe(200);
    const auth = { user: email, pass };
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/export`, { auth, body: { export_location: { type: 'mount_point', path: loc } } })).status).toBe(403);
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { auth, body: {} })).status).toBe(403);
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/export_reset_status`, { auth })).status).toBe(403);
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/recover`, { auth })).status).toBe(403);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}/actions/recover`, { auth })).status).toBe(200);

    // While an export runs, another export, an import, an update and export_reset_status are refused.
    const c = await connected(bdb.endpoints[0].port);
    const p = c.pipeline();
    for (let i = 0; i < 2000; i++) p.set(`n:${i}`, 'x'.repeat(1000));
    await p.exec();
    c.disconnect();
    const first = await exportTo(bdb.uid, loc);
    expect(first.status).toBe(200);
    const second = await exportTo(bdb.uid, loc);
    const cur = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json;
    if (cur.export_status === 'exporting') {
      expect([second.status, second.json?.error_code]).toEqual([409, 'busy']);
    }
    await waitAction(t, first.json.action_uid);
    if (second.status === 200) await waitAction(t, second.json.action_uid);
  });
});

describe('scheduled backups', () => {
  it('backup + backup_interval write timestamped backups into the location, prune by backup_history and report status', async () => {
    const dir = fs.mkdtempSync(path.join(loc, 'sched-'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a backup of this database');
    const bdb = await createBdb(t, {
      name: 'db-sched', backup: true, backup_interval: 1, backup_history: 1, backup_location: { type: 'mount_point', path: dir },
    });
    const old = `backup_2000-01-01T00-00-00Z_db-sched_db${bdb.uid}_1-of-1.rdb.gz`;
    fs.writeFileSync(path.join(dir, old), 'an old backup');
    // One written by a release before the uid was in the names (an upgraded node): pruned as well (QA).
    const legacy = 'backup_2000-01-01T00-00-00Z_db-sched_1-of-1.rdb.gz';
    fs.writeFileSync(path.join(dir, legacy), 'an old backup of an earlier release');
    const c = await connected(bdb.endpoints[0].port);
    await seed(c);
    c.disconnect();
    const seededAt = Date.now();

    const ours = () => fs.readdirSync(dir).filter((n) => new RegExp(`^backup_.*_db-sched_db${bdb.uid}_1-of-1\\.rdb\\.gz$`).test(n) && n !== old).sort();
    const stampOf = (n: string) => Date.parse(n.split('_')[1]!.replace(/T(\d\d)-(\d\d)-(\d\d)Z/, 'T$1:$2:$3Z'));
    await waitFor(() => ours().filter((n) => stampOf(n) >= seededAt).length >= 2, { timeoutMs: 15_000, what: 'two scheduled backups after seeding' });
    expect(new Set(ours()).size).toBe(ours().length);
    expect(fs.existsSync(path.join(dir, old))).toBe(false); // older than backup_history (1 day)
    expect(fs.existsSync(path.join(dir, legacy))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'notes.txt'))).toBe(true);

    const cur = await waitField(t, bdb.uid, 'backup_status', ['succeeded']);
    expect(cur).toMatchObject({ backup_failure_reason: '', backup_progress: 100 });
    expect(cur.last_backup_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Backups are v2's "other" actions (GET /v1/actions leaves them out).
    const actions = ((await t.req('GET', '/v2/actions')).json as { name: string; status: string; object_name: string }[])
      .filter((a) => a.object_name === `bdb:${bdb.uid}`);
    expect(actions.some((a) => a.name === 'SMBackupBDB' && a.status === 'completed')).toBe(true);
    expect(((await t.req('GET', `/v1/actions/bdb/${bdb.uid}`)).json as { name: string }[]).some((a) => a.name === 'SMBackupBDB')).toBe(false);

    const newest = ours().filter((n) => stampOf(n) >= seededAt).pop()!;
    const loaded = await loadRdb(path.join(dir, newest));
    try {
      await expectSeeded(loaded.redis);
    } finally {
      loaded.stop();
    }

    // Turning backups off stops them (a PUT may meet a running backup: 409, retried).
    await waitFor(async () => (await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { backup: false } })).status === 200, { what: 'backup off' });
    await waitField(t, bdb.uid, 'status', ['active']);
    await waitField(t, bdb.uid, 'backup_status', ['succeeded', 'failed']);
    const count = ours().length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(ours().length).toBe(count);
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/actions/backup_reset_status`)).status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ backup_status: '', backup_failure_reason: '' });
  });

  it('a schedule that could never run is refused (406): backup without backup_location, offset not below the interval', async () => {
    const bdb = await createBdb(t, { name: 'db-sched-invalid' });
    const noLocation = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { backup: true } });
    expect([noLocation.status, noLocation.json.error_code], noLocation.text).toEqual([406, 'missing_field']);
    expect(noLocation.json.description).toMatch(/backup_location/);
    const offset = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { backup_interval: 60, backup_interval_offset: 100 } });
    expect([offset.status, offset.json.error_code], offset.text).toEqual([406, 'invalid_param']);
    expect(offset.json.description).toMatch(/backup_interval_offset/);
    const created = await t.req('POST', '/v1/bdbs', { body: { name: 'db-sched-invalid-2', memory_size: 100 * 1024 * 1024, backup: true } });
    expect([created.status, created.json.error_code], created.text).toEqual([406, 'missing_field']);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json).toMatchObject({ backup: false, backup_interval: 86400 });
    // Valid settings still pass.
    const ok = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { backup_interval: 3600, backup_interval_offset: 600 } });
    expect(ok.status, ok.text).toBe(200);
  });

  it('a backup location that cannot be written makes backup_status failed with the reason', async () => {
    const bdb = await createBdb(t, {
      name: 'db-sched-bad', backup: true, backup_interval: 1, backup_location: { type: 'mount_point', path: path.join(loc, 'missing-dir') },
    });
    const cur = await waitField(t, bdb.uid, 'backup_status', ['failed'], 15_000);
    expect(cur.backup_failure_reason).toBe('wrong-file-path');
    await waitFor(async () => (await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { backup: false } })).status === 200, { what: 'backup off' });
  });
});

describe('import and failover', () => {
  it('the master killed during the copy: the import copies again into the promoted replica and succeeds with every key', async () => {
    const N = 100_000;
    const src = await createBdb(t, { name: 'db-failover-import-src', memory_size: 512 * 1024 * 1024 });
    const c = await connected(src.endpoints[0].port);
    for (let i = 0; i < N; i += 10_000) {
      const p = c.pipeline();
      for (let j = i; j < i + 10_000; j++) p.set(`k:${j}`, `${'x'.repeat(150)}${j}`);
      await p.exec();
    }
    c.disconnect();
    const dir = fs.mkdtempSync(path.join(loc, 'imp-fo-'));
    expect((await exportTo(src.uid, dir)).status).toBe(200);
    await waitField(t, src.uid, 'export_status', ['succeeded']);
    const file = path.join(dir, fs.readdirSync(dir)[0]!);

    const bdb = await createBdb(t, { name: 'db-failover-import', replication: true, memory_size: 1024 * 1024 * 1024 });
    const master = (await shardsOf(t, bdb.uid)).find((s) => s.role === 'master')!;
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/import`, { body: { dataset_import_sources: [{ type: 'mount_point', path: file }] } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    // Mid-copy: some keys are in, not all.
    await waitFor(async () => {
      const b = (await t.req('GET', `/v1/bdbs/${bdb.uid}?fields=import_status,import_progress`)).json;
      if (b.import_status !== 'importing' && b.import_status !== 'initializing') throw new Error(`import ended before the kill: ${JSON.stringify(b)}`);
      return b.import_status === 'importing' && b.import_progress > 15;
    }, { intervalMs: 5, timeoutMs: 30_000, what: 'the copy under way' });
    process.kill(pidOf(master.dir)!, 'SIGKILL');

    const done = await waitField(t, bdb.uid, 'import_status', ['succeeded', 'failed'], 60_000);
    expect(done).toMatchObject({ import_status: 'succeeded', import_failure_reason: '' });
    const d = await connected(bdb.endpoints[0].port);
    expect(await d.dbsize()).toBe(N);
    expect(await d.get(`k:${N - 1}`)).toBe(`${'x'.repeat(150)}${N - 1}`);
    d.disconnect();
  }, 120_000);
});
