/**
 * Debug info archives: GET /v1/debuginfo/{all,node}[/bdb/{uid}], /v1/bdbs[/{uid}]/debuginfo, /v1/nodes[/{uid}]/debuginfo,
 * /v1/cluster/debuginfo answer a real gzipped tar with the databases' objects, their shards' INFO, configuration
 * and logs, and no secret.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createBdb } from '../helpers/bdb.js';
import { expectRsError } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';

let t: TestNode;
let bdb: any;
let other: any;
const PASSWORD = 'db-secret-password-123';
beforeAll(async () => {
  t = await startTestNode();
  bdb = await createBdb(t, { name: 'dbg-a', replication: true, authentication_redis_pass: PASSWORD });
  other = await createBdb(t, { name: 'dbg-b' });
  const c = client(bdb.endpoints[0].port, { password: PASSWORD });
  await c.connect();
  await c.set('k', 'v');
  c.disconnect();
});
afterAll(async () => {
  await t?.close();
});

/** Download `p` and unpack it; the unpacked files (relative path → content). */
async function unpack(p: string): Promise<Record<string, string>> {
  const r = await t.req('GET', p);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('application/x-gzip');
  expect(r.headers['content-disposition']).toBe('attachment; filename=debuginfo.tar.gz');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-debuginfo-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.tar.gz'), r.body);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    execFileSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir });
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (e.name !== 'a.tar.gz') out[path.relative(dir, f)] = fs.readFileSync(f, 'utf8');
      }
    };
    walk(dir);
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('debug info', () => {
  it('one database: its object, shards, and per shard INFO, config, slow log, redis.conf, ACL file and log, without secrets', async () => {
    const files = await unpack(`/v1/bdbs/${bdb.uid}/debuginfo`);
    // Facts about passwords are not secrets.
    const cluster = JSON.parse((await unpack('/v1/debuginfo/node'))['debuginfo/cluster.json']!);
    expect(cluster.password_hashing_algorithm).toMatch(/^(?!<redacted>).+/);
    const d = `debuginfo/bdb-${bdb.uid}`;
    expect(JSON.parse(files[`${d}/bdb.json`]!).name).toBe('dbg-a');
    const shards = JSON.parse(files[`${d}/shards.json`]!);
    expect(shards).toHaveLength(2);
    for (const s of shards) {
      const sd = `${d}/shard-${s.uid}`;
      expect(files[`${sd}/info.txt`]).toMatch(/redis_version:/);
      expect(files[`${sd}/config.txt`]).toMatch(/^maxmemory \d+$/m);
      expect(files[`${sd}/config.txt`]).toMatch(/^masterauth <redacted>$/m);
      expect(JSON.parse(files[`${sd}/slowlog.json`]!)).toBeInstanceOf(Array);
      expect(files[`${sd}/redis.conf`]).toMatch(/^masterauth <redacted>$/m);
      expect(files[`${sd}/users.acl`]).toMatch(/^user default on/m);
      expect(files[`${sd}/redis.log`]).toBeTruthy();
    }
    expect(Object.keys(files).some((f) => f.startsWith(`debuginfo/bdb-${other.uid}/`))).toBe(false);
    const all = Object.values(files).join('\n');
    expect(all).not.toContain(PASSWORD);
    // The shards' internal admin password is not in it either.
    const admin = (await t.node.composed.kv.get<any>('/internal/shard_admin'))!.value.password;
    expect(all).not.toContain(admin);
    expect(all).not.toMatch(/#[0-9a-f]{64}/);
  });

  it('the whole cluster, under every documented path: cluster, nodes, events and every database', async () => {
    for (const p of ['/v1/debuginfo/all', '/v1/debuginfo/node', '/v1/bdbs/debuginfo', '/v1/nodes/debuginfo', '/v1/nodes/1/debuginfo', '/v1/cluster/debuginfo']) {
      const files = await unpack(p);
      for (const uid of [bdb.uid, other.uid]) expect(files[`debuginfo/bdb-${uid}/bdb.json`], p).toBeTruthy();
      expect(Object.values(files).join('\n')).not.toContain(PASSWORD);
      if (p !== '/v1/bdbs/debuginfo') {
        expect(JSON.parse(files['debuginfo/cluster.json']!).name).toBe('cluster.test.local');
        expect(JSON.parse(files['debuginfo/nodes.json']!)[0].uid).toBe(1);
        expect(JSON.parse(files['debuginfo/events.json']!).length).toBeGreaterThan(0);
      }
    }
    for (const p of [`/v1/debuginfo/all/bdb/${other.uid}`, `/v1/debuginfo/node/bdb/${other.uid}`]) {
      const files = await unpack(p);
      expect(Object.keys(files).some((f) => f.startsWith(`debuginfo/bdb-${other.uid}/shard-`))).toBe(true);
      expect(Object.keys(files).some((f) => f.startsWith(`debuginfo/bdb-${bdb.uid}/`))).toBe(false);
    }
  });

  it('a role scoped to one database gets that database\'s archive only', async () => {
    const role = await t.req('POST', '/v1/roles', { body: { name: 'dbg-scoped', management: 'db_member', resources: [{ type: 'db', uids: [String(other.uid)] }] } });
    expect(role.status).toBe(200);
    const user = await t.req('POST', '/v1/users', { body: { email: 'dbg-scoped@x.io', password: 'Scoped-pass-123', role_uids: [role.json.uid], name: 's' } });
    expect(user.status).toBe(200);
    const as = { auth: { user: 'dbg-scoped@x.io', pass: 'Scoped-pass-123' } };
    expect((await t.req('GET', `/v1/debuginfo/node/bdb/${other.uid}`, as)).status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${other.uid}/debuginfo`, as)).status).toBe(200);
    for (const p of [`/v1/debuginfo/all/bdb/${bdb.uid}`, `/v1/debuginfo/node/bdb/${bdb.uid}`, `/v1/bdbs/${bdb.uid}/debuginfo`,
      '/v1/debuginfo/all', '/v1/debuginfo/node', '/v1/bdbs/debuginfo', '/v1/nodes/debuginfo', '/v1/nodes/1/debuginfo', '/v1/cluster/debuginfo']) {
      expectRsError(await t.req('GET', p, as), 403);
    }
  });

  it('unknown objects are 404; a role without view_debugging_info gets 403', async () => {
    expectRsError(await t.req('GET', '/v1/bdbs/999/debuginfo'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/debuginfo/all/bdb/999'), 404, 'db_not_exist');
    expectRsError(await t.req('GET', '/v1/nodes/7/debuginfo'), 404, 'node_not_found');
    const viewer = await t.req('POST', '/v1/users', { body: { email: 'dbg-viewer@x.io', password: 'Viewer-pass-123', role: 'db_viewer', name: 'v' } });
    expect(viewer.status).toBe(200);
    expectRsError(await t.req('GET', `/v1/bdbs/${bdb.uid}/debuginfo`, { auth: { user: 'dbg-viewer@x.io', pass: 'Viewer-pass-123' } }), 403);
  });
});
