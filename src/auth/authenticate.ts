/**
 * Resolve the caller of a request. `Authorization: JWT <token>` / `Bearer <token>` goes to the
 * token verifier; Basic credentials go to each Basic verifier in order (local users, then LDAP):
 * the first that recognises the login decides. Anything else → 401. When the cluster turns Basic
 * off, Basic headers are refused (401) except on `access: 'login'` routes.
 */
import type { FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import type { Caller } from '../api/route-types.js';

export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function parseToken(header: string | undefined): string | undefined {
  const m = header ? /^(?:JWT|Bearer)\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

/**
 * Checks Basic credentials. Returns the caller, or `undefined` when the login is not one this
 * verifier knows (so the next one is asked). Throws RsError (401) when it knows the login but
 * the credentials are wrong or the account may not log in.
 */
export interface BasicVerifier {
  verifyBasic(login: string, password: string, req: FastifyRequest): Promise<Caller | undefined>;
}

/** Checks a bearer token (JWT); throws RsError (401) when it is invalid or expired. */
export interface TokenVerifier {
  verifyToken(token: string, req: FastifyRequest): Promise<Caller>;
}

export class Authenticator {
  constructor(
    private readonly basic: BasicVerifier[],
    private readonly token?: TokenVerifier,
    /** Told when no verifier knows a login (e.g. to write a user_login_failed event). */
    private readonly onUnknownLogin?: (login: string) => void,
    /** False when the cluster refuses Basic credentials (control_plane_basic_authentication). */
    private readonly basicEnabled?: () => Promise<boolean>,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Caller> {
    const header = req.headers.authorization;
    const token = parseToken(header);
    if (token !== undefined) {
      if (!this.token) throw new RsError('unauthorized', 'Token authentication is not available');
      return this.token.verifyToken(token, req);
    }
    const creds = parseBasic(header);
    if (!creds) throw new RsError('unauthorized');
    // disable-basic-authentication.md: with Basic off, clients get a JWT from POST
    // /v1/users/authorize (access 'login', which still takes a username and password) and use it
    // everywhere else. Refused before any password check, so Basic cannot even be used to guess.
    if (this.basicEnabled && req.routeOptions?.config?.access !== 'login' && !(await this.basicEnabled())) {
      throw new RsError('unauthorized', 'Basic authentication is disabled on this cluster (control_plane_basic_authentication); use a JWT from POST /v1/users/authorize');
    }
    return this.verifyCredentials(creds.username, creds.password, req);
  }

  /** A username and password, from a Basic header or a body (POST /v1/users/authorize), → the caller or 401. */
  async verifyCredentials(login: string, password: string, req: FastifyRequest): Promise<Caller> {
    for (const v of this.basic) {
      const caller = await v.verifyBasic(login, password, req);
      if (caller) return caller;
    }
    req.log.info({ login }, 'authentication failed: unknown user');
    this.onUnknownLogin?.(login);
    throw new RsError('unauthorized', 'Invalid credentials');
  }
}
