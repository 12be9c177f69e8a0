/**
 * GET /v1/jsonschema (requests/jsonschema/_index.md) through real HTTPS on a real node: the schemas
 * it returns are plain JSON schemas, and they describe what the API really returns (checked with
 * ajv, the validator Fastify itself uses, against live GET bodies).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import { Bootstrap } from '../../src/schemas/bootstrap.js';
import { Cluster } from '../../src/schemas/cluster.js';
import { License } from '../../src/schemas/license.js';
import { Node } from '../../src/schemas/node.js';
import type { Resp } from '../helpers/https-client.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

const OBJECTS = ['action', 'bdb', 'bootstrap', 'certificates', 'cluster', 'cluster_settings', 'cm_settings', 'ldap', 'ldap_mapping', 'license', 'node', 'redis_acl', 'role', 'shard', 'state_machine', 'user'];



let t: TestNode;
beforeAll(async () => {
  // A fixed port, as in production (an OS-assigned one is checked separately below).
  t = await startTestNode({ env: { OPENRS_API_PORT: String(await freePort()) } });
});
afterAll(async () => {
  await t?.close();
});

const schemaOf = async (object: string) => {
  const r = await t.req('GET', `/v1/jsonschema?object=${encodeURIComponent(object)}`);
  expect(r.status, `${object}: ${r.text}`).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  return r.json;
};

/** Compile a schema as served (plain JSON) with the same ajv options as the server. */
const compile = (schema: object): ValidateFunction => new Ajv({ allErrors: true, strict: false, coerceTypes: false }).compile(schema);

/**
 * Validate a live body against a served object schema: ajv must accept it, and — since the object
 * schemas allow unknown properties — every field of the body must be one the schema declares.
 */
function expectDescribes(schema: any, body: Record<string, unknown>, what: string): void {
  const validate = compile(schema);
  const ok = validate(body);
  expect(ok, `${what}: ${JSON.stringify(validate.errors)}`).toBe(true);
  const undeclared = Object.keys(body).filter((k) => !(k in schema.properties));
  expect(undeclared, `${what}: fields the schema does not declare`).toEqual([]);
}

describe('GET /v1/jsonschema?object=<name>', () => {
  it.each(['cluster', 'node', 'bootstrap', 'license', 'cluster_settings', 'cm_settings', 'certificates'])('%s: an object schema with properties', async (object) => {
    const s = await schemaOf(object);
    expect(s.type).toBe('object');
    expect(typeof s.properties).toBe('object');
    expect(Object.keys(s.properties).length).toBeGreaterThan(0);
    // A schema ajv accepts as a schema (strict mode: no unknown keywords, no bad types).
    expect(() => new Ajv({ strict: true }).compile(s)).not.toThrow();
  });

  it('the schemas are the ones the server uses (JSON form of the TypeBox definitions)', async () => {
    expect(await schemaOf('cluster')).toEqual(JSON.parse(JSON.stringify(Cluster)));
    expect(await schemaOf('node')).toEqual(JSON.parse(JSON.stringify(Node)));
    expect(await schemaOf('license')).toEqual(JSON.parse(JSON.stringify(License)));
    expect(await schemaOf('bootstrap')).toEqual(JSON.parse(JSON.stringify(Bootstrap)));
  });

  it('an unknown object → 406 with an error body', async () => {
    const r = await t.req('GET', '/v1/jsonschema?object=nope');
    expectRsError(r, 406, 'invalid_object');
    expect(r.json.description).toContain('nope');
    expectRsError(await t.req('GET', '/v1/jsonschema?object='), 406, 'invalid_object');
    expectRsError(await t.req('GET', '/v1/jsonschema?object=Cluster'), 406, 'invalid_object');
  });

  it('names of Object.prototype members are unknown objects too (no prototype lookup)', async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expectRsError(await t.req('GET', `/v1/jsonschema?object=${name}`), 406, 'invalid_object');
    }
  });

  it('object given twice → 400', async () => {
    expectRsError(await t.req('GET', '/v1/jsonschema?object=cluster&object=node'), 400, 'invalid_schema');
  });

  it('needs credentials', async () => {
    expectRsError(await t.req('GET', '/v1/jsonschema?object=cluster', { auth: null }), 401, 'unauthorized');
  });
});

describe('GET /v1/jsonschema without object', () => {
  it('returns every object schema, keyed by object name, each the same as the single-object answer', async () => {
    const r = await t.req('GET', '/v1/jsonschema');
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual([...OBJECTS].sort());
    for (const name of OBJECTS) {
      expect(r.json[name].type, name).toBe('object');
      expect(r.json[name], name).toEqual(await schemaOf(name));
    }
  });
});

describe('the schemas describe the live objects', () => {
  it('cluster validates GET /v1/cluster', async () => {
    const body = (await t.req('GET', '/v1/cluster')).json;
    expect(body.name).toBe('cluster.test.local');
    expect(body.cnm_https_port).toBe(t.port);
    expectDescribes(await schemaOf('cluster'), body, 'cluster');
  });

  describe('on a node listening on an OS-assigned port (OPENRS_API_PORT=0)', () => {
    let p0: TestNode;
    beforeAll(async () => {
      p0 = await startTestNode();
    });
    afterAll(async () => {
      await p0?.close();
    });

    // Regression: bootstrap used to record config.api_port (0) as the cluster's cnm_https_port
    // instead of the port actually listened on, which also violated the schema (minimum 1024).
    it('GET /v1/cluster reports the real port in cnm_https_port and validates', async () => {
      const body = (await p0.req('GET', '/v1/cluster')).json;
      expect(body.cnm_https_port).toBe(p0.port);
      expectDescribes(await schemaOf('cluster'), body, 'cluster');
    });
  });

  it('node validates GET /v1/nodes/1 and every element of GET /v1/nodes', async () => {
    const schema = await schemaOf('node');
    const one = await t.req('GET', '/v1/nodes/1');
    expect(one.status).toBe(200);
    expectDescribes(schema, one.json, 'node 1');
    for (const n of (await t.req('GET', '/v1/nodes')).json) expectDescribes(schema, n, `node ${n.uid}`);
  });

  it('bdb validates GET /v1/bdbs/{uid} of a real database; shard and state_machine validate theirs', async () => {
    const created = await t.req('POST', '/v1/bdbs', { body: { name: 'schema-db', memory_size: 64 * 1024 * 1024 } });
    expect(created.status, created.text).toBe(200);
    const uid = created.json.uid;
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/${uid}`)).json.status === 'active', { what: 'bdb active' });
    expectDescribes(await schemaOf('bdb'), (await t.req('GET', `/v1/bdbs/${uid}`)).json, 'GET /v1/bdbs/{uid}');
    const shardSchema = await schemaOf('shard');
    for (const sh of (await t.req('GET', `/v1/bdbs/${uid}/shards`)).json) expectDescribes(shardSchema, sh, 'shard');
    const action = (await t.req('GET', `/v1/actions/${created.json.action_uid}`)).json;
    const v = compile(await schemaOf('state_machine'));
    expect(v(action), JSON.stringify(v.errors)).toBe(true);
  });

  it('license validates GET /v1/license', async () => {
    expectDescribes(await schemaOf('license'), (await t.req('GET', '/v1/license')).json, 'license');
  });

  it('cluster_settings validates GET /v1/cluster/policy; cm_settings validates GET /v1/cm_settings', async () => {
    expectDescribes(await schemaOf('cluster_settings'), (await t.req('GET', '/v1/cluster/policy')).json, 'policy');
    expectDescribes(await schemaOf('cm_settings'), (await t.req('GET', '/v1/cm_settings')).json, 'cm_settings');
  });

  it('bootstrap validates a create_cluster request; certificates validates each generated certificate', async () => {
    expectDescribes(await schemaOf('bootstrap'), {
      action: 'create_cluster',
      cluster: { name: 'cluster.test.local' },
      credentials: { username: ADMIN.user, password: ADMIN.pass },
    }, 'bootstrap');
    const certSchema = await schemaOf('certificates');
    const listed = (await t.req('GET', '/v1/cluster/certificates')).json as Record<string, string>;
    for (const key of Object.keys(listed).filter((k) => k.endsWith('_cert'))) {
      const name = key.slice(0, -'_cert'.length);
      const entry: Record<string, string> = { name, certificate: listed[key] };
      if (listed[`${name}_key`]) entry.key = listed[`${name}_key`];
      expectDescribes(certSchema, entry, name);
    }
  });

  it('the checks can fail: a wrong type, a missing field and an unknown name are rejected', async () => {
    const cluster = (await t.req('GET', '/v1/cluster')).json;
    const cs = compile(await schemaOf('cluster'));
    expect(cs({ ...cluster, name: 5 })).toBe(false);
    const { name: _omit, ...noName } = cluster;
    expect(cs(noName)).toBe(false);
    const node = (await t.req('GET', '/v1/nodes/1')).json;
    expect(compile(await schemaOf('node'))({ ...node, status: 'exploded' })).toBe(false);
    const pair = await generateSelfSigned({ commonName: 'x.test', altNames: ['x.test'] });
    const certs = compile(await schemaOf('certificates'));
    expect(certs({ name: 'proxy', ...pair })).toBe(true);
    expect(certs({ name: 'no_such_cert', ...pair })).toBe(false);
    expect(certs({ name: 'proxy', key: pair.key })).toBe(false);
  });
});
