/**
 * Resolve the caller of a request. Basic credentials are checked against the users in the
 * CCS (the username is the user's email, as in RS, or its name). JWT and LDAP plug in here
 * with the access-control issue.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import type { Collection } from '../store/object-store.js';
import type { Caller } from '../api/route-types.js';
import { verifyPassword } from './password.js';
import type { UserRecord } from './user-record.js';

export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** How long a verified (password, hash) pair is trusted without re-running scrypt. */
const VERIFIED_TTL_MS = 60_000;

export class Authenticator {
  /**
   * scrypt is deliberately slow (~50 ms of CPU), and RS clients send Basic credentials with
   * every request, so a successful check is remembered briefly. The key includes the stored
   * hash, so a password change or removal invalidates it at once.
   */
  private readonly verified = new Map<string, number>();

  constructor(private readonly users: Collection<UserRecord>) {}

  private async check(password: string, hash: string): Promise<boolean> {
    const key = `${hash}:${createHash('sha256').update(password).digest('base64')}`;
    const until = this.verified.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const ok = await verifyPassword(password, hash);
    if (ok) {
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(key, Date.now() + VERIFIED_TTL_MS);
    }
    return ok;
  }

  async authenticate(req: FastifyRequest): Promise<Caller> {
    const creds = parseBasic(req.headers.authorization);
    if (!creds) throw new RsError('unauthorized');
    const login = creds.username.toLowerCase();
    const user = (await this.users.list()).find((u) => u.email.toLowerCase() === login || u.name.toLowerCase() === login);
    // Hash even for an unknown user, so response time does not reveal which logins exist.
    const hashes = user?.password_hashes ?? ['scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='];
    let ok = false;
    for (const h of hashes) if (await this.check(creds.password, h)) ok = true;
    if (!user || !ok || user.status !== 'active') {
      req.log.info({ login: creds.username }, 'authentication failed');
      throw new RsError('unauthorized', 'Invalid credentials');
    }
    return { uid: user.uid, name: user.name, email: user.email, role: user.role };
  }
}
