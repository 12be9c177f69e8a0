/**
 * JSON Web Tokens for the REST API (requests/users/authorize.md, refresh_jwt.md): issued to a user
 * kept in the CCS, sent back as `Authorization: JWT <t>` (refresh_jwt.md) or `Bearer <t>`
 * (disable-basic-authentication.md); authenticate.ts hands both to `verifyToken`.
 *
 * - HS256 with one 256-bit secret kept in the CCS at `/jwt_signing_key`, created on first issue
 *   with a create-only write, so nodes issuing concurrently still agree on one key. Every node
 *   reads it from the CCS, so a token issued by one node works on all. No route returns it.
 * - A token only names its user (`uid`, a string as in RS's example token). Existence, status and
 *   role are read from the current `/users/<uid>` record at every use, so deleting or locking a
 *   user, or changing their role, takes effect at once rather than when the token expires. The
 *   status is computed with `userStatus()` (login-policy.ts) under the cluster's current policy,
 *   so a password that expires by time, or a lock that runs out, counts without any write.
 * - `rotateKey()` replaces the secret; every token issued before fails at once. The spec documents
 *   no route for it, so openrs adds none (docs/notes-jwt.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors, jwtVerify, SignJWT } from 'jose';
import { RsError } from '../errors.js';
import type { Caller } from '../api/route-types.js';
import { JWT_TTL } from '../schemas/jwt-authorize.js';
import type { Collection, Singleton } from '../store/object-store.js';
import { KvConflictError } from '../store/kv.js';
import { rsTime, type Clock } from '../util/clock.js';
import type { TokenVerifier } from './authenticate.js';
import { DEFAULT_LOGIN_POLICY, userStatus, type LoginPolicy } from './login-policy.js';
import type { UserRecord } from './user-record.js';

/** The CCS key holding the signing secret. */
export const JWT_KEY = '/jwt_signing_key';

/** What `/jwt_signing_key` holds. Internal: never part of any API object. */
export interface JwtSigningKey {
  /** Written into each token's header, for diagnosis only: verification always uses `secret`. */
  kid: string;
  /** 32 random bytes, base64url. */
  secret: string;
  created: string;
}

const ALG = 'HS256';
/** Far above any token we issue (~250 bytes); longer input is rejected before any parsing. */
const MAX_TOKEN_LENGTH = 4096;
const UID_CLAIM = /^[1-9][0-9]{0,14}$/;

const secretOf = (k: JwtSigningKey): Uint8Array => new Uint8Array(Buffer.from(k.secret, 'base64url'));

/** The caller a user record stands for (the same mapping LocalUsers applies to Basic logins). */
export const callerOf = (u: UserRecord): Caller => ({ uid: u.uid, name: u.name, email: u.email, role: u.role, role_uids: u.role_uids });

/**
 * Only active users hold tokens; refresh_jwt.md: 401 when "the password has expired". The status
 * is the computed one (lock duration, password age), not the stored hint.
 */
function assertActive(user: UserRecord, policy: LoginPolicy, nowMs: number): void {
  const status = userStatus(user, policy, nowMs);
  if (status === 'password_expired') throw new RsError('password_expired');
  if (status !== 'active') throw new RsError('unauthorized', `User '${user.name}' is ${status}`);
}

export class JwtAuth implements TokenVerifier {
  constructor(
    private readonly signingKey: Singleton<JwtSigningKey>,
    private readonly users: Collection<UserRecord>,
    private readonly clock: Clock,
    /** The cluster's current login policy (lockout duration, password expiration), read at each use. */
    private readonly loginPolicy: () => Promise<LoginPolicy> = async () => DEFAULT_LOGIN_POLICY,
  ) {}

  private async checkActive(user: UserRecord): Promise<void> {
    assertActive(user, await this.loginPolicy(), this.clock.now().getTime());
  }

  /**
   * A token for an authenticated caller. Only users kept in the CCS get one: the token is
   * re-checked against `/users/<uid>` at each use, and a caller known only to an external
   * directory (LDAP) has no such record.
   */
  async issue(caller: Caller, ttl: number = JWT_TTL.default): Promise<string> {
    const user = (await this.users.get(caller.uid))?.value;
    if (!user || user.name !== caller.name || user.email !== caller.email) {
      throw new RsError('unauthorized', 'JWT authorization is available only to users stored in the cluster');
    }
    await this.checkActive(user);
    return this.sign(user.uid, ttl, user.token_key);
  }

  /** Sign a token for `uid` (and its user's token_key), valid `ttl` seconds from now. No user check: `issue` does that. */
  async sign(uid: number, ttl: number, tokenKey?: string): Promise<string> {
    const key = await this.currentKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({ uid: String(uid), ...(tokenKey ? { uk: tokenKey } : {}) })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: key.kid })
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      // A random id, so two tokens issued in the same second (e.g. a quick refresh) still differ.
      .setJti(randomUUID())
      .sign(secretOf(key));
  }

  /** TokenVerifier: a valid token of a user who still exists and is active → that user, as of now. */
  async verifyToken(token: string, req: FastifyRequest): Promise<Caller> {
    const { uid, uk } = await this.claims(token).catch((e: unknown) => {
      if (e instanceof RsError) req.log.info({ error_code: e.error_code }, 'JWT authentication failed');
      throw e;
    });
    const user = await this.activeUser(uid);
    // Issued to an earlier user of this uid (deleted since): not this one's.
    if ((user.token_key ?? '') !== (uk ?? '')) throw new RsError('unauthorized', 'The token\'s user no longer exists');
    return callerOf(user);
  }

  /** Algorithm, signature (current key only), expiry and claims; returns the token's uid. */
  async verify(token: string): Promise<number> {
    return (await this.claims(token)).uid;
  }

  private async claims(token: string): Promise<{ uid: number; uk?: string }> {
    if (token.length > MAX_TOKEN_LENGTH) throw new RsError('invalid_token', 'The token is too long');
    // No key yet means no token was ever issued: do not create one for an unauthenticated request.
    const key = (await this.signingKey.get())?.value;
    if (!key) throw new RsError('invalid_token');
    let payload: Record<string, unknown>;
    try {
      const res = await jwtVerify(token, secretOf(key), {
        algorithms: [ALG],
        typ: 'JWT',
        currentDate: this.clock.now(),
        requiredClaims: ['iat', 'exp', 'uid'],
      });
      payload = res.payload;
    } catch (e) {
      // jose checks the signature before the claims: only a genuine token can be "expired".
      if (e instanceof errors.JWTExpired) throw new RsError('token_expired');
      if (e instanceof errors.JWSSignatureVerificationFailed) {
        throw new RsError('invalid_token', 'The token signature does not verify with the cluster\'s current key');
      }
      if (e instanceof errors.JOSEError) throw new RsError('invalid_token', `The token is invalid: ${e.message}`);
      throw e;
    }
    const uid = payload.uid;
    if (typeof uid !== 'string' || !UID_CLAIM.test(uid)) throw new RsError('invalid_token', 'The token has no valid uid claim');
    return { uid: Number(uid), ...(typeof payload.uk === 'string' ? { uk: payload.uk } : {}) };
  }

  /** Replace the signing key: every token issued so far stops working, on every node. */
  async rotateKey(): Promise<void> {
    await this.signingKey.update(() => this.newKey());
  }

  /** The user behind a token, re-read at each use. */
  private async activeUser(uid: number): Promise<UserRecord> {
    const user = (await this.users.get(uid))?.value;
    if (!user) throw new RsError('unauthorized', 'The token\'s user no longer exists');
    await this.checkActive(user);
    return user;
  }

  private async currentKey(): Promise<JwtSigningKey> {
    const cur = await this.signingKey.get();
    if (cur) return cur.value;
    const fresh = this.newKey();
    try {
      await this.signingKey.put(fresh, 0);
      return fresh;
    } catch (e) {
      // Another request or node created it first: use theirs.
      if (!(e instanceof KvConflictError)) throw e;
      const won = await this.signingKey.get();
      if (!won) throw e;
      return won.value;
    }
  }

  private newKey(): JwtSigningKey {
    return { kid: randomUUID(), secret: randomBytes(32).toString('base64url'), created: rsTime(this.clock.now()) };
  }
}
