/**
 * DNS suffixes: requests/suffixes (GET all), requests/suffix (GET one), objects/suffix.md.
 *
 * An openrs cluster has one suffix, its name: every endpoint's dns_name is
 * `redis-<port>.<cluster name>` (services/bdb-view.ts), and bootstrap refuses `dns_suffixes`, so
 * there is no other. The flags say what openrs really does with it: it is the default, it names
 * the endpoints' advertised (external) address, and no DNS server is run or updated for it (no
 * mDNS responder, no NS records, no frontend DNS servers). docs/decisions/cluster-routes-extra.md.
 */
import { RsError } from '../errors.js';
import type { Suffix } from '../schemas/suffix.js';

/** DNS names compare case-insensitively, and `name.` is the same absolute name as `name`. */
const normalize = (name: string) => name.replace(/\.$/, '').toLowerCase();

export class SuffixService {
  constructor(private readonly clusterName: () => Promise<string>) {}

  async list(): Promise<Suffix[]> {
    const name = await this.clusterName();
    return [{ name, default: true, internal: false, mdns: false, slaves: [], use_aaaa_ns: false }];
  }

  async get(name: string): Promise<Suffix> {
    const found = normalize(name) === '' ? undefined : (await this.list()).find((x) => normalize(x.name) === normalize(name));
    if (!found) throw new RsError('suffix_not_exist', `Suffix '${name}' does not exist`);
    return found;
  }
}
