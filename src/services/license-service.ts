/** GET/PUT /v1/license: the installed license lives at `/license` in the CCS. */
import { RsError } from '../errors.js';
import type { Singleton } from '../store/object-store.js';
import type { Clock } from '../util/clock.js';
import { LicenseError, checkLicenseApplicable, generateTrialLicense, licenseView, parseLicense, type LicenseView } from './license-rules.js';
import type { ShardInventory } from './shard-inventory.js';

export interface LicenseRecord {
  license: string;
}

/** Turn the license module's error into the API's error type. */
export function asRsError(e: unknown): unknown {
  return e instanceof LicenseError ? RsError.custom(e.error_code, e.status, e.description, { error_details: e.error_details }) : e;
}

export class LicenseService {
  constructor(
    private readonly store: Singleton<LicenseRecord>,
    private readonly shards: ShardInventory,
    private readonly clusterName: () => Promise<string>,
    private readonly clock: Clock,
  ) {}

  /** The license record to install at bootstrap: the given one (validated) or a fresh trial. */
  async initialRecord(text: string | undefined, clusterName: string): Promise<LicenseRecord> {
    if (text === undefined || text === '') return { license: generateTrialLicense(this.clock.now()) };
    try {
      const terms = parseLicense(text);
      checkLicenseApplicable(terms, { clusterName, shardsInUse: 0, ramShardsInUse: 0, flashShardsInUse: 0, now: this.clock.now() });
      return { license: text };
    } catch (e) {
      throw asRsError(e);
    }
  }

  async get(): Promise<LicenseView> {
    const rec = await this.store.get();
    if (!rec) throw RsError.custom('license_not_found', 404, 'No license is installed');
    const usage = await this.shards.usage();
    return licenseView(rec.value.license, parseLicense(rec.value.license), { ram_shards_in_use: usage.ram, flash_shards_in_use: usage.flash }, this.clock.now());
  }

  async put(text: string): Promise<LicenseView> {
    try {
      const terms = parseLicense(text);
      const usage = await this.shards.usage();
      checkLicenseApplicable(terms, {
        clusterName: await this.clusterName(),
        shardsInUse: usage.total,
        ramShardsInUse: usage.ram,
        flashShardsInUse: usage.flash,
        now: this.clock.now(),
      });
    } catch (e) {
      throw asRsError(e);
    }
    await this.store.put({ license: text });
    return this.get();
  }
}
