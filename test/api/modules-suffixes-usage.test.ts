/**
 * Cluster modules, DNS suffixes and the usage report on a real node through HTTPS:
 * requests/modules (+ the 7.22 upload/delete routes), requests/suffix(es), requests/usage_report.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../src/api/usage-report.js';
import { clusterUuid } from '../../src/services/usage-report-service.js';
import type { Resp } from '../helpers/https-client.js';
import { createBdb, seed } from '../helpers/bdb.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestNode;
type Who = { user: string; pass: string };
const as: Record<string, Who> = {};

async function userWithRole(name: string, role: Record<string, unknown>): Promise<Who> {
  const r = await t.req('POST', '/v1/roles', { body: { name: `r-${name}`, ...role } });
  expect(r.status, r.text).toBe(200);
  const who = { user: `${name}@test.local`, pass: `Pass-${name}-1x` };
  const u = await t.req('POST', '/v1/users', { body: { email: who.user, name, password: who.pass, role_uids: [r.json.uid] } });
  expect(u.status, u.text).toBe(200);
  return who;
}

beforeAll(async () => {
  t = await startTestNode();
  for (const m of ['none', 'db_viewer', 'db_member', 'cluster_member']) as[m] = await userWithRole(m, { management: m });
  as.scoped = await userWithRole('scoped', { management: 'db_viewer', resources: [{ type: 'db', uids: ['999'] }] });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const denied = (r: Resp) => {
  expect(r.status, r.text).toBe(403);
  expect(r.json.error_code).toBe('insufficient_permissions');
};
const rsError = (r: Resp, status: number, code: string) => {
  expect(r.status, r.text).toBe(status);
  expect(r.json.error_code, r.text).toBe(code);
  expect(typeof r.json.description).toBe('string');
};

/** A multipart/form-data body like `curl -F "<field>=@rejson.zip"`. */
function multipart(field: string): { rawBody: string; headers: Record<string, string> } {
  const b = '------------------------4751ac3b332ace13';
  const rawBody = [`--${b}`, `Content-Disposition: form-data; name="${field}"; filename="rejson.Linux-x86_64.2.0.8.zip"`,
    'Content-Type: application/zip', '', 'PK\u0003\u0004 not really a zip', `--${b}--`, ''].join('\r\n');
  return { rawBody, headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

describe('modules', () => {
  it('GET /v1/modules is the empty list, for every role holding view_cluster_modules; none is denied', async () => {
    for (const who of [undefined, as.db_viewer, as.cluster_member]) {
      const r = await t.req('GET', '/v1/modules', { auth: who });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual([]);
    }
    denied(await t.req('GET', '/v1/modules', { auth: as.none }));
  });

  it('GET /v1/modules/{uid}: 404 for any uid (the capture\'s bf uid included)', async () => {
    rsError(await t.req('GET', '/v1/modules/b14385b09778a335835ee3ae380bbc77'), 404, 'module_not_exist');
    rsError(await t.req('GET', '/v1/modules/1', { auth: as.db_viewer }), 404, 'module_not_exist');
    denied(await t.req('GET', '/v1/modules/1', { auth: as.none }));
  });

  it('an upload is refused with a 400 that says module upload is not supported, and nothing is stored', async () => {
    for (const path of ['/v1/modules', '/v2/modules']) {
      const r = await t.req('POST', path, multipart('module'));
      rsError(r, 400, 'unsupported_option');
      expect(r.json.description).toMatch(/Module upload is not supported by openrs/);
      expect(r.json).not.toHaveProperty('action_uid');
    }
    expect((await t.req('GET', '/v1/modules')).json).toEqual([]);
  });

  it('a package larger than the JSON body limit is read through and refused the same way (not 413)', async () => {
    const big = multipart('module');
    big.rawBody = big.rawBody.replace('not really a zip', 'z'.repeat(20 * 1024 * 1024));
    rsError(await t.req('POST', '/v2/modules', big), 400, 'unsupported_option');
  });

  it('an upload without a module is the page\'s no_module', async () => {
    rsError(await t.req('POST', '/v1/modules', multipart('file')), 400, 'no_module');
    rsError(await t.req('POST', '/v2/modules'), 400, 'no_module');
    rsError(await t.req('POST', '/v1/modules', { body: {} }), 400, 'no_module');
    rsError(await t.req('POST', '/v1/modules', { rawBody: 'x', headers: { 'content-type': 'text/plain' } }), 400, 'unsupported_content_type');
  });

  it('upload and delete need update_cluster (admin): others get 403 before the body is looked at', async () => {
    for (const m of ['db_member', 'cluster_member', 'db_viewer', 'none']) {
      denied(await t.req('POST', '/v1/modules', { ...multipart('module'), auth: as[m] }));
      denied(await t.req('POST', '/v2/modules', { auth: as[m] }));
      denied(await t.req('DELETE', '/v1/modules/1', { auth: as[m] }));
    }
  });

  it('DELETE /v1|v2/modules/{uid}: 404 for a module that does not exist', async () => {
    rsError(await t.req('DELETE', '/v1/modules/1'), 404, 'module_not_exist');
    rsError(await t.req('DELETE', '/v2/modules/b14385b09778a335835ee3ae380bbc77'), 404, 'module_not_exist');
  });

  it('POST /v1/modules/config/bdb/{uid}: the page\'s 400s, 404 db_not_exist, 403 without edit_bdb_module', async () => {
    const body = { modules: [{ module_name: 'search', module_args: 'MINPREFIX 3' }] };
    rsError(await t.req('POST', '/v1/modules/config/bdb/77', { body }), 404, 'db_not_exist');
    rsError(await t.req('POST', '/v1/modules/config/bdb/abc', { body }), 404, 'db_not_exist');
    rsError(await t.req('POST', '/v1/modules/config/bdb/77', { body: {} }), 400, 'missing_field');
    rsError(await t.req('POST', '/v1/modules/config/bdb/77', { body: { modules: [{ module_name: 'search' }] } }), 400, 'missing_field');
    rsError(await t.req('POST', '/v1/modules/config/bdb/77', { body: { modules: [{ module_name: 'search', module_args: '<x>' }] } }), 400, 'param_error');
    rsError(await t.req('POST', '/v1/modules/config/bdb/77', { body: { modules: 'search' } }), 400, 'invalid_schema');
    denied(await t.req('POST', '/v1/modules/config/bdb/77', { body, auth: as.db_viewer }));
    denied(await t.req('POST', '/v1/modules/config/bdb/77', { body, auth: as.none }));
  });
});

describe('suffixes', () => {
  it('GET /v1/suffixes: the cluster name, as the endpoints\' dns_name uses it', async () => {
    const r = await t.req('GET', '/v1/suffixes', { auth: as.db_viewer });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual([{ name: 'cluster.test.local', default: true, internal: false, mdns: false, slaves: [], use_aaaa_ns: false }]);
    expect((await t.req('GET', '/v1/cluster')).json.name).toBe(r.json[0].name);
    denied(await t.req('GET', '/v1/suffixes', { auth: as.none }));
  });

  it('GET /v1/suffix/{name}: the suffix (DNS names compare case-insensitively), else 404', async () => {
    const one = await t.req('GET', '/v1/suffix/cluster.test.local');
    expect(one.status, one.text).toBe(200);
    expect(one.json).toEqual((await t.req('GET', '/v1/suffixes')).json[0]);
    expect((await t.req('GET', '/v1/suffix/Cluster.Test.Local.')).json.name).toBe('cluster.test.local');
    rsError(await t.req('GET', '/v1/suffix/internal.cluster.test.local'), 404, 'suffix_not_exist');
    rsError(await t.req('GET', '/v1/suffix/test.local'), 404, 'suffix_not_exist');
    denied(await t.req('GET', '/v1/suffix/cluster.test.local', { auth: as.none }));
  });
});

/** The report's lines: JSON objects, then the MD5 of everything before the last line. */
function parseReport(text: string): any[] {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const md5 = lines.pop()!;
  const before = lines.map((l) => `${l}\n`).join('');
  expect(md5).toBe(createHash('md5').update(before).digest('hex'));
  return lines.map((l) => JSON.parse(l));
}

describe('usage report', () => {
  it('with no database: just the MD5 line (of nothing)', async () => {
    const r = await t.req('GET', '/v1/usage_report');
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(r.text).toBe('d41d8cd98f00b204e9800998ecf8427e\n');
  });

  describe('with a database', () => {
    let bdb: any;
    beforeAll(async () => {
      bdb = await createBdb(t, { name: 'usage-db', eviction_policy: 'noeviction' });
      await seed(bdb.endpoints[0].port, 2000);
    }, 30_000);

    const measured = () => waitFor(async () => {
      const line = parseReport((await t.req('GET', '/v1/usage_report')).text)[0];
      return typeof line?.used_memory === 'number' ? line : undefined;
    }, { timeoutMs: 15_000, what: 'a usage line with used_memory' });

    it('one line per database, from the bdb record, the shards, the license and the stats', async () => {
      const before = Date.now();
      const line = await measured();
      const [license, node, cluster, stats] = await Promise.all(['/v1/license', '/v1/nodes/1', '/v1/cluster', '/v1/bdbs/stats/last/' + bdb.uid]
        .map(async (p) => (await t.req('GET', p)).json));
      expect(line).toMatchObject({
        cluster_name: 'cluster.test.local',
        cluster_uuid: clusterUuid(cluster.name, cluster.created_time),
        software_version: node.software_version,
        api_version: '1',
        bdb_uid: String(bdb.uid),
        type: 'core',
        shard_type: 'normal',
        dominant_shard_criteria: 'mem',
        provisioned_memory: bdb.memory_size,
        master_shards_count: 1,
        no_eviction: true,
        persistence: false,
        backup: false,
        using_redis_search: false,
        replication: false,
        active_active: false,
        license: {
          activation_date: license.activation_date, expiration_date: license.expiration_date,
          ram_shards_in_use: 1, ram_shards_limit: license.ram_shards_limit,
          flash_shards_in_use: 0, flash_shards_limit: license.flash_shards_limit, shards_limit: license.shards_limit,
        },
      });
      expect(line.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(Date.parse(line.date)).toBeGreaterThanOrEqual(before - 1000);
      expect(line.cluster_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The same measurement the stats route shows: 2000 keys are well above an empty redis-server.
      expect(line.used_memory).toBeGreaterThan(1_000_000);
      const fromStats = stats[String(bdb.uid)].used_memory;
      expect(Math.abs(line.used_memory - fromStats) / fromStats).toBeLessThan(0.2);
      expect(typeof line.ops_sec).toBe('number');
    });

    it('gzip when Accept-Encoding asks for it', async () => {
      await measured();
      const r = await t.req('GET', '/v1/usage_report', { headers: { 'accept-encoding': 'gzip, deflate' } });
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBe('gzip');
      const lines = parseReport(gunzipSync(r.body).toString('utf8'));
      expect(lines.map((l) => l.bdb_uid)).toEqual([String(bdb.uid)]);
      expect((await t.req('GET', '/v1/usage_report', { headers: { 'accept-encoding': 'gzip;q=0' } })).headers['content-encoding']).toBeUndefined();
    });

    it('stime/etime select lines by date; a bad date is 400', async () => {
      rsError(await t.req('GET', '/v1/usage_report?stime=yesterday'), 400, 'invalid_param');
      rsError(await t.req('GET', '/v1/usage_report?etime=2026-02-30T00:00:00Z'), 400, 'invalid_param');
      expect(parseReport((await t.req('GET', '/v1/usage_report?stime=2999-01-01T00:00:00Z')).text)).toEqual([]);
      expect(parseReport((await t.req('GET', '/v1/usage_report?stime=2000-01-01T00:00:00Z')).text)).toHaveLength(1);
    });

    it('a role limited to other databases gets no line for this one; role none is denied', async () => {
      const r = await t.req('GET', '/v1/usage_report', { auth: as.scoped });
      expect(r.status, r.text).toBe(200);
      expect(parseReport(r.text)).toEqual([]);
      expect(parseReport((await t.req('GET', '/v1/usage_report', { auth: as.db_viewer })).text)).toHaveLength(1);
      denied(await t.req('GET', '/v1/usage_report', { auth: as.none }));
    });

    it('modules stay consistent: a database naming a module is refused, config answers module_not_exist', async () => {
      rsError(await t.req('POST', '/v1/bdbs', { body: { name: 'with-search', memory_size: 100 << 20, module_list: [{ module_name: 'search' }] } }), 406, 'missing_module');
      const body = { modules: [{ module_name: 'search', module_args: 'MINPREFIX 3' }] };
      rsError(await t.req('POST', `/v1/modules/config/bdb/${bdb.uid}`, { body }), 404, 'module_not_exist');
      rsError(await t.req('POST', `/v1/modules/config/bdb/${bdb.uid}`, { body, auth: as.scoped }), 403, 'insufficient_permissions');
    });
  });
});

describe('acceptsGzip', () => {
  it('reads codings and q-values', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity, br')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
