/**
 * Bodies of POST /v1/users/authorize and POST /v1/users/refresh_jwt (objects/jwt_authorize.md,
 * requests/users/authorize.md, requests/users/refresh_jwt.md).
 */
import { Type } from '@sinclair/typebox';

/** ttl range and default from objects/jwt_authorize.md (and authorize.md's request body text). */
export const JWT_TTL = { default: 300, min: 1, max: 86400 } as const;

const Ttl = Type.Integer({
  minimum: JWT_TTL.min,
  maximum: JWT_TTL.max,
  description: `Time to live - the amount of time in seconds the token will be valid (default: ${JWT_TTL.default})`,
});

/**
 * objects/jwt_authorize.md. The object marks username and password required, but authorize.md
 * takes them from the Authorization header and calls the body optional, so both are optional
 * here: when present they are verified (see `access: 'login'` in api/route-types.ts).
 */
export const JwtAuthorize = Type.Object({
  username: Type.Optional(Type.String({ description: "The user's username" })),
  password: Type.Optional(Type.String({ description: "The user's password" })),
  ttl: Type.Optional(Ttl),
}, { additionalProperties: false, description: 'User authentication or JW token refresh request' });

/** refresh_jwt.md's request body table lists only `ttl`: the caller is the token's user. */
export const JwtRefresh = Type.Object({ ttl: Type.Optional(Ttl) }, { additionalProperties: false });

export const JwtToken = Type.Object({
  access_token: Type.String({ description: 'The generated JSON Web Token' }),
});
