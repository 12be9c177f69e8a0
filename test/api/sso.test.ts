/**
 * Single sign-on routes (requests/cluster/sso.md, objects/sso.md) through real HTTPS on a real
 * node. openrs has no SAML yet: SSO can be described but not enabled, and every route that would
 * need it answers the page's own errors (missing_param, missing_certificate,
 * saml_metadata_parsing_error) or 400 unsupported_option.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/certs/x509.js';
import type { Resp } from '../helpers/https-client.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { expectRsError } from '../helpers/rs-error.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

const DEFAULT = {
  control_plane: false,
  enforce_control_plane: false,
  protocol: 'saml2',
  issuer: {},
  service: { address: 'https://cluster.test.local:8443' },
};
const ISSUER = { id: 'urn:sso:example:idp', login_url: 'https://idp.example.com/sso/saml', logout_url: 'https://idp.example.com/sso/slo' };
const IDP_XML = '<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:sso:example:idp"/>';

describe('GET /v1/cluster/sso', () => {
  it('returns the SSO object in its documented default state', async () => {
    const r = await t.req('GET', '/v1/cluster/sso');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual(DEFAULT);
  });

  it('view_sso: admin and user_manager read it; config_sso (admin only, permissions.ts) to change it', async () => {
    const um = { user: 'um@test.local', pass: 'User-manager-1' };
    const cv = { user: 'cv@test.local', pass: 'Cluster-viewer-1' };
    expect((await t.req('POST', '/v1/users', { body: { email: um.user, password: um.pass, role: 'user_manager' } })).status).toBe(200);
    expect((await t.req('POST', '/v1/users', { body: { email: cv.user, password: cv.pass, role: 'cluster_viewer' } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster/sso', { auth: um })).json).toEqual(DEFAULT);
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { auth: um, body: {} }), 403, 'insufficient_permissions');
    expectRsError(await t.req('DELETE', '/v1/cluster/sso', { auth: um }), 403, 'insufficient_permissions');
    expectRsError(await t.req('GET', '/v1/cluster/sso', { auth: cv }), 403, 'insufficient_permissions');
    expectRsError(await t.req('GET', '/v1/cluster/sso/saml/metadata/sp', { auth: cv }), 403, 'insufficient_permissions');
  });
});

describe('PUT / DELETE /v1/cluster/sso', () => {
  it('stores issuer and service address while SSO stays off; DELETE clears them', async () => {
    const put = await t.req('PUT', '/v1/cluster/sso', { body: { control_plane: false, protocol: 'saml2', issuer: ISSUER, service: { address: 'https://rs.example.com:8443' } } });
    expect(put.status, put.text).toBe(200);
    expect((await t.req('GET', '/v1/cluster/sso')).json).toEqual({ ...DEFAULT, issuer: ISSUER, service: { address: 'https://rs.example.com:8443' } });
    expect((await t.req('PUT', '/v1/cluster/sso', { body: { issuer: { logout_url: 'https://idp.example.com/logout' } } })).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster/sso')).json.issuer).toEqual({ ...ISSUER, logout_url: 'https://idp.example.com/logout' });
    expect((await t.req('DELETE', '/v1/cluster/sso')).status).toBe(200);
    expect((await t.req('GET', '/v1/cluster/sso')).json).toEqual(DEFAULT);
  });

  it('refuses read-only parts and unknown fields', async () => {
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { issuer: { metadata: 'PD94bWw+' } } }), 400, 'read_only_field');
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { service: { saml2: { entity_id: 'x' } } } }), 400, 'read_only_field');
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { protocol: 'oidc' } }), 400, 'invalid_schema');
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { nonsense: true } }), 400, 'invalid_schema');
  });

  it('enabling: missing_param without an issuer, missing_certificate without sso_service, then unsupported_option', async () => {
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { control_plane: true } }), 400, 'missing_param');
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { control_plane: true, issuer: ISSUER } }), 406, 'missing_certificate');
    expectRsError(await t.req('PUT', '/v1/cluster/sso', { body: { enforce_control_plane: true, issuer: ISSUER } }), 406, 'missing_certificate');
    // Nothing was stored by the refused requests.
    expect((await t.req('GET', '/v1/cluster/sso')).json).toEqual(DEFAULT);

    const pair = await generateSelfSigned({ commonName: 'sso.cluster.test.local', altNames: ['sso.cluster.test.local'], ipAddresses: [] });
    const up = await t.req('PUT', '/v1/cluster/certificates', { body: { certificates: [{ name: 'sso_service', certificate: pair.certificate, key: pair.key }] } });
    expect(up.status, up.text).toBe(200);
    try {
      const r = await t.req('PUT', '/v1/cluster/sso', { body: { control_plane: true, issuer: ISSUER } });
      expectRsError(r, 400, 'unsupported_option');
      expect(r.json.description).toMatch(/SAML/);
      expect((await t.req('GET', '/v1/cluster/sso')).json.control_plane).toBe(false);
      expectRsError(await t.req('GET', '/v1/cluster/sso/saml/metadata/sp'), 400, 'unsupported_option');
      expectRsError(await t.req('POST', '/v1/cluster/sso/saml/metadata/idp', { body: { idp_metadata: Buffer.from(IDP_XML).toString('base64') } }), 400, 'unsupported_option');
    } finally {
      expect((await t.req('DELETE', '/v1/cluster/certificates/sso_service')).status).toBe(200);
    }
  });
});

describe('SAML metadata routes', () => {
  it('GET .../metadata/sp → 406 missing_certificate while SSO is not configured', async () => {
    expectRsError(await t.req('GET', '/v1/cluster/sso/saml/metadata/sp'), 406, 'missing_certificate');
  });

  it('POST .../metadata/idp: not base64 XML → 400 saml_metadata_parsing_error, else 406 missing_certificate', async () => {
    expectRsError(await t.req('POST', '/v1/cluster/sso/saml/metadata/idp', { body: { idp_metadata: 'not base64!' } }), 400, 'saml_metadata_parsing_error');
    expectRsError(await t.req('POST', '/v1/cluster/sso/saml/metadata/idp', { body: { idp_metadata: Buffer.from('hello').toString('base64') } }), 400, 'saml_metadata_parsing_error');
    expectRsError(await t.req('POST', '/v1/cluster/sso/saml/metadata/idp', { body: {} }), 400, 'invalid_schema');
    expectRsError(await t.req('POST', '/v1/cluster/sso/saml/metadata/idp', { body: { idp_metadata: Buffer.from(IDP_XML).toString('base64') } }), 406, 'missing_certificate');
    expect((await t.req('GET', '/v1/cluster/sso')).json.issuer).toEqual({});
  });
});
