/** Basic credentials of users kept in the CCS (`/users/<uid>`). */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import type { Collection } from '../store/object-store.js';
import type { Caller } from '../api/route-types.js';
import type { BasicVerifier } from './authenticate.js';
import { verifyPassword } from './password.js';
import type { UserRecord } from './user-record.js';

/** How long a verified (password, hash) pair is trusted without re-running the hash. */
const VERIFIED_TTL_MS = 60_000;
/** Hashed for unknown logins too, so response time does not reveal which logins exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export class LocalUsers implements BasicVerifier {
  /**
   * Password hashing is deliberately slow (~50 ms of CPU), and RS clients send Basic credentials
   * with every request, so a successful check is remembered briefly. The key includes the stored
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

  async findByLogin(login: string): Promise<UserRecord | undefined> {
    const l = login.toLowerCase();
    return (await this.users.list()).find((u) => u.email.toLowerCase() === l || u.name.toLowerCase() === l);
  }

  async verifyBasic(login: string, password: string, req: FastifyRequest): Promise<Caller | undefined> {
    const user = await this.findByLogin(login);
    if (!user || user.auth_method !== 'regular') {
      await verifyPassword(password, DUMMY_HASH);
      return undefined;
    }
    let ok = false;
    for (const h of user.password_hashes) if (await this.check(password, h)) ok = true;
    if (!ok || user.status !== 'active') {
      req.log.info({ login }, 'authentication failed');
      throw new RsError('unauthorized', 'Invalid credentials');
    }
    return { uid: user.uid, name: user.name, email: user.email, role: user.role };
  }
}
