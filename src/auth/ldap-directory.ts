/**
 * The conversation with the LDAP server for one login, as enable-role-based-ldap.md describes it:
 * 1. bind as the bind user (bind_dn / bind_pass) when one is configured;
 * 2. find the user's DN: `user_dn_template` with %u replaced (no search), or a search with
 *    `user_dn_query` (%u in the filter) that must match exactly one entry;
 * 3. bind as that DN with the given password (this is the password check);
 * 4. find the user's groups, again as the bind user: the `dn_group_attr` attribute of the user's
 *    entry, or the DNs of the entries `dn_group_query` finds (%D in the filter = the user's DN).
 * The only module that talks LDAP (ldapts).
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import { Client, Filter, InvalidCredentialsError, ResultCodeError, type SearchOptions } from 'ldapts';
import type { Ldap, LdapSearch } from '../schemas/ldap.js';
import { querySet } from '../services/ldap-rules.js';

export type DirectoryResult =
  | { kind: 'ok'; dn: string; groups: string[]; email: string }
  /** No entry for this username (query mode): the login is not an LDAP user. */
  | { kind: 'unknown_user' }
  | { kind: 'bad_password' };

/** Thrown when no configured server could be used (unreachable, TLS failure, bind user rejected). */
export class DirectoryUnavailableError extends Error {
  override name = 'DirectoryUnavailableError';
}

/** RFC 4514 §2.4: escape a value put into a DN (the %u of user_dn_template). */
export function escapeDnValue(v: string): string {
  let out = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** RFC 4515 §3: escape a value put into a filter (%u, %D). */
export const escapeFilterValue = (v: string): string => Filter.escape(v);

const SCOPE: Record<LdapSearch['scope'], SearchOptions['scope']> = { base: 'base', one: 'one', subtree: 'sub' };

function tlsOptions(cfg: Ldap, host: string): tls.ConnectionOptions {
  // ca_cert is trusted in addition to the system CAs (enable-role-based-ldap.md); the host name
  // is verified against the server certificate (Node's default checkServerIdentity).
  const bare = host.replace(/^\[|\]$/g, '');
  return {
    host: bare,
    ...(isIP(bare) ? {} : { servername: bare }),
    ...(cfg.ca_cert ? { ca: [...tls.rootCertificates, cfg.ca_cert] } : {}),
  };
}

const attrValues = (entry: Record<string, unknown>, name: string): string[] => {
  // Attribute names come back as the server spells them; match case-insensitively.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : entry[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
};

/** One login against the configured servers, tried in `uris` order until one answers. */
export async function lookupUser(cfg: Ldap, username: string, password: string): Promise<DirectoryResult> {
  let lastError: unknown;
  for (const uri of cfg.uris) {
    const url = new URL(uri);
    const timeout = cfg.directory_timeout_s * 1000;
    const client = new Client({
      url: uri,
      timeout,
      connectTimeout: timeout,
      ...(url.protocol === 'ldaps:' ? { tlsOptions: tlsOptions(cfg, url.hostname) } : {}),
    });
    let stage = 'connect';
    try {
      if (cfg.starttls) {
        stage = 'starttls';
        await client.startTLS(tlsOptions(cfg, url.hostname));
      }
      const asBindUser = async () => {
        if (!cfg.bind_dn) return;
        stage = 'bind as bind_dn';
        await client.bind(cfg.bind_dn, cfg.bind_pass);
      };
      await asBindUser();

      stage = 'find user';
      let dn: string;
      if (querySet(cfg.user_dn_query)) {
        const q = cfg.user_dn_query;
        const found = await client.search(q.base, {
          scope: SCOPE[q.scope], filter: q.filter.replaceAll('%u', escapeFilterValue(username)), attributes: ['1.1'],
        });
        // Zero entries: not an LDAP user. Several: ambiguous, so no one is let in by guesswork.
        if (found.searchEntries.length !== 1) return { kind: 'unknown_user' };
        dn = found.searchEntries[0]!.dn;
      } else {
        dn = cfg.user_dn_template.replaceAll('%u', escapeDnValue(username));
      }

      stage = 'bind as user';
      try {
        await client.bind(dn, password);
      } catch (e) {
        if (e instanceof InvalidCredentialsError) return { kind: 'bad_password' };
        throw e;
      }
      await asBindUser();

      stage = 'read groups';
      const groupAttr = querySet(cfg.dn_group_query) ? undefined : cfg.dn_group_attr;
      const self = await client
        .search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['mail', ...(groupAttr ? [groupAttr] : [])] })
        .catch(() => ({ searchEntries: [] }));
      const entry = (self.searchEntries[0] ?? {}) as Record<string, unknown>;
      let groups: string[];
      if (groupAttr) {
        groups = attrValues(entry, groupAttr);
      } else {
        const q = cfg.dn_group_query as LdapSearch;
        const found = await client.search(q.base, {
          scope: SCOPE[q.scope], filter: q.filter.replaceAll('%D', escapeFilterValue(dn)), attributes: ['1.1'],
        });
        groups = found.searchEntries.map((e) => e.dn);
      }
      return { kind: 'ok', dn, groups, email: attrValues(entry, 'mail')[0] ?? '' };
    } catch (e) {
      // An LDAP result (e.g. the bind user rejected, a bad search base) is this server's answer:
      // asking the next one would not change it. Anything else (refused, timeout, TLS) moves on.
      if (e instanceof ResultCodeError) throw new DirectoryUnavailableError(`${uri}: ${stage}: ${e.message}`);
      lastError = new DirectoryUnavailableError(`${uri}: ${stage}: ${(e as Error).message}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
  throw lastError ?? new DirectoryUnavailableError('no LDAP uris configured');
}
