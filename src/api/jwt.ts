/**
 * POST /v1/users/authorize and POST /v1/users/refresh_jwt (requests/users/authorize.md,
 * refresh_jwt.md). Neither page names a permission and permissions.md has none for them, so any
 * management role but 'none' may call them (ANY_MANAGEMENT_ROLE, docs/notes-jwt.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { parseToken } from '../auth/authenticate.js';
import { RsError } from '../errors.js';
import { JWT_TTL, JwtAuthorize, JwtRefresh, JwtToken } from '../schemas/jwt-authorize.js';
import type { Services } from '../compose.js';
import { ANY_MANAGEMENT_ROLE } from './route-types.js';

/** Both bodies are optional (authorize.md: "The request body is optional"): no body means `{}`. */
const optionalBody = async (req: FastifyRequest) => {
  if (req.body === undefined) (req as { body: unknown }).body = {};
};

export const jwtRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/v1/users/authorize', {
    // Username and password from the Basic header or the body; a token alone is refused.
    config: { permission: ANY_MANAGEMENT_ROLE, access: 'login' },
    schema: { body: JwtAuthorize, response: { 200: JwtToken } },
    preValidation: optionalBody,
  }, async (req) => ({ access_token: await s.jwt.issue(req.caller!, req.body.ttl ?? JWT_TTL.default) }));

  app.post('/v1/users/refresh_jwt', {
    config: { permission: ANY_MANAGEMENT_ROLE },
    schema: { body: JwtRefresh, response: { 200: JwtToken } },
    preValidation: [
      // "Takes a valid token": a Basic login gets its token from authorize instead.
      async (req) => {
        if (parseToken(req.headers.authorization) === undefined) {
          throw new RsError('unauthorized', 'refresh_jwt takes a valid JWT in the Authorization header');
        }
      },
      optionalBody,
    ],
  }, async (req) => ({ access_token: await s.jwt.issue(req.caller!, req.body.ttl ?? JWT_TTL.default) }));
};
