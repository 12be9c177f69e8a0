/**
 * GET/PUT/DELETE /v1/cluster/ldap. The configuration lives at `/ldap_config` in the CCS, bind
 * password included (it is needed in clear to bind); only the masked view leaves this service
 * through the API. `active()` is what the LDAP verifier reads on every login.
 */
import type { EventLog } from '../events/event-log.js';
import type { Ldap, LdapUpdate } from '../schemas/ldap.js';
import { KvConflictError, type KvBackend } from '../store/kv.js';
import type { Versioned } from '../store/object-store.js';
import { applyLdapUpdate, LDAP_DEFAULTS, maskLdap } from './ldap-rules.js';

export const LDAP_CONFIG_KEY = '/ldap_config';

export class LdapConfigService {
  constructor(private readonly kv: KvBackend, private readonly events?: EventLog) {}

  /** The stored configuration (defaults filled in), with its revision; undefined when none is stored. */
  async stored(): Promise<Versioned<Ldap> | undefined> {
    const e = await this.kv.get<Ldap>(LDAP_CONFIG_KEY);
    return e && { value: { ...LDAP_DEFAULTS, ...e.value }, modRevision: e.modRevision };
  }

  /** The configuration when LDAP authenticates control-plane (REST) users, else undefined. */
  async active(): Promise<Versioned<Ldap> | undefined> {
    const rec = await this.stored();
    return rec?.value.control_plane ? rec : undefined;
  }

  async get(): Promise<Ldap> {
    return maskLdap((await this.stored())?.value ?? LDAP_DEFAULTS);
  }

  async update(update: LdapUpdate): Promise<Ldap> {
    for (;;) {
      const cur = await this.stored();
      const next = applyLdapUpdate(cur?.value, update);
      try {
        await this.kv.put(LDAP_CONFIG_KEY, next, cur?.modRevision ?? 0);
        // Field names only: the bind password never goes into an event.
        this.events?.write('ldap_config_updated', { fields: Object.keys(update) });
        return maskLdap(next);
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }

  /** Clear the configuration: LDAP logins stop working at once (mappings are kept). */
  async delete(): Promise<void> {
    await this.kv.delete(LDAP_CONFIG_KEY);
    this.events?.write('ldap_config_deleted');
  }
}
