/**
 * License rules: pure parsing, validation and presentation of cluster license keys.
 * No HTTP, no storage, no clock (callers pass `now`).
 *
 * Design. openrs cannot verify Redis Ltd.'s license signatures (the payload of a real RS
 * license is encrypted and signed), so openrs defines its own, unsigned, license format
 * with the same outer shape:
 *
 *     ----- LICENSE START -----
 *     <base64 payload, on one or more lines>
 *     ----- LICENSE END -----
 *
 * The payload is UTF-8 JSON holding the license terms (see `LicenseTerms`): owner,
 * cluster_name, activation_date, expiration_date, shards_limit, ram_shards_limit,
 * flash_shards_limit, features, key. The trial license openrs generates when a cluster is
 * created without one uses the armor `----- DEFAULT LICENSE START -----` like the real
 * capture (whose end line is the plain `----- LICENSE END -----`).
 *
 * Errors. The license page (requests/license) documents no error_code names, only statuses:
 *   "400 Bad Request | Invalid request, either bad JSON object or corrupted license was supplied."
 *   "406 Not Acceptable | License violation. A response body provides more details on the specific cause."
 * The one documented license error code is on the bootstrap page:
 *   "invalid_license | The license string provided is invalid. Additional info can be fetched from
 *    the `error_details` object, which includes the violation code in case the license is valid
 *    but its terms are violated."
 * So every rejection is `invalid_license`: 400 when the string does not parse (bad armor,
 * base64, JSON, types, dates, negative limits), 406 when it parses but its terms are violated,
 * with `error_details.violation_code` naming the violation (`LicenseViolation`, openrs's names:
 * the docs do not list them) and `error_details.message` the text (the bootstrap page's
 * "common field").
 */

export const TRIAL_DAYS = 30;
export const TRIAL_SHARDS_LIMIT = 4;
/** Features of the RS trial license, as captured. */
export const TRIAL_FEATURES: readonly string[] = ['trial', 'bigstore'];

export const LICENSE_START = '----- LICENSE START -----';
export const DEFAULT_LICENSE_START = '----- DEFAULT LICENSE START -----';
export const LICENSE_END = '----- LICENSE END -----';
/** Larger inputs are rejected before decoding; real RS licenses are well under 4 KiB. */
export const MAX_LICENSE_LENGTH = 64 * 1024;

/** The license terms carried in the payload. Dates are RS timestamps, e.g. "2025-10-14T00:01:06Z". */
export interface LicenseTerms {
  /** License owner; null in the trial license. */
  owner: string | null;
  /** The cluster name (FQDN) the license is bound to; null = any cluster (trial). */
  cluster_name: string | null;
  activation_date: string;
  expiration_date: string;
  /** Total shards (masters and replicas) allowed. */
  shards_limit: number;
  /** RAM shards allowed (as of 7.2); null = bounded by shards_limit only. */
  ram_shards_limit: number | null;
  /** Flash (Auto Tiering) shards allowed (as of 7.2); null = bounded by shards_limit only. */
  flash_shards_limit: number | null;
  /** Features enabled by the license, e.g. "trial", "bigstore". */
  features: string[];
  /** License key; "" in the trial license. */
  key: string;
}

/** GET /v1/license response, with exactly the capture's (and the docs') fields. */
export interface LicenseView {
  activation_date: string;
  cluster_name: string | null;
  expiration_date: string;
  expired: boolean;
  features: string[];
  flash_shards_in_use: number;
  flash_shards_limit: number | null;
  key: string;
  license: string;
  owner: string | null;
  ram_shards_in_use: number;
  ram_shards_limit: number | null;
  shards_limit: number;
}

/** openrs's violation codes, carried in `error_details.violation_code` of a 406. */
export type LicenseViolation =
  | 'cluster_name_mismatch'
  | 'expired'
  | 'not_yet_active'
  | 'feature_not_licensed'
  | 'shards_limit_exceeded'
  | 'ram_shards_limit_exceeded'
  | 'flash_shards_limit_exceeded';

export const LICENSE_ERROR_CODE = 'invalid_license';

export class LicenseError extends Error {
  readonly error_code = LICENSE_ERROR_CODE;
  readonly status: 400 | 406;
  readonly description: string;
  readonly error_details: { message: string; violation_code?: LicenseViolation };

  constructor(description: string, violation?: LicenseViolation) {
    super(description);
    this.name = 'LicenseError';
    this.description = description;
    this.status = violation ? 406 : 400;
    this.error_details = violation ? { message: description, violation_code: violation } : { message: description };
  }

  toJSON(): { error_code: string; description: string; error_details: LicenseError['error_details'] } {
    return { error_code: this.error_code, description: this.description, error_details: this.error_details };
  }
}

const corrupt = (why: string): LicenseError => new LicenseError(`Corrupted license: ${why}`);

/** RS timestamp format: ISO 8601 UTC, seconds precision. */
export function formatLicenseDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

/** Milliseconds of a valid UTC timestamp string, or NaN (rejects e.g. Feb 30 and offsets). */
function dateMs(s: string): number {
  const m = DATE_RE.exec(s);
  if (!m) return NaN;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d &&
    back.getUTCHours() === h && back.getUTCMinutes() === mi && back.getUTCSeconds() === se;
  return same ? ms : NaN;
}

function isLimit(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a decoded payload (or caller-built terms) and returns a clean copy; throws a 400. */
export function validateTerms(raw: unknown): LicenseTerms {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('payload is not a JSON object');
  const o = raw as Record<string, unknown>;
  const optString = (f: string): string | null => {
    const v = o[f] ?? null;
    if (v !== null && typeof v !== 'string') throw corrupt(`${f} must be a string or null`);
    return v;
  };
  const date = (f: string): string => {
    const v = o[f];
    if (typeof v !== 'string' || Number.isNaN(dateMs(v))) throw corrupt(`${f} must be a UTC timestamp like 2025-01-31T00:00:00Z`);
    return v;
  };
  const optLimit = (f: string): number | null => {
    const v = o[f] ?? null;
    if (v !== null && !isLimit(v)) throw corrupt(`${f} must be a non-negative integer or null`);
    return v;
  };

  const owner = optString('owner');
  const cluster_name = optString('cluster_name');
  const activation_date = date('activation_date');
  const expiration_date = date('expiration_date');
  if (dateMs(expiration_date) <= dateMs(activation_date)) throw corrupt('expiration_date is not after activation_date');
  if (!isLimit(o.shards_limit)) throw corrupt('shards_limit must be a non-negative integer');
  const shards_limit = o.shards_limit;
  const ram_shards_limit = optLimit('ram_shards_limit');
  const flash_shards_limit = optLimit('flash_shards_limit');
  const features = o.features ?? [];
  if (!Array.isArray(features) || !features.every((f): f is string => typeof f === 'string')) {
    throw corrupt('features must be an array of strings');
  }
  const key = o.key ?? '';
  if (typeof key !== 'string') throw corrupt('key must be a string');

  return {
    owner, cluster_name, activation_date, expiration_date,
    shards_limit, ram_shards_limit, flash_shards_limit, features: [...features], key,
  };
}

function armor(terms: LicenseTerms, start: string): string {
  const t = validateTerms(terms);
  // Fixed key order so the same terms always give the same string.
  const payload = JSON.stringify({
    owner: t.owner, cluster_name: t.cluster_name,
    activation_date: t.activation_date, expiration_date: t.expiration_date,
    shards_limit: t.shards_limit, ram_shards_limit: t.ram_shards_limit, flash_shards_limit: t.flash_shards_limit,
    features: t.features, key: t.key,
  });
  return `${start}\n${Buffer.from(payload, 'utf8').toString('base64')}\n${LICENSE_END}\n`;
}

/** Produces a license string (plain armor) from terms; throws a 400 LicenseError if the terms are invalid. */
export function encodeLicense(terms: LicenseTerms): string {
  return armor(terms, LICENSE_START);
}

/**
 * openrs's trial license, shaped like RS's: 30 days from `now` (seconds precision), 4 shards,
 * features ["trial","bigstore"], owner null, key "". cluster_name is null unless given
 * (RS's captured trial license has null).
 */
export function generateTrialLicense(now: Date, clusterName?: string): string {
  const start = Math.floor(now.getTime() / 1000) * 1000;
  return armor(
    {
      owner: null,
      cluster_name: clusterName ?? null,
      activation_date: formatLicenseDate(new Date(start)),
      expiration_date: formatLicenseDate(new Date(start + TRIAL_DAYS * 86_400_000)),
      shards_limit: TRIAL_SHARDS_LIMIT,
      ram_shards_limit: null,
      flash_shards_limit: null,
      features: [...TRIAL_FEATURES],
      key: '',
    },
    DEFAULT_LICENSE_START,
  );
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes and validates a license string; throws LicenseError (400 invalid_license) if it does not parse. */
export function parseLicense(text: string): LicenseTerms {
  if (typeof text !== 'string') throw corrupt('license must be a string');
  if (text.length > MAX_LICENSE_LENGTH) throw corrupt('license is too long');
  const lines = text.replace(/\r\n/g, '\n').trim().split('\n').map((l) => l.trim());
  const first = lines[0];
  if (lines.length < 3 || (first !== LICENSE_START && first !== DEFAULT_LICENSE_START) || lines[lines.length - 1] !== LICENSE_END) {
    throw corrupt('missing license armor');
  }
  const b64 = lines.slice(1, -1).join('');
  if (b64.length % 4 !== 0 || !BASE64_RE.test(b64)) throw corrupt('payload is not base64');
  const bytes = Buffer.from(b64, 'base64');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt('payload is not JSON');
  }
  return validateTerms(json);
}

/** Whether the license has expired at `now` (expired from the expiration instant on). */
export function isExpired(terms: LicenseTerms, now: Date): boolean {
  return now.getTime() >= dateMs(terms.expiration_date);
}

/** Checks that a parsed license can be installed on this cluster now; throws a 406 LicenseError if not. */
export function checkLicenseApplicable(
  terms: LicenseTerms,
  ctx: { clusterName: string; shardsInUse: number; ramShardsInUse: number; flashShardsInUse: number; now: Date },
): void {
  // Cluster names are FQDNs, which compare case-insensitively.
  if (terms.cluster_name !== null && terms.cluster_name.toLowerCase() !== ctx.clusterName.toLowerCase()) {
    throw new LicenseError(
      `License is for cluster '${terms.cluster_name}', not '${ctx.clusterName}'`,
      'cluster_name_mismatch',
    );
  }
  if (isExpired(terms, ctx.now)) {
    throw new LicenseError(`License expired on ${terms.expiration_date}`, 'expired');
  }
  if (ctx.now.getTime() < dateMs(terms.activation_date)) {
    throw new LicenseError(`License is not active before ${terms.activation_date}`, 'not_yet_active');
  }
  if (ctx.flashShardsInUse > 0 && !terms.features.includes('bigstore')) {
    throw new LicenseError('Flash shards are in use but the license lacks the bigstore feature', 'feature_not_licensed');
  }
  if (ctx.shardsInUse > terms.shards_limit) {
    throw new LicenseError(
      `${ctx.shardsInUse} shards in use exceed the license's shards_limit of ${terms.shards_limit}`,
      'shards_limit_exceeded',
    );
  }
  if (terms.ram_shards_limit !== null && ctx.ramShardsInUse > terms.ram_shards_limit) {
    throw new LicenseError(
      `${ctx.ramShardsInUse} RAM shards in use exceed the license's ram_shards_limit of ${terms.ram_shards_limit}`,
      'ram_shards_limit_exceeded',
    );
  }
  if (terms.flash_shards_limit !== null && ctx.flashShardsInUse > terms.flash_shards_limit) {
    throw new LicenseError(
      `${ctx.flashShardsInUse} flash shards in use exceed the license's flash_shards_limit of ${terms.flash_shards_limit}`,
      'flash_shards_limit_exceeded',
    );
  }
}

/** The GET /v1/license body for an installed license. */
export function licenseView(
  text: string,
  terms: LicenseTerms,
  usage: { ram_shards_in_use: number; flash_shards_in_use: number },
  now: Date,
): LicenseView {
  return {
    activation_date: terms.activation_date,
    cluster_name: terms.cluster_name,
    expiration_date: terms.expiration_date,
    expired: isExpired(terms, now),
    features: [...terms.features],
    flash_shards_in_use: usage.flash_shards_in_use,
    flash_shards_limit: terms.flash_shards_limit,
    key: terms.key,
    license: text,
    owner: terms.owner,
    ram_shards_in_use: usage.ram_shards_in_use,
    ram_shards_limit: terms.ram_shards_limit,
    shards_limit: terms.shards_limit,
  };
}
