/** The SSO object (objects/sso.md; requests/cluster/sso.md). openapi.json has no schema for it. */
import { Type, type Static } from '@sinclair/typebox';

const Url = (description: string) => Type.String({ maxLength: 2048, description });

const issuerProps = {
  id: Type.String({ maxLength: 1024, description: 'Unique ID of the issuer side (example: "urn:sso:example:idp")' }),
  login_url: Url('SSO login URL'),
  logout_url: Url('SSO logout URL'),
};

export const SsoIssuer = Type.Object({
  ...Type.Partial(Type.Object(issuerProps)).properties,
  metadata: Type.Optional(Type.String({ description: 'Base64 encoded IdP metadata (read-only)' })),
}, { description: 'Issuer related configuration' });

export const SsoSaml2 = Type.Object({
  entity_id: Type.String({ description: 'Service entity ID (read-only)' }),
  acs_url: Type.String({ description: 'Assertion Consumer Service URL (read-only)' }),
  slo_url: Type.String({ description: 'Single Logout URL (read-only)' }),
}, { description: 'SAML2 service configuration (read-only)' });

export const SsoService = Type.Object({
  address: Type.Optional(Url('External service address used for SSO. By default, the cluster name with the Cluster Manager port')),
  saml2: Type.Optional(SsoSaml2),
}, { description: 'Service related configuration' });

export const Sso = Type.Object({
  control_plane: Type.Boolean({ default: false, description: 'If true, enables single sign-on (SSO) for the control plane' }),
  enforce_control_plane: Type.Boolean({ default: false, description: 'If true, enforce SSO login for the control plane for non-admin users' }),
  protocol: Type.Literal('saml2', { description: 'SSO protocol to use' }),
  issuer: SsoIssuer,
  service: SsoService,
}, { description: 'An API object that represents single sign-on (SSO) configuration in the cluster.' });
export type Sso = Static<typeof Sso>;

/**
 * PUT /v1/cluster/sso: "an SSO object with updated fields". Read-only parts (issuer.metadata,
 * service.saml2) are accepted by the schema so a GET body can be sent back, and refused by the
 * service when they differ.
 */
export const SsoUpdate = Type.Partial(Type.Object({
  control_plane: Sso.properties.control_plane,
  enforce_control_plane: Sso.properties.enforce_control_plane,
  protocol: Sso.properties.protocol,
  issuer: Type.Object({ ...Type.Partial(Type.Object(issuerProps)).properties, metadata: Type.Optional(Type.String()) }, { additionalProperties: false }),
  service: Type.Object({ address: Type.Optional(Url('External service address')), saml2: Type.Optional(Type.Unknown()) }, { additionalProperties: false }),
}), { additionalProperties: false });
export type SsoUpdate = Static<typeof SsoUpdate>;

/** POST /v1/cluster/sso/saml/metadata/idp. */
export const IdpMetadata = Type.Object({
  idp_metadata: Type.String({ minLength: 1, description: 'Base64-encoded SAML2 identity provider metadata XML' }),
}, { additionalProperties: false });
export type IdpMetadata = Static<typeof IdpMetadata>;

/** What `/sso` keeps: the settable, non-enabling part of the object. */
export interface SsoRecord {
  issuer?: { id?: string; login_url?: string; logout_url?: string };
  service?: { address?: string };
}
