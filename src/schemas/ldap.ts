/**
 * The cluster LDAP configuration (objects/ldap.md, requests/cluster/ldap.md) and the LDAP
 * mapping object (objects/ldap_mapping.md, requests/ldap_mappings). Constraints follow the
 * spec's openapi.json (`Ldap`, `LdapQuery`, `LdapMappingBody`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

/** What GET returns instead of a stored bind password (openapi: "Returned as a masked value on GET"). */
export const MASKED_PASSWORD = '***';

/** openapi `Ldap.uris.items.pattern`: scheme, host and port only. */
export const LDAP_URI_PATTERN = '^(ldap|ldaps)://([a-zA-Z0-9.\\-%]+|\\[[a-fA-F0-9:%]+\\]):[0-9]{1,5}$';

/**
 * An LDAP search (openapi `LdapQuery`): either empty (`{}` = not set) or all three fields.
 * The empty form is how GET reports an unset query and how PUT clears one.
 */
export const LdapQuery = Type.Union([
  Type.Object({}, { additionalProperties: false, maxProperties: 0 }),
  Type.Object({
    base: Type.String({ description: 'The DN of the entry at which to start the search' }),
    filter: Type.String({ description: 'An RFC-4515 string representation of the filter to apply in the search' }),
    scope: StrEnum(['base', 'one', 'subtree'] as const, {
      description: '"base" (the base object itself), "one" (its immediate children) or "subtree" (the base object and all its descendants)',
    }),
  }, { additionalProperties: false }),
], { description: 'An LDAP search query; {} when not set' });
export type LdapQuery = Static<typeof LdapQuery>;
export type LdapSearch = { base: string; filter: string; scope: 'base' | 'one' | 'subtree' };

const ldapProps = {
  bind_dn: Type.String({ description: 'DN used when binding with the LDAP server to run queries' }),
  bind_pass: Type.String({ description: `Password used when binding with the LDAP server to run queries; GET returns "${MASKED_PASSWORD}" when one is set` }),
  ca_cert: Type.String({ description: 'PEM-encoded CA certificate(s) used to validate TLS connections to the LDAP server' }),
  cache_ttl: Type.Integer({ minimum: 0, default: 300, description: 'Maximum TTL (in seconds) of cached entries' }),
  cba: Type.Boolean({ default: false, description: 'Whether to allow LDAP as an identity source for certificate-based authentication' }),
  cba_identity_oid: Type.String({ description: 'The certificate subject OID to use when cba_identity_source is subject_oid' }),
  cba_identity_source: StrEnum(['subject_cn', 'subject_oid'] as const, { description: 'The certificate subject identity source to use for LDAP lookup' }),
  control_plane: Type.Boolean({ default: false, description: 'Use LDAP for user authentication/authorization in the control plane' }),
  data_plane: Type.Boolean({ default: false, description: 'Use LDAP for user authentication/authorization in the data plane' }),
  directory_timeout_s: Type.Integer({ minimum: 5, maximum: 60, default: 5, description: 'The connection timeout to the LDAP server when authenticating a user, in seconds' }),
  dn_group_attr: Type.String({ description: 'Attribute of the user entry listing the groups the user belongs to (mutually exclusive with dn_group_query)' }),
  dn_group_query: LdapQuery,
  starttls: Type.Boolean({ default: false, description: 'Use StartTLS negotiation for the LDAP connection' }),
  uris: Type.Array(Type.String({ pattern: LDAP_URI_PATTERN }), { description: 'URIs of LDAP servers that only contain the schema, host, and port' }),
  user_dn_query: LdapQuery,
  user_dn_template: Type.String({ description: 'Template mapping the username to the user DN; "%u" is replaced with the username (mutually exclusive with user_dn_query)' }),
};

/** The LDAP object as GET returns it (bind_pass masked). */
export const Ldap = Type.Object({
  ...ldapProps,
  cba_identity_oid: Type.Optional(ldapProps.cba_identity_oid),
  cba_identity_source: Type.Optional(ldapProps.cba_identity_source),
}, { description: "An API object that represents the cluster's LDAP configuration." });
export type Ldap = Static<typeof Ldap>;

/** PUT /v1/cluster/ldap body: a partial update of the stored configuration. */
export const LdapUpdate = Type.Partial(Type.Object(ldapProps), { additionalProperties: false });
export type LdapUpdate = Static<typeof LdapUpdate>;

/** openapi `LdapMappingBody.name.pattern`. */
export const LDAP_MAPPING_NAME_PATTERN = '^[a-zA-Z0-9_ \\[\\]()@,.;#-]+$';
export const LDAP_MAPPING_NAME_MAX = 255;
/** openapi `LdapMappingBody.email.pattern`: empty or an address. */
const EMAIL_PATTERN = '(^$|^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9-.]+$)';

const mappingProps = {
  account_id: Type.Integer({ minimum: 0, description: 'SM account ID' }),
  bdbs_email_alerts: Type.Array(Type.String(), { uniqueItems: true, description: 'UIDs of databases that associated email addresses will receive alerts for' }),
  cluster_email_alerts: Type.Boolean({ description: 'Activate cluster email alerts for an associated email' }),
  dn: Type.String({ minLength: 1, pattern: '\\S', description: "An LDAP group's distinguished name" }),
  email: Type.String({ pattern: EMAIL_PATTERN, description: 'Email address used for alerts (if set)' }),
  email_alerts: Type.Boolean({ default: true, description: 'Activate email alerts for an associated email' }),
  name: Type.String({ maxLength: LDAP_MAPPING_NAME_MAX, pattern: LDAP_MAPPING_NAME_PATTERN, description: "LDAP mapping's name" }),
  role_uids: Type.Array(Type.Integer(), { minItems: 1, description: 'List of role UIDs associated with the LDAP group' }),
};

/** The LDAP mapping object (GET /v1/jsonschema?object=ldap_mapping and every response). */
export const LdapMapping = Type.Object({
  uid: Type.Integer({ minimum: 1, description: "LDAP mapping's unique ID" }),
  name: mappingProps.name,
  dn: mappingProps.dn,
  email: mappingProps.email,
  email_alerts: mappingProps.email_alerts,
  role_uids: mappingProps.role_uids,
  bdbs_email_alerts: mappingProps.bdbs_email_alerts,
  cluster_email_alerts: mappingProps.cluster_email_alerts,
  account_id: Type.Optional(mappingProps.account_id),
  action_uid: Type.Optional(Type.String({ description: 'Action UID (read-only)' })),
}, { description: 'An API object that represents a mapping between an LDAP group and roles.' });
export type LdapMapping = Static<typeof LdapMapping>;

/**
 * Request bodies check types only for name, dn and role_uids: their values are checked by the
 * service so that a bad one answers with the documented code (invalid_name_param,
 * invalid_dn_param, invalid_role_uids_param, missing_field) rather than a generic invalid_schema.
 */
const mappingBody = {
  ...mappingProps,
  name: Type.String(),
  dn: Type.String(),
  role_uids: Type.Array(Type.Integer()),
};
export const LdapMappingCreate = Type.Partial(Type.Object(mappingBody), { additionalProperties: false });
export type LdapMappingCreate = Static<typeof LdapMappingCreate>;
/** PUT body; `uid` is accepted (a GET body sent back) but must name the mapping in the path. */
export const LdapMappingUpdate = Type.Partial(Type.Object({ ...mappingBody, uid: Type.Integer() }), { additionalProperties: false });
export type LdapMappingUpdate = Static<typeof LdapMappingUpdate>;
