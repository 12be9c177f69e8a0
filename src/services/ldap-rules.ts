/**
 * Pure rules of the cluster LDAP configuration: defaults, how a PUT merges into what is stored,
 * the combinations requests/cluster/ldap.md rejects (`illegal_fields_combination`), and the
 * masked view GET returns.
 */
import { X509Certificate } from 'node:crypto';
import { FilterParser } from 'ldapts';
import { RsError } from '../errors.js';
import { MASKED_PASSWORD, type Ldap, type LdapQuery, type LdapSearch, type LdapUpdate } from '../schemas/ldap.js';

/** What an unconfigured cluster reports (objects/ldap.md defaults; strings empty, queries `{}`). */
export const LDAP_DEFAULTS: Ldap = Object.freeze({
  bind_dn: '',
  bind_pass: '',
  ca_cert: '',
  cache_ttl: 300,
  cba: false,
  control_plane: false,
  data_plane: false,
  directory_timeout_s: 5,
  dn_group_attr: '',
  dn_group_query: {},
  starttls: false,
  uris: [],
  user_dn_query: {},
  user_dn_template: '',
}) as Ldap;

/** A query counts as set when it has its fields; `{}` is the documented "not set". */
export const querySet = (q: LdapQuery | undefined): q is LdapSearch => !!q && 'base' in q;

const illegal = (msg: string) => new RsError('illegal_fields_combination', msg);

/**
 * Two mutually exclusive ways to configure one step. A request that sets one of them (non-empty)
 * replaces the stored configuration of that step, so the other is cleared; setting both in one
 * request is `illegal_fields_combination`.
 */
function exclusive<A extends keyof Ldap, B extends keyof Ldap>(
  next: Ldap, update: LdapUpdate, a: A, b: B, isSet: (v: unknown) => boolean,
): void {
  const setA = update[a] !== undefined && isSet(update[a]);
  const setB = update[b] !== undefined && isSet(update[b]);
  if (setA && setB) throw illegal(`${a} and ${b} are mutually exclusive`);
  if (setA) next[b] = LDAP_DEFAULTS[b];
  if (setB) next[a] = LDAP_DEFAULTS[a];
}

const nonEmpty = (v: unknown) => (typeof v === 'string' ? v !== '' : querySet(v as LdapQuery));

function checkFilter(field: string, q: LdapSearch): void {
  try {
    FilterParser.parseString(q.filter);
  } catch (e) {
    throw new RsError('invalid_schema', `${field}.filter is not a valid RFC 4515 filter: ${(e as Error).message}`);
  }
}

/** Merge a PUT body into the stored configuration and check the result. */
export function applyLdapUpdate(current: Ldap | undefined, update: LdapUpdate): Ldap {
  const base = current ?? LDAP_DEFAULTS;
  const next: Ldap = { ...base, ...update };
  // A GET body sent back carries the mask, which means "keep the stored password".
  if (update.bind_pass === MASKED_PASSWORD) next.bind_pass = base.bind_pass;
  exclusive(next, update, 'user_dn_template', 'user_dn_query', nonEmpty);
  exclusive(next, update, 'dn_group_attr', 'dn_group_query', nonEmpty);

  if (nonEmpty(next.user_dn_template) && !next.user_dn_template.includes('%u')) {
    throw new RsError('invalid_schema', 'user_dn_template must contain %u (the username)');
  }
  if (querySet(next.user_dn_query)) checkFilter('user_dn_query', next.user_dn_query);
  if (querySet(next.dn_group_query)) checkFilter('dn_group_query', next.dn_group_query);
  // A simple bind with a DN and an empty password is an unauthenticated (anonymous) bind
  // (RFC 4513 §5.1.2): it would "succeed" without checking anything.
  if (next.bind_dn !== '' && next.bind_pass === '') throw illegal('bind_dn requires bind_pass');
  if (next.starttls && next.uris.some((u) => u.startsWith('ldaps://'))) {
    throw illegal('starttls cannot be used with ldaps:// URIs (the connection is already TLS)');
  }
  if (next.ca_cert !== '') checkCaCert(next.ca_cert);
  if (next.cba_identity_source === 'subject_oid' && !/^[0-9]+(\.[0-9]+)+$/.test(next.cba_identity_oid ?? '')) {
    throw illegal('cba_identity_source subject_oid requires cba_identity_oid (a dotted OID)');
  }
  if (next.control_plane || next.data_plane || next.cba) {
    // "a required field is missing" is also illegal_fields_combination (requests/cluster/ldap.md).
    if (next.uris.length === 0) throw illegal('LDAP is enabled but uris is empty');
    if (!nonEmpty(next.user_dn_template) && !querySet(next.user_dn_query)) {
      throw illegal('LDAP is enabled but neither user_dn_template nor user_dn_query is set');
    }
    if (!nonEmpty(next.dn_group_attr) && !querySet(next.dn_group_query)) {
      throw illegal('LDAP is enabled but neither dn_group_attr nor dn_group_query is set');
    }
  }
  return next;
}

function checkCaCert(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) throw new RsError('invalid_certificate', 'ca_cert: no PEM CERTIFICATE block found');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw new RsError('invalid_certificate', `ca_cert: ${(e as Error).message}`);
    }
  }
}

/** The configuration as GET shows it: the bind password never leaves in clear. */
export function maskLdap(cfg: Ldap): Ldap {
  return { ...cfg, bind_pass: cfg.bind_pass ? MASKED_PASSWORD : '' };
}
