/**
 * /v1/cluster/ldap, /v1/ldap_mappings and LDAP login (requests/cluster/ldap.md,
 * requests/ldap_mappings, objects/ldap*.md, security/access-control/ldap/*) through real HTTPS
 * on a real node, against a real OpenLDAP slapd (test/helpers/slapd.ts).
 */
import { Ajv } from 'ajv';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resp } from '../helpers/https-client.js';
import { freePort } from '../helpers/ports.js';
import { ROOT_DN, ROOT_PW, slapdInstalled, startSlapd, SUFFIX, type Slapd } from '../helpers/slapd.js';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';


const BIND_PASS = 'svc-Secret-4711';
const people = `ou=people,${SUFFIX}`;
const groups = `ou=groups,${SUFFIX}`;
const person = (uid: string, pass: string) => `
dn: uid=${uid},${people}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
sn: ${uid}
mail: ${uid}@example.com
userPassword: ${pass}
`;
const group = (cn: string, ...members: string[]) => `
dn: cn=${cn},${groups}
objectClass: groupOfNames
cn: ${cn}
${members.map((m) => `member: uid=${m},${people}`).join('\n')}
`;
const LDIF = [
  `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
  `dn: ${people}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ${groups}\nobjectClass: organizationalUnit\nou: groups\n`,
  `dn: cn=svc,${SUFFIX}\nobjectClass: inetOrgPerson\ncn: svc\nsn: svc\nuserPassword: ${BIND_PASS}\n`,
  person('alice', 'alice-pass'), // ops → admin
  person('bob', 'bob-pass'), // viewers → cluster_viewer
  person('carol', 'carol-pass'), // unmapped group only
  person('dave', 'dave-pass'), // ops and viewers → the higher role, admin
  group('ops', 'alice', 'dave'),
  group('viewers', 'bob', 'dave'),
  group('unmapped', 'carol'),
].join('\n');

const QUERY_CONFIG = {
  bind_dn: `cn=svc,${SUFFIX}`,
  bind_pass: BIND_PASS,
  user_dn_query: { base: people, filter: '(&(objectClass=inetOrgPerson)(uid=%u))', scope: 'subtree' },
  dn_group_query: { base: groups, filter: '(member=%D)', scope: 'one' },
  control_plane: true,
};

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
  // Roles are owned by the roles API; the mapping only needs the records in the CCS.
  await t.node.composed.kv.put('/roles/1', { uid: 1, name: 'Admins', management: 'admin' });
  await t.node.composed.kv.put('/roles/2', { uid: 2, name: 'Viewers', management: 'cluster_viewer' });
  await t.node.composed.kv.put('/roles/3', { uid: 3, name: 'Nobody', management: 'none' });
});
afterAll(async () => {
  await t?.close();
});

describe('/v1/cluster/ldap configuration', () => {
  it('GET before any configuration: the documented defaults, LDAP off', async () => {
    const r = await t.req('GET', '/v1/cluster/ldap');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ control_plane: false, data_plane: false, cache_ttl: 300, directory_timeout_s: 5, starttls: false, uris: [], user_dn_query: {}, dn_group_query: {} });
  });

  it('rejects invalid configurations with 400 and the documented code', async () => {
    const uris = ['ldap://127.0.0.1:389'];
    const bad: [object, string][] = [
      [{ uris, user_dn_template: 'uid=%u,dc=x', user_dn_query: { base: 'dc=x', filter: '(uid=%u)', scope: 'subtree' } }, 'illegal_fields_combination'],
      [{ uris, dn_group_attr: 'memberOf', dn_group_query: { base: 'dc=x', filter: '(member=%D)', scope: 'subtree' } }, 'illegal_fields_combination'],
      [{ control_plane: true }, 'illegal_fields_combination'],
      [{ control_plane: true, uris, user_dn_template: 'uid=%u,dc=x' }, 'illegal_fields_combination'],
      [{ uris: ['ldaps://127.0.0.1:636'], starttls: true }, 'illegal_fields_combination'],
      [{ bind_dn: 'cn=svc,dc=x' }, 'illegal_fields_combination'],
      [{ cba: true, cba_identity_source: 'subject_oid', uris, user_dn_template: 'uid=%u', dn_group_attr: 'memberOf' }, 'illegal_fields_combination'],
      [{ uris: ['ldap://host'] }, 'invalid_schema'],
      [{ uris: ['http://host:389'] }, 'invalid_schema'],
      [{ directory_timeout_s: 4 }, 'invalid_schema'],
      [{ user_dn_query: { base: 'dc=x', filter: '(uid=%u' , scope: 'subtree' } }, 'invalid_schema'],
      [{ user_dn_query: { base: 'dc=x', scope: 'subtree' } }, 'invalid_schema'],
      [{ user_dn_template: 'cn=fixed,dc=x' }, 'invalid_schema'],
      [{ no_such_field: 1 }, 'invalid_schema'],
      [{ ca_cert: 'not a certificate' }, 'invalid_certificate'],
    ];
    for (const [body, code] of bad) expectRsError(await t.req('PUT', '/v1/cluster/ldap', { body }), 400, code);
    expect((await t.req('GET', '/v1/cluster/ldap')).json.uris).toEqual([]);
  });

  it('GET /v1/jsonschema?object=ldap / ldap_mapping describe the live bodies', async () => {
    const check = async (object: string, body: Record<string, unknown>) => {
      const schema = (await t.req('GET', `/v1/jsonschema?object=${object}`)).json;
      const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
      expect(validate(body), `${object}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(Object.keys(body).filter((k) => !(k in schema.properties))).toEqual([]);
    };
    await check('ldap', (await t.req('GET', '/v1/cluster/ldap')).json);
    const m = await t.req('POST', '/v1/ldap_mappings', { body: { name: 'Schema check', dn: 'cn=x,dc=y', role_uids: [3] } });
    await check('ldap_mapping', m.json);
    expect((await t.req('DELETE', `/v1/ldap_mappings/${m.json.uid}`)).status).toBe(200);
  });

  it('needs config_ldap / view_ldap_config', async () => {
    expectRsError(await t.req('GET', '/v1/cluster/ldap', { auth: null }), 401);
  });
});

describe('/v1/ldap_mappings', () => {
  let uid: number;
  it('POST creates a mapping with the documented defaults', async () => {
    const r = await t.req('POST', '/v1/ldap_mappings', { body: { name: 'Admins', dn: 'OU=ops.group,DC=redislabs,DC=com', email: 'ops.group@redislabs.com', role_uids: [1] } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ name: 'Admins', dn: 'OU=ops.group,DC=redislabs,DC=com', email: 'ops.group@redislabs.com', role_uids: [1], email_alerts: true, bdbs_email_alerts: [] });
    uid = r.json.uid;
    expect(uid).toBeGreaterThan(0);
  });

  it('GET lists and reads; PUT updates; 404 ldap_mapping_not_exist for unknown uids', async () => {
    expect((await t.req('GET', '/v1/ldap_mappings')).json.map((m: any) => m.uid)).toContain(uid);
    expect((await t.req('GET', `/v1/ldap_mappings/${uid}`)).json.name).toBe('Admins');
    const put = await t.req('PUT', `/v1/ldap_mappings/${uid}`, { body: { dn: 'OU=ops,DC=redislabs,DC=com', bdbs_email_alerts: ['1', '2'], cluster_email_alerts: true, role_uids: [1, 2] } });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ uid, name: 'Admins', dn: 'OU=ops,DC=redislabs,DC=com', bdbs_email_alerts: ['1', '2'], cluster_email_alerts: true, role_uids: [1, 2] });
    // A GET body sent back is accepted.
    const back = await t.req('PUT', `/v1/ldap_mappings/${uid}`, { body: (await t.req('GET', `/v1/ldap_mappings/${uid}`)).json });
    expect(back.status, back.text).toBe(200);
    expectRsError(await t.req('GET', '/v1/ldap_mappings/999'), 404, 'ldap_mapping_not_exist');
    expectRsError(await t.req('PUT', '/v1/ldap_mappings/999', { body: { email: '' } }), 404, 'ldap_mapping_not_exist');
    expectRsError(await t.req('DELETE', '/v1/ldap_mappings/999'), 404, 'ldap_mapping_not_exist');
    expectRsError(await t.req('GET', '/v1/ldap_mappings/abc'), 404);
  });

  it('validates with the documented codes', async () => {
    const ok = { name: 'Other', dn: 'cn=other,dc=example,dc=com', role_uids: [2] };
    const bad: [object, number, string][] = [
      [{ ...ok, role_uids: [99] }, 400, 'invalid_role_uids_param'],
      [{ ...ok, role_uids: [2, 98] }, 400, 'invalid_role_uids_param'],
      [{ ...ok, role_uids: [] }, 400, 'invalid_role_uids_param'],
      [{ ...ok, role_uids: ['2'] }, 400, 'invalid_schema'],
      [{ name: 'Other', dn: 'cn=x,dc=y' }, 400, 'missing_field'],
      [{ dn: 'cn=x,dc=y', role_uids: [2] }, 400, 'missing_field'],
      [{ ...ok, dn: '   ' }, 400, 'invalid_dn_param'],
      [{ ...ok, dn: 'not a dn' }, 400, 'invalid_dn_param'],
      [{ ...ok, name: 'bad/name' }, 400, 'invalid_name_param'],
      [{ ...ok, name: '' }, 400, 'invalid_name_param'],
      [{ ...ok, name: 'Admins' }, 400, 'name_already_exists'],
      [{ ...ok, email: 'nope' }, 400, 'invalid_schema'],
      [{ ...ok, uid: 5 }, 400, 'invalid_schema'],
    ];
    for (const [body, status, code] of bad) expectRsError(await t.req('POST', '/v1/ldap_mappings', { body }), status, code);
    const other = await t.req('POST', '/v1/ldap_mappings', { body: ok });
    expect(other.status).toBe(200);
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${uid}`, { body: { name: 'Other' } }), 400, 'name_already_exists');
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${uid}`, { body: { role_uids: [42] } }), 400, 'invalid_role_uids_param');
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${uid}`, { body: { uid: uid + 1 } }), 400);
    expect((await t.req('DELETE', `/v1/ldap_mappings/${other.json.uid}`)).status).toBe(200);
  });

  it('DELETE removes the mapping', async () => {
    expect((await t.req('DELETE', `/v1/ldap_mappings/${uid}`)).status).toBe(200);
    expectRsError(await t.req('GET', `/v1/ldap_mappings/${uid}`), 404, 'ldap_mapping_not_exist');
    expect(await t.req('GET', '/v1/ldap_mappings').then((r) => r.json)).toEqual([]);
  });

  it('every LDAP configuration and mapping change is in the event log, without secrets', async () => {
    const put = await t.req('PUT', '/v1/cluster/ldap', { body: { bind_dn: 'cn=admin,dc=example,dc=com', bind_pass: 'ldap-event-secret-1' } });
    expect(put.status, put.text).toBe(200);
    const logs = (await t.req('GET', '/v1/logs')).json as { type: string }[];
    const types = logs.map((e) => e.type);
    expect(types).toContain('ldap_config_updated');
    for (const type of ['ldap_mapping_created', 'ldap_mapping_updated', 'ldap_mapping_deleted']) expect(types).toContain(type);
    expect(JSON.stringify(logs)).not.toContain('ldap-event-secret-1');
  });
});

describe('/v1/ldap_mappings and the admin role', () => {
  const um = { user: 'mapping-um@example.com', pass: 'mapping-um-pass-1' };
  let customAdmin: number;
  beforeAll(async () => {
    const u = await t.req('POST', '/v1/users', { body: { email: um.user, password: um.pass, role_uids: [7] } });
    expect(u.status, u.text).toBe(200);
    const r = await t.req('POST', '/v1/roles', { body: { name: 'Mapping Admins', management: 'admin' } });
    expect(r.status, r.text).toBe(200);
    customAdmin = r.json.uid;
  });

  it('a user_manager cannot create, change or delete a mapping that grants admin (as for users and roles)', async () => {
    const asUm = { auth: um };
    const dn = 'cn=um-group,dc=example,dc=com';
    // Mapping its own group to an admin role would make the user_manager an admin at its next LDAP login.
    expectRsError(await t.req('POST', '/v1/ldap_mappings', { ...asUm, body: { name: 'UmAdmin', dn, role_uids: [1] } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('POST', '/v1/ldap_mappings', { ...asUm, body: { name: 'UmAdmin', dn, role_uids: [2, customAdmin] } }), 403, 'insufficient_permissions');
    const own = await t.req('POST', '/v1/ldap_mappings', { ...asUm, body: { name: 'UmViewers', dn, role_uids: [2] } });
    expect(own.status, own.text).toBe(200);
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${own.json.uid}`, { ...asUm, body: { role_uids: [2, 1] } }), 403, 'insufficient_permissions');
    expect((await t.req('GET', `/v1/ldap_mappings/${own.json.uid}`)).json.role_uids).toEqual([2]);
    expect((await t.req('PUT', `/v1/ldap_mappings/${own.json.uid}`, { ...asUm, body: { role_uids: [3] } })).status).toBe(200);

    // A mapping an admin made to an admin role: the user_manager may neither change nor delete it.
    const admins = await t.req('POST', '/v1/ldap_mappings', { body: { name: 'RealAdmins', dn: 'cn=admins,dc=example,dc=com', role_uids: [customAdmin] } });
    expect(admins.status, admins.text).toBe(200);
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${admins.json.uid}`, { ...asUm, body: { dn } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('PUT', `/v1/ldap_mappings/${admins.json.uid}`, { ...asUm, body: { role_uids: [2] } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', `/v1/ldap_mappings/${admins.json.uid}`, asUm), 403, 'insufficient_permissions');
    expect((await t.req('GET', `/v1/ldap_mappings/${admins.json.uid}`)).json).toMatchObject({ dn: 'cn=admins,dc=example,dc=com', role_uids: [customAdmin] });

    // The admin may do all of it.
    expect((await t.req('PUT', `/v1/ldap_mappings/${own.json.uid}`, { body: { role_uids: [1] } })).status).toBe(200);
    for (const uid of [own.json.uid, admins.json.uid]) expect((await t.req('DELETE', `/v1/ldap_mappings/${uid}`)).status).toBe(200);
  });
});

const describeSlapd = slapdInstalled ? describe : describe.skip;
describeSlapd(slapdInstalled ? 'LDAP login against a real slapd' : 'LDAP login (SKIPPED: /usr/sbin/slapd is not installed; scripts/setup.sh installs slapd)', () => {
  let ldap: Slapd;
  const as = (user: string, pass: string) => ({ auth: { user, pass } });
  const alice = as('alice', 'alice-pass');
  const bob = as('bob', 'bob-pass');
  const dave = as('dave', 'dave-pass');

  beforeAll(async () => {
    ldap = await startSlapd({ ldif: LDIF, tls: true });
    // Mapping DNs in another case and spacing than the directory returns: DNs compare as DNs.
    for (const [name, dn, role] of [['Ops', `CN=Ops, OU=Groups,${SUFFIX.toUpperCase()}`, 1], ['Viewers', `cn=viewers,${groups}`, 2]] as const) {
      const r = await t.req('POST', '/v1/ldap_mappings', { body: { name, dn, role_uids: [role] } });
      expect(r.status, r.text).toBe(200);
    }
  }, 30_000);
  afterAll(async () => {
    await ldap?.stop();
  });

  it('PUT configures LDAP; the bind password is never returned in clear', async () => {
    const r = await t.req('PUT', '/v1/cluster/ldap', { body: { ...QUERY_CONFIG, uris: [ldap.url] } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.bind_pass).toBe('***');
    expect(r.text).not.toContain(BIND_PASS);
    const g = await t.req('GET', '/v1/cluster/ldap');
    expect(g.json).toMatchObject({ ...QUERY_CONFIG, bind_pass: '***', uris: [ldap.url], user_dn_template: '', dn_group_attr: '' });
    expect(g.text).not.toContain(BIND_PASS);
    expect((await t.req('GET', '/v1/jsonschema?object=ldap')).status).toBe(200);
  });

  it('an LDAP user in a mapped group logs in with its role; wrong password → 401', async () => {
    const r = await t.req('GET', '/v1/cluster', alice);
    expect(r.status, r.text).toBe(200);
    expect((await t.req('PUT', '/v1/cluster', { ...alice, body: { email_alerts: false } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', as('alice', 'wrong')), 401, 'unauthorized');
    expectRsError(await t.req('GET', '/v1/cluster', as('alice', '')), 401);
    expectRsError(await t.req('GET', '/v1/cluster', as('nobody', 'x')), 401);
    // Filter metacharacters in the login are escaped, not interpreted.
    expectRsError(await t.req('GET', '/v1/cluster', as('*', 'alice-pass')), 401);
    expectRsError(await t.req('GET', '/v1/cluster', as('alice)(uid=*', 'alice-pass')), 401);
  });

  it('a cluster_viewer-mapped user can read but gets 403 on changes and on LDAP config', async () => {
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/cluster', { ...bob, body: { email_alerts: true } }), 403, 'insufficient_permissions');
    expectRsError(await t.req('GET', '/v1/cluster/ldap', bob), 403);
    expectRsError(await t.req('GET', '/v1/ldap_mappings', bob), 403);
  });

  it('a user whose groups are in no mapping is denied (401)', async () => {
    expectRsError(await t.req('GET', '/v1/cluster', as('carol', 'carol-pass')), 401, 'unauthorized');
  });

  it('several mapped groups: the highest management role wins', async () => {
    expect((await t.req('PUT', '/v1/cluster', { ...dave, body: { email_alerts: false } })).status).toBe(200);
  });

  it('a mapping change applies at once, even to a cached login', async () => {
    const viewers = (await t.req('GET', '/v1/ldap_mappings')).json.find((m: any) => m.name === 'Viewers');
    expect((await t.req('PUT', `/v1/ldap_mappings/${viewers.uid}`, { body: { role_uids: [3] } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 403); // role 'none'
    expect((await t.req('PUT', `/v1/ldap_mappings/${viewers.uid}`, { body: { role_uids: [2] } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
  });

  it('a password changed in the directory stops working (cache_ttl 0: at once)', async () => {
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { cache_ttl: 0 } })).status).toBe(200);
    const root = new Client({ url: ldap.url });
    await root.bind(ROOT_DN, ROOT_PW);
    await root.modify(`uid=alice,${people}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: ['alice-new'] }) }));
    await root.unbind();
    expectRsError(await t.req('GET', '/v1/cluster', alice), 401);
    expect((await t.req('GET', '/v1/cluster', as('alice', 'alice-new'))).status).toBe(200);
  });

  it('template + memberOf attribute instead of queries (a PUT of one replaces the other)', async () => {
    const r = await t.req('PUT', '/v1/cluster/ldap', { body: { user_dn_template: `uid=%u,${people}`, dn_group_attr: 'memberOf' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ user_dn_query: {}, dn_group_query: {}, bind_pass: '***' });
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
    expectRsError(await t.req('PUT', '/v1/cluster', { ...bob, body: { email_alerts: true } }), 403);
    expectRsError(await t.req('GET', '/v1/cluster', as('bob', 'nope')), 401);
    expectRsError(await t.req('GET', '/v1/cluster', as('carol', 'carol-pass')), 401);
    // The bind password sent back masked keeps the stored one.
    const back = await t.req('PUT', '/v1/cluster/ldap', { body: (await t.req('GET', '/v1/cluster/ldap')).json });
    expect(back.status, back.text).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
  });

  it('ldaps:// and StartTLS verify the server against ca_cert', async () => {
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { uris: [ldap.ldapsUrl!] } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 401); // untrusted self-signed certificate
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { ca_cert: ldap.caCert! } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { uris: [ldap.url], starttls: true, ca_cert: '' } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 401); // StartTLS really negotiates TLS
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { ca_cert: ldap.caCert! } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { starttls: false, ca_cert: '' } })).status).toBe(200);
  });

  it('an unreachable server: LDAP users get 401, the next URI is tried, local admin unaffected', async () => {
    const dead = `ldap://127.0.0.1:${await freePort()}`;
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { uris: [dead] } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 401);
    expect((await t.req('GET', '/v1/cluster')).status).toBe(200);
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { uris: [dead, ldap.url] } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
  });

  it('control_plane false, then DELETE: LDAP users can no longer log in; the local admin still can', async () => {
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { control_plane: false } })).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 401);
    expect((await t.req('PUT', '/v1/cluster/ldap', { body: { control_plane: true } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster', bob)).status).toBe(200);
    expect((await t.req('DELETE', '/v1/cluster/ldap')).status).toBe(200);
    expectRsError(await t.req('GET', '/v1/cluster', bob), 401);
    expectRsError(await t.req('GET', '/v1/cluster', dave), 401);
    const g = await t.req('GET', '/v1/cluster/ldap');
    expect(g.json).toMatchObject({ control_plane: false, uris: [], bind_pass: '' });
    expect((await t.req('GET', '/v1/cluster', { auth: ADMIN })).status).toBe(200);
  });
});
