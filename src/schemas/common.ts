/** Small TypeBox helpers shared by the RS object schemas. */
import { Type, type TSchema } from '@sinclair/typebox';

/** A string enum as a union of literals (shows as `anyOf` of consts in /v1/jsonschema). */
export const StrEnum = <T extends string>(values: readonly T[], opts: { description?: string; default?: T } = {}) =>
  Type.Union(values.map((v) => Type.Literal(v)), opts);

/** Every property optional and no unknown property allowed: the body of a partial update (PUT). */
export const UpdateOf = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Partial(Type.Object(props), { additionalProperties: false, description });

/**
 * The largest uid an object may be created with: `{int: uid}` path segments read at most 9 digits
 * (api/params.ts parseUid), so an object with a larger uid could never be read, changed or deleted.
 */
export const MAX_UID = 999_999_999;
export const Uid = Type.Integer({ minimum: 1, maximum: MAX_UID });
export const PortNumber = Type.Integer({ minimum: 1024, maximum: 65535 });

/** Error body of every failed request (`cluster_Error` in the spec's openapi.json). */
export const ErrorBody = Type.Object({
  error_code: Type.String({ description: 'Semantic error code' }),
  description: Type.String({ description: 'Human-readable error description' }),
}, { description: 'An error response', additionalProperties: true });
