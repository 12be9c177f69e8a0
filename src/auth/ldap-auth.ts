/**
 * Basic credentials checked against LDAP (security/access-control/ldap): the second verifier,
 * asked only for logins the local users do not know, and only while the LDAP configuration has
 * `control_plane` enabled. The user's groups are matched against the LDAP mappings; the caller
 * gets the highest management role of the matched mappings' roles.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import type { Caller } from '../api/route-types.js';
import type { LdapConfigService } from '../services/ldap-config-service.js';
import type { LdapMappingService } from '../services/ldap-mapping-service.js';
import type { BasicVerifier } from './authenticate.js';
import { DirectoryUnavailableError, lookupUser, type DirectoryResult } from './ldap-directory.js';

/**
 * Upper bound on how long a successful LDAP login is remembered, whatever `cache_ttl` says:
 * RS clients send Basic credentials with every request, but a password changed or an account
 * disabled in the directory must stop working soon.
 */
export const LDAP_CACHE_MAX_MS = 60_000;
/** uid reported for LDAP callers: they have no local user record (local uids start at 1). */
export const LDAP_CALLER_UID = 0;

type Found = Extract<DirectoryResult, { kind: 'ok' }>;

export class LdapAuth implements BasicVerifier {
  /** Successful lookups by (config revision, login, password) digest. Mappings are re-read each time. */
  private readonly cache = new Map<string, { found: Found; until: number }>();
  /** Lookups in flight, so a burst of requests with the same credentials costs one LDAP round. */
  private readonly pending = new Map<string, Promise<DirectoryResult>>();

  constructor(
    private readonly config: LdapConfigService,
    private readonly mappings: LdapMappingService,
    private readonly lookup: typeof lookupUser = lookupUser,
    private readonly now: () => number = Date.now,
  ) {}

  async verifyBasic(login: string, password: string, req: FastifyRequest): Promise<Caller | undefined> {
    const active = await this.config.active();
    if (!active || login === '') return undefined;
    const cfg = active.value;
    // An empty password would make the user bind anonymous (RFC 4513 §5.1.2), i.e. "succeed".
    if (password === '') throw new RsError('unauthorized', 'Invalid credentials');

    const key = createHash('sha256').update(`${active.modRevision}\0${login}\0${password}`).digest('base64');
    const ttl = Math.min(cfg.cache_ttl * 1000, LDAP_CACHE_MAX_MS);
    let found = this.cached(key);
    if (!found) {
      let result: DirectoryResult;
      try {
        result = await this.dedup(key, () => this.lookup(cfg, login, password));
      } catch (e) {
        if (!(e instanceof DirectoryUnavailableError)) throw e;
        req.log.warn({ login, err: e.message }, 'LDAP authentication unavailable');
        throw new RsError('unauthorized', 'Invalid credentials (LDAP server unavailable)');
      }
      if (result.kind === 'unknown_user') return undefined;
      if (result.kind === 'bad_password') {
        req.log.info({ login }, 'LDAP authentication failed');
        throw new RsError('unauthorized', 'Invalid credentials');
      }
      found = result;
      if (ttl > 0) {
        if (this.cache.size > 1000) this.cache.clear();
        this.cache.set(key, { found, until: this.now() + ttl });
      }
    }

    const role = await this.mappings.roleForGroups(found.groups);
    if (!role) {
      // enable-role-based-ldap.md: "If authentication succeeds but no group matches a mapping,
      // Redis Software denies access" — the login fails, as in the UI.
      req.log.info({ login, dn: found.dn }, 'LDAP user is in no mapped group');
      throw new RsError('unauthorized', 'Invalid credentials (no LDAP mapping grants access)');
    }
    return { uid: LDAP_CALLER_UID, name: login, email: found.email, role, role_uids: await this.mappings.roleUidsForGroups(found.groups) };
  }

  private cached(key: string): Found | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (hit.until > this.now()) return hit.found;
    this.cache.delete(key);
    return undefined;
  }

  private async dedup(key: string, run: () => Promise<DirectoryResult>): Promise<DirectoryResult> {
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const p = run().finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }
}
