/**
 * The OCSP configuration and status objects (objects/ocsp.md, objects/ocsp_status.md; openapi.json
 * OcspConfig, OcspStatus). Field order and defaults as in the real capture (fixtures ocsp.json).
 */
import { Type, type Static } from '@sinclair/typebox';

export const Ocsp = Type.Object({
  ocsp_functionality: Type.Boolean({ default: false, description: 'Enables or turns off OCSP for the cluster' }),
  query_frequency: Type.Integer({ minimum: 60, maximum: 86400, default: 3600, description: 'Seconds between OCSP queries to check the certificate status' }),
  recovery_frequency: Type.Integer({ minimum: 60, maximum: 86400, default: 60, description: 'Seconds between retries after the responder returns an invalid status' }),
  recovery_max_tries: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Retries before the validation query fails and invalidates the certificate' }),
  responder_url: Type.String({ description: 'The OCSP server URL embedded in the proxy certificate, if any (read-only)' }),
  response_timeout: Type.Integer({ minimum: 1, maximum: 60, default: 1, description: 'Seconds to wait for a response before timing out' }),
});
export type Ocsp = Static<typeof Ocsp>;

/**
 * PUT /v1/ocsp: "an OCSP configuration object with updated fields". responder_url is accepted by the
 * schema so that a GET body can be sent back; the service refuses a value that differs.
 */
export const OcspUpdate = Type.Partial(Ocsp, { additionalProperties: false });
export type OcspUpdate = Static<typeof OcspUpdate>;

/** What the CCS keeps: the settings a PUT may change (responder_url comes from the certificate). */
export type OcspRecord = Partial<Pick<Ocsp, 'query_frequency' | 'recovery_frequency' | 'recovery_max_tries' | 'response_timeout'>>;

export const OcspStatus = Type.Object({
  cert_status: Type.Optional(Type.String({ description: "The proxy certificate's status: GOOD/REVOKED/UNKNOWN (read-only)" })),
  responder_url: Type.Optional(Type.String({ description: 'The OCSP responder URL this status came from (read-only)' })),
  next_update: Type.Optional(Type.String({ description: 'Expected time of the next status update (read-only)' })),
  produced_at: Type.Optional(Type.String({ description: 'When the responder signed this response (read-only)' })),
  revocation_time: Type.Optional(Type.String({ description: 'When the certificate was revoked or placed on hold (read-only)' })),
  this_update: Type.Optional(Type.String({ description: 'When the responder last confirmed the status (read-only)' })),
});
export type OcspStatus = Static<typeof OcspStatus>;
