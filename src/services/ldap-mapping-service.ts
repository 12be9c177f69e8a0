/**
 * LDAP mappings (requests/ldap_mappings): LDAP group DN → role uids, kept at
 * `/ldap_mappings/<uid>`. Also answers the verifier's question "which management role do
 * these groups give?" (`roleForGroups`).
 */
import type { Caller } from '../api/route-types.js';
import type { EventLog } from '../events/event-log.js';
import { RsError } from '../errors.js';
import { MANAGEMENT_ROLES, type ManagementRole } from '../auth/permissions.js';
import {
  LDAP_MAPPING_NAME_MAX, LDAP_MAPPING_NAME_PATTERN,
  type LdapMapping, type LdapMappingCreate, type LdapMappingUpdate,
} from '../schemas/ldap.js';
import { KvConflictError, type KvBackend } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';

/** The part of a role record (`/roles/<uid>`, owned by the roles API) that mappings rely on. */
export interface RoleRef {
  uid: number;
  name: string;
  management: ManagementRole;
}
export const ROLES_PREFIX = '/roles/';

const NAME_RE = new RegExp(LDAP_MAPPING_NAME_PATTERN);
/** One RDN attribute type: a descriptor (cn, ou, ...) or a dotted OID (RFC 4514 §3). */
const ATTR_TYPE_RE = /^\s*([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)*)\s*=/;

/** Split on separators that are not backslash-escaped. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
    } else if (sep.includes(ch)) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** True for a syntactically plausible DN: `type=value` RDNs separated by `,` (and `+`). */
export function isDn(dn: string): boolean {
  if (dn.trim() === '') return false;
  return splitUnescaped(dn, ',+').every((rdn) => ATTR_TYPE_RE.test(rdn));
}

/**
 * Comparison form of a DN: attribute types and the standard group/user attribute values are
 * case-insensitive in LDAP, and spacing around separators is not significant, so
 * `CN=Ops, DC=Example,DC=com` and `cn=ops,dc=example,dc=com` name the same group.
 */
export function normalizeDn(dn: string): string {
  return splitUnescaped(dn, ',')
    .map((rdn) => splitUnescaped(rdn, '+').map((ava) => {
      const i = ava.indexOf('=');
      return i < 0 ? ava.trim() : `${ava.slice(0, i).trim()}=${ava.slice(i + 1).trim()}`;
    }).join('+'))
    .join(',')
    .toLowerCase();
}

export class LdapMappingService {
  constructor(
    private readonly kv: KvBackend,
    private readonly mappings: Collection<LdapMapping>,
    private readonly roles: Collection<RoleRef>,
    private readonly events?: EventLog,
  ) {}

  private event(type: string, m: LdapMapping): void {
    this.events?.write(type, { ldap_mapping_uid: m.uid, name: m.name, dn: m.dn, role_uids: m.role_uids });
  }

  list(): Promise<LdapMapping[]> {
    return this.mappings.list();
  }

  async get(uid: number): Promise<LdapMapping> {
    return (await this.load(uid)).value;
  }

  private async load(uid: number) {
    const rec = await this.mappings.get(uid);
    if (!rec) throw new RsError('ldap_mapping_not_exist', `LDAP mapping ${uid} does not exist`);
    return rec;
  }

  /**
   * Whether these roles include one with admin management. A mapping to such a role makes its
   * LDAP group admins, so it is guarded like granting the admin role to a user (user-service.ts)
   * or creating an admin role (role-service.ts): only an admin may create, change or delete it.
   * Otherwise a user_manager could map its own group to the Admin role and log in as admin.
   */
  private async grantsAdmin(roleUids: readonly number[]): Promise<boolean> {
    for (const r of new Set(roleUids)) if ((await this.roles.get(r))?.value.management === 'admin') return true;
    return false;
  }

  async create(body: LdapMappingCreate, actor: Caller): Promise<LdapMapping> {
    const missing = (['name', 'dn', 'role_uids'] as const).filter((k) => body[k] === undefined);
    if (missing.length) throw new RsError('missing_field', `Missing field(s): ${missing.join(', ')}`);
    if (actor.role !== 'admin' && (await this.grantsAdmin(body.role_uids!))) {
      throw new RsError('insufficient_permissions', 'Only an admin may grant the admin role (an LDAP mapping to a role with admin management)');
    }
    const draft = {
      uid: 0, email: '', email_alerts: true, bdbs_email_alerts: [], cluster_email_alerts: false,
      ...body,
    } as LdapMapping;
    await this.check(draft);
    const uid = await this.mappings.allocateUid();
    const created = { ...draft, uid };
    await this.mappings.kvPut(created, 0);
    this.event('ldap_mapping_created', created);
    return created;
  }

  async update(uid: number, body: LdapMappingUpdate, actor: Caller): Promise<LdapMapping> {
    if (body.uid !== undefined && body.uid !== uid) throw new RsError('invalid_schema', `uid ${body.uid} does not match the path (${uid})`);
    for (;;) {
      const { value, modRevision } = await this.load(uid);
      const next = { ...value, ...body, uid } as LdapMapping;
      if (actor.role !== 'admin' && ((await this.grantsAdmin(value.role_uids)) || (await this.grantsAdmin(next.role_uids)))) {
        throw new RsError('insufficient_permissions', 'Only an admin may change an LDAP mapping to or from a role with admin management');
      }
      await this.check(next);
      try {
        await this.mappings.kvPut(next, modRevision);
        this.event('ldap_mapping_updated', next);
        return next;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }

  async delete(uid: number, actor: Caller): Promise<void> {
    const { value } = await this.load(uid);
    if (actor.role !== 'admin' && (await this.grantsAdmin(value.role_uids))) {
      throw new RsError('insufficient_permissions', 'Only an admin may delete an LDAP mapping to a role with admin management');
    }
    await this.kv.delete(this.mappings.key(uid));
    this.event('ldap_mapping_deleted', value);
  }

  /** Documented per-field codes (requests/ldap_mappings): name, dn, role_uids, unique name. */
  private async check(m: LdapMapping): Promise<void> {
    if (m.name.length > LDAP_MAPPING_NAME_MAX || !NAME_RE.test(m.name)) {
      throw new RsError('invalid_name_param', `name must be 1-${LDAP_MAPPING_NAME_MAX} letters, digits, spaces or _ [] () @ , . ; # -`);
    }
    if (!isDn(m.dn)) throw new RsError('invalid_dn_param', `dn '${m.dn}' is not a distinguished name (e.g. cn=ops,ou=groups,dc=example,dc=com)`);
    if (m.role_uids.length === 0) throw new RsError('invalid_role_uids_param', 'role_uids must name at least one role');
    const unknown: number[] = [];
    for (const r of new Set(m.role_uids)) if (!(await this.roles.get(r))) unknown.push(r);
    if (unknown.length) throw new RsError('invalid_role_uids_param', `No such role(s): ${unknown.join(', ')}`);
    if ((await this.mappings.list()).some((o) => o.uid !== m.uid && o.name === m.name)) {
      throw new RsError('name_already_exists', `An LDAP mapping named '${m.name}' already exists`);
    }
  }

  /**
   * The management role the given groups grant: every mapping whose dn is one of the groups
   * contributes its roles, and the caller gets the highest of their `management` values in the
   * order of MANAGEMENT_ROLES (none < db_viewer < ... < admin). Undefined when no mapping matches
   * or none of the matched roles exists any more.
   */
  async roleForGroups(groupDns: readonly string[]): Promise<ManagementRole | undefined> {
    let best = -1;
    for (const uid of await this.roleUidsForGroups(groupDns)) {
      const role = (await this.roles.get(uid))?.value;
      const rank = role ? MANAGEMENT_ROLES.indexOf(role.management) : -1;
      if (rank > best) best = rank;
    }
    return best < 0 ? undefined : MANAGEMENT_ROLES[best];
  }

  /** The role uids of the mappings these groups match (for database-scoped roles, auth/bdb-scope.ts). */
  async roleUidsForGroups(groupDns: readonly string[]): Promise<number[]> {
    const groups = new Set(groupDns.map(normalizeDn));
    const matched = (await this.mappings.list()).filter((m) => groups.has(normalizeDn(m.dn)));
    return [...new Set(matched.flatMap((m) => m.role_uids))];
  }
}
