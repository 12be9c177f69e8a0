/** Cluster certificates (objects/certificates.md, requests/cluster/certificates). */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

export const CERTIFICATE_NAMES = [
  'api', 'cm', 'proxy', 'syncer', 'metrics_exporter', 'ccs_internode_encryption', 'data_internode_encryption',
  'ldap_client', 'mtls_trusted_ca', 'sso_service', 'sso_issuer',
] as const;
export type CertificateName = (typeof CERTIFICATE_NAMES)[number];

/** Generated at cluster creation and required: they can be replaced or rotated, never deleted. */
export const GENERATED_CERTIFICATES: readonly CertificateName[] = [
  'api', 'cm', 'proxy', 'syncer', 'metrics_exporter', 'ccs_internode_encryption', 'data_internode_encryption',
];
/** Certificate-only entries (a CA or an IdP certificate): no private key. */
export const CERT_ONLY: readonly CertificateName[] = ['mtls_trusted_ca', 'sso_issuer'];

/**
 * The certificate object of objects/certificates.md, as GET /v1/jsonschema?object=certificates
 * shows it: `name` is one of the documented names. (Request bodies use CertificateUpdate, whose
 * `name` is any string, so that an unknown name is the documented 403, not a schema 400.)
 */
export const Certificate = Type.Object({
  name: StrEnum(CERTIFICATE_NAMES, { description: 'Certificate type' }),
  certificate: Type.String({ minLength: 1, description: 'The certificate in PEM format' }),
  key: Type.Optional(Type.String({ minLength: 1, description: 'The private key in PEM format' })),
}, { additionalProperties: false, description: 'An API object that represents a certificate used by a Redis Software cluster.' });

export const CertificateUpdate = Type.Object({
  name: Type.String({ description: 'Certificate name' }),
  certificate: Type.String({ minLength: 1, description: 'PEM certificate (chain, leaf first)' }),
  key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key' })),
}, { additionalProperties: false });
export type CertificateUpdate = Static<typeof CertificateUpdate>;

export const CertificatesUpdateRequest = Type.Object({
  certificates: Type.Array(CertificateUpdate, { minItems: 1 }),
}, { additionalProperties: false });

/**
 * Any string: a name the cluster does not generate (unknown ones included) is an "Unsupported
 * internal certificate rotation", 403 (rotate.md), decided by the service, not a schema 400.
 */
export const CertificateRotateRequest = Type.Object({
  name: Type.Optional(Type.String({ description: 'Certificate to rotate; omitted: every internal certificate' })),
}, { additionalProperties: false });
