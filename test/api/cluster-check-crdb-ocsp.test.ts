/**
 * Node / cluster checks, Active-Active routes, OCSP and module capabilities through real HTTPS on
 * real nodes (requests/nodes/check.md, cluster/check.md, crdbs/, crdb_tasks/, ocsp/,
 * cluster/module-capabilities.md). The checks are broken for real: a SIGSTOPped shard and proxy,
 * a kernel port range that overlaps the shard ports, a free-space floor above the disk's, a closed store.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import fs from 'node:fs';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeChecks, readLocalPortRange } from '../../src/controller/node-checks.js';
import { SqliteKv } from '../../src/store/sqlite/sqlite-kv.js';
import { systemClock } from '../../src/util/clock.js';
import { createBdb, pidOf, shardsOf } from '../helpers/bdb.js';
import { processesUnder, signal } from '../helpers/reap.js';
import { expectRsError } from '../helpers/rs-error.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

const fixture = (name: string) => JSON.parse(fs.readFileSync(fileURLToPath(new URL(`../../../shared/fixtures/redis-enterprise-rs/${name}`, import.meta.url)), 'utf8'));
const GUID = '552bbccb-99f3-4142-bd17-93d245f0bc79';
const VIEWER = { user: 'viewer@test.local', pass: 'Viewer-pass-1' };
const NOT_RESPONDING = /^process (\S+) is not running or not responding \(.+\)$/;

let t: TestNode;
beforeAll(async () => {
  // A stopped shard without replica stays stopped (the watchdog would otherwise restart it within ~1 s).
  t = await startTestNode({ watchdog: { stoppedChecks: 1_000_000, hangTimeoutMs: 600_000 } });
  const r = await t.req('POST', '/v1/users', { body: { email: VIEWER.user, password: VIEWER.pass, role: 'db_viewer' } });
  expect(r.status, r.text).toBe(200);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const nodeCheck = async (node: TestNode = t) => {
  const r = await node.req('GET', '/v1/nodes/check/1');
  expect(r.status, r.text).toBe(200);
  return r.json;
};
const clusterCheck = async (node: TestNode = t) => {
  const r = await node.req('GET', '/v1/cluster/check');
  expect(r.status, r.text).toBe(200);
  return r.json;
};

describe('GET /v1/nodes/check/{uid}, GET /v1/cluster/check', () => {
  it('a healthy node: the pages\' shapes, result true and no error', async () => {
    expect(await nodeCheck()).toEqual({ node_uid: 1, result: true });
    expect(await clusterCheck()).toEqual({ cluster_test_result: true, nodes: [{ node_uid: '1', result: true }] });
  });

  it('an unknown node is 404 node_not_found; a role with view_node_check (db_viewer) may check', async () => {
    expectRsError(await t.req('GET', '/v1/nodes/check/2'), 404, 'node_not_found');
    expectRsError(await t.req('GET', '/v1/nodes/check/one'), 404, 'node_not_found');
    expect((await t.req('GET', '/v1/nodes/check/1', { auth: VIEWER })).json).toEqual({ node_uid: 1, result: true });
  });

  it('a SIGSTOPped shard fails the check with its name, and the check passes again once it runs', async () => {
    const bdb = await createBdb(t, { name: 'check-db' });
    await waitFor(async () => (await nodeCheck()).result === true, { what: 'check passes with the database' });
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    signal(pid, 'SIGSTOP');
    try {
      const r = await nodeCheck();
      expect(r.result).toBe(false);
      expect(r.error).toMatch(NOT_RESPONDING);
      expect(r.error).toContain(`process redis:${shard!.uid} is not running or not responding`);
      const c = await clusterCheck();
      expect(c).toEqual({ cluster_test_result: false, nodes: [{ node_uid: '1', result: false, error: r.error }] });
    } finally {
      signal(pid, 'SIGCONT');
    }
    await waitFor(async () => (await nodeCheck()).result === true, { what: 'check passes after SIGCONT' });
    expect(pidOf(shard!.dir)).toBe(pid);
  }, 60_000);

  it('a SIGSTOPped proxy fails the check (its control socket does not answer), then recovers', async () => {
    const proxies = processesUnder(t.dataDir).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('proxy.sock'));
    expect(proxies).toHaveLength(1);
    signal(proxies[0]!, 'SIGSTOP');
    try {
      const r = await nodeCheck();
      expect(r.result).toBe(false);
      expect(r.error).toMatch(/^process proxy is not running or not responding \(.*no answer within \d+ ms\)$/);
    } finally {
      signal(proxies[0]!, 'SIGCONT');
    }
    await waitFor(async () => (await nodeCheck()).result === true, { what: 'check passes after SIGCONT' });
  }, 60_000);

  it('a cluster store that does not answer fails the services check', async () => {
    const kv = new SqliteKv(':memory:');
    await kv.close();
    const checks = new NodeChecks({
      clock: systemClock, kv,
      bootstrapState: async () => 'completed',
      bdbs: async () => [],
      shards: async () => [],
      probeShard: async () => 'pong',
      pingProxy: async () => ({}),
      configSocket: '/nonexistent/manager.sock',
      lastSample: () => undefined,
      portRanges: [],
      localPortRange: () => undefined,
      storagePaths: async () => [],
      minFreeBytes: 0,
    });
    const failure = await checks.run();
    expect(failure?.check).toBe('services');
    expect(failure?.error).toMatch(/^process ccs is not running or not responding \(.+\)$/);
  });
});

describe('checks that fail on a node configured against its host', () => {
  it('free space below the configured floor', async () => {
    const n = await startTestNode({ env: { OPENRS_MIN_FREE_DISK_MB: '1000000000' } });
    try {
      const r = await nodeCheck(n);
      expect(r).toEqual({ node_uid: 1, result: false, error: expect.stringMatching(/^free space on \S+ is \d+ MiB, below the 1000000000 MiB floor$/) });
      expect((await clusterCheck(n)).cluster_test_result).toBe(false);
    } finally {
      await n.close();
    }
  }, 60_000);

  it('shard ports inside the kernel ephemeral port range (ip_local_port_range)', async (ctx) => {
    const local = readLocalPortRange();
    if (!local || local.from < 20000 || local.to - local.from < 100) return ctx.skip();
    const n = await startTestNode({ env: { OPENRS_SHARD_PORT_RANGE: `${local.from}-${local.from + 99}` } });
    try {
      const r = await nodeCheck(n);
      expect(r.result).toBe(false);
      expect(r.error).toContain(`ip_local_port_range ${local.from}-${local.to} overlaps the shard port range`);
    } finally {
      await n.close();
    }
  }, 60_000);
});

describe('Active-Active: /v1/crdbs, /v1/crdb_tasks', () => {
  it('GET /v1/crdbs is the real capture\'s empty list; GET /v1/crdb_tasks an empty array', async () => {
    const r = await t.req('GET', '/v1/crdbs');
    expect(r.status).toBe(200);
    expect(r.json).toEqual(fixture('crdbs_list.json'));
    expect((await t.req('GET', '/v1/crdbs', { auth: VIEWER })).json).toEqual({ crdbs: [] });
    const tasks = await t.req('GET', '/v1/crdb_tasks');
    expect(tasks.status).toBe(200);
    expect(tasks.json).toEqual([]);
  });

  it('POST /v1/crdbs is refused as unsupported, with the code POST /v1/bdbs gives crdt: true', async () => {
    const body = {
      default_db_config: { name: 'sample-crdb', memory_size: 214748365 },
      instances: [{ cluster: { url: 'http://c1:9443', credentials: { username: 'u', password: 'p' }, name: 'cluster-1' }, compression: 6 }],
      name: 'sample-crdb',
    };
    const r = await t.req('POST', '/v1/crdbs', { body });
    expectRsError(r, 400, 'unsupported_option');
    expect(r.json.description).toMatch(/Active-Active/);
    expectRsError(await t.req('POST', '/v1/crdbs?dry_run=true', { body }), 400, 'unsupported_option');
    expectRsError(await t.req('POST', '/v1/bdbs', { body: { name: 'aa', memory_size: 104857600, replication: true, crdt: true } }), 400, 'unsupported_option');
    expect((await t.req('GET', '/v1/crdbs')).json).toEqual({ crdbs: [] });
  });

  it('every route naming a CRDB or a task answers the documented 404', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', `/v1/crdbs/${GUID}`],
      ['GET', `/v1/crdbs/${GUID}?instance_id=1`],
      ['PATCH', `/v1/crdbs/${GUID}`, { default_db_config: { memory_size: 1 } }],
      ['DELETE', `/v1/crdbs/${GUID}`],
      ['POST', `/v1/crdbs/${GUID}/updates`, { remove_instances: [2] }],
      ['POST', `/v1/crdbs/${GUID}/upgrade`, { preserve_roles: true, may_discard_data: false, redis_version: '8.2' }],
      ['PUT', `/v1/crdbs/${GUID}/flush?async_flush=true`],
      ['PUT', `/v1/crdbs/${GUID}/purge`, { instances: [1] }],
      ['GET', `/v1/crdbs/${GUID}/health_report`],
    ];
    for (const [method, path, body] of cases) expectRsError(await t.req(method, path, { body }), 404, 'crdb_not_exist');
    expectRsError(await t.req('GET', '/v1/crdb_tasks/1'), 404, 'crdb_task_not_exist');
    expectRsError(await t.req('GET', '/v1/crdb_tasks/1?verbose=true'), 404, 'crdb_task_not_exist');
    expectRsError(await t.req('POST', '/v1/crdb_tasks/1/actions/cancel?force=false'), 404, 'crdb_task_not_exist');
    // DELETE's page: 406 for a GUID that is not one.
    expectRsError(await t.req('DELETE', '/v1/crdbs/not-a-guid'), 406, 'invalid_crdb_guid');
  });

  it('bad input is 400 invalid_schema before the 404; a role without create_crdb gets 403', async () => {
    const bad: [string, string, unknown?][] = [
      ['POST', '/v1/crdbs', { instances: 'two' }],
      ['POST', '/v1/crdbs', { no_such_field: 1 }],
      ['PATCH', `/v1/crdbs/${GUID}`, { name: 5 }],
      ['POST', `/v1/crdbs/${GUID}/updates`, { remove_instances: ['a'] }],
      ['POST', `/v1/crdbs/${GUID}/upgrade`, { parallel_shards_upgrade: 0 }],
      ['PUT', `/v1/crdbs/${GUID}/purge`, {}],
      ['PUT', `/v1/crdbs/${GUID}/flush?async_flush=maybe`],
      ['GET', `/v1/crdbs/${GUID}?instance_id=abc`],
      ['POST', '/v1/crdb_tasks/1/actions/cancel?force=yes'],
    ];
    for (const [method, path, body] of bad) expectRsError(await t.req(method, path, { body }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/crdbs', { auth: VIEWER, body: { instances: 'two' } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', `/v1/crdbs/${GUID}`, { auth: VIEWER }), 403, 'insufficient_permissions');
  });
});

/** A proxy certificate (self-signed, with its key) whose Authority Information Access names an OCSP responder. */
async function certificateWithOcsp(url: string): Promise<{ certificate: string; key: string }> {
  const crypto = webcrypto as unknown as Crypto;
  const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=cluster.test.local', keys,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'cluster.test.local' }]),
      new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', url)] }),
    ],
  }, crypto);
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { certificate: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
}

describe('OCSP: /v1/ocsp, /v1/ocsp/status, /v1/ocsp/test', () => {
  it('GET answers OCSP off with the documented defaults: exactly the real capture', async () => {
    const r = await t.req('GET', '/v1/ocsp');
    expect(r.status, r.text).toBe(200);
    expect(JSON.stringify(r.json)).toBe(JSON.stringify(fixture('ocsp.json')));
  });

  it('PUT changes the settings that do nothing while OCSP is off; a GET body can be sent back', async () => {
    const r = await t.req('PUT', '/v1/ocsp', { body: { query_frequency: 7200, recovery_max_tries: 10, ocsp_functionality: false } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ ocsp_functionality: false, query_frequency: 7200, recovery_max_tries: 10, recovery_frequency: 60, response_timeout: 1 });
    const got = (await t.req('GET', '/v1/ocsp')).json;
    expect(got).toEqual(r.json);
    const back = await t.req('PUT', '/v1/ocsp', { body: got });
    expect(back.status, back.text).toBe(200);
    expect(back.json).toEqual(got);
  });

  it('turning OCSP on is refused (406 ocsp_unsupported_by_capability) and changes nothing', async () => {
    const before = (await t.req('GET', '/v1/ocsp')).json;
    const r = await t.req('PUT', '/v1/ocsp', { body: { ocsp_functionality: true, query_frequency: 3800 } });
    expectRsError(r, 406, 'ocsp_unsupported_by_capability');
    expect(r.json.description).toMatch(/staple/);
    expect((await t.req('GET', '/v1/ocsp')).json).toEqual(before);
  });

  it('bad input: out-of-range and mistyped values, unknown fields, a different responder_url', async () => {
    for (const body of [{ query_frequency: 59 }, { recovery_frequency: 86401 }, { recovery_max_tries: 0 }, { response_timeout: 61 },
      { query_frequency: '3600' }, { ocsp_functionality: 'true' }, { stapling: true }]) {
      expectRsError(await t.req('PUT', '/v1/ocsp', { body }), 400, 'invalid_schema');
    }
    expectRsError(await t.req('PUT', '/v1/ocsp', { body: { responder_url: 'http://responder.ocsp.url.com' } }), 400, 'read_only_field');
  });

  it('status: no cached status while OCSP is off; test: 500 no_responder_url with the self-signed proxy certificate', async () => {
    const s = await t.req('GET', '/v1/ocsp/status');
    expect(s.status, s.text).toBe(200);
    expect(s.json).toEqual({});
    expectRsError(await t.req('POST', '/v1/ocsp/test'), 500, 'no_responder_url');
  });

  it('the OCSP routes are admin-only: db_viewer gets 403, before any validation', async () => {
    expectRsError(await t.req('GET', '/v1/ocsp', { auth: VIEWER }), 403, 'insufficient_permissions');
    expectRsError(await t.req('PUT', '/v1/ocsp', { auth: VIEWER, body: { query_frequency: 1 } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('GET', '/v1/ocsp/status', { auth: VIEWER }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/ocsp/test', { auth: VIEWER }), 403, 'insufficient_permissions');
  });

  it('a proxy certificate naming a responder: responder_url shows it; test and enabling are still refused (406)', async () => {
    const url = 'http://ocsp.test.local/';
    const up = await t.req('PUT', '/v1/cluster/update_cert', { body: { name: 'proxy', ...(await certificateWithOcsp(url)) } });
    expect(up.status, up.text).toBe(200);
    expect((await t.req('GET', '/v1/ocsp')).json.responder_url).toBe(url);
    expectRsError(await t.req('POST', '/v1/ocsp/test'), 406, 'ocsp_unsupported_by_capability');
    expectRsError(await t.req('PUT', '/v1/ocsp', { body: { ocsp_functionality: true } }), 406, 'ocsp_unsupported_by_capability');
    expect((await t.req('PUT', '/v1/ocsp', { body: { responder_url: url } })).status).toBe(200);
  }, 30_000);
});

describe('GET /v1/cluster/module-capabilities', () => {
  it('lists every capability real modules declare, named and described, the page\'s two verbatim', async () => {
    const r = await t.req('GET', '/v1/cluster/module-capabilities', { auth: VIEWER });
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.json)).toEqual(['all_capabilities']);
    const caps = r.json.all_capabilities as { name: string; desc: string }[];
    for (const c of caps) expect(Object.keys(c).sort()).toEqual(['desc', 'name']);
    expect(new Set(caps.map((c) => c.name)).size).toBe(caps.length);
    expect(caps.slice(0, 2)).toEqual([
      { name: 'types', desc: 'module has its own types and not only operate on existing redis types' },
      { name: 'no_multi_key', desc: 'module has no methods that operate on multiple keys' },
    ]);
    const declared = new Set((fixture('modules_list.json') as { capabilities?: string[] }[]).flatMap((m) => m.capabilities ?? []));
    expect([...declared].filter((n) => !caps.some((c) => c.name === n))).toEqual([]);
  });
});
