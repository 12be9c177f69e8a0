/**
 * A database's own proxy certificate (openapi.json BdbProxyCertificate, BdbProxyCertificateSetRequest;
 * documented nowhere else): what the database's TLS endpoint presents instead of the cluster's `proxy`
 * certificate. `private_key` is write-only: no answer carries it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

export const BdbProxyCertificate = Type.Object({
  bdb_uid: Type.String({ description: 'BDB UID that this certificate belongs to (read-only)' }),
  cert: Type.String({ description: 'PEM-encoded certificate' }),
  not_before: Type.String({ format: 'date-time', description: 'Date the certificate is valid from. Parsed from the certificate (read-only).' }),
  not_after: Type.String({ format: 'date-time', description: 'Date the certificate is valid until. Parsed from the certificate (read-only).' }),
}, { additionalProperties: false, description: 'Bdb proxy certificate' });
export type BdbProxyCertificate = Static<typeof BdbProxyCertificate>;

export const BdbProxyCertificateSetRequest = Type.Object({
  cert: Type.String({ minLength: 1, description: 'PEM-encoded certificate (chain, leaf first)' }),
  private_key: Type.String({ minLength: 1, description: 'PEM-encoded private key' }),
}, { additionalProperties: false, description: 'Request body for setting a bdb proxy certificate' });
export type BdbProxyCertificateSetRequest = Static<typeof BdbProxyCertificateSetRequest>;

/** A positive integer query value (1-based page, page size). */
const Positive = Type.String({ pattern: '^[1-9][0-9]{0,8}$' });

export const BdbCertificatesQuery = Type.Object({
  page: Type.Optional(Positive),
  page_size: Type.Optional(Positive),
  expires_before: Type.Optional(Type.String({ description: 'Certificates whose not_after is before this ISO 8601 date-time' })),
  tls_mode: Type.Optional(StrEnum(['disabled', 'replica_ssl', 'enabled'])),
});
export type BdbCertificatesQuery = Static<typeof BdbCertificatesQuery>;
