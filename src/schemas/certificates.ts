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

export const CertificateUpdate = Type.Object({
  name: Type.String({ description: 'Certificate name' }),
  certificate: Type.String({ minLength: 1, description: 'PEM certificate (chain, leaf first)' }),
  key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key' })),
}, { additionalProperties: false });
export type CertificateUpdate = Static<typeof CertificateUpdate>;

export const CertificatesUpdateRequest = Type.Object({
  certificates: Type.Array(CertificateUpdate, { minItems: 1 }),
}, { additionalProperties: false });

export const CertificateRotateRequest = Type.Object({
  name: Type.Optional(StrEnum(CERTIFICATE_NAMES)),
}, { additionalProperties: false });
