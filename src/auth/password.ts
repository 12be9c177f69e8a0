/**
 * Password hashing with node:crypto only (no native dependency). Two schemes, told apart by the
 * stored form's prefix so that both can be verified at any time:
 * - scrypt (memory-hard), the default: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`;
 * - PBKDF2-HMAC-SHA-256, for clusters that ask for PBKDF2 (PATCH
 *   /v1/cluster/change_password_hashing_algorithm): `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`.
 * Parameters are part of the stored form, so they can be raised later without invalidating
 * existing hashes.
 */
import { createHash, pbkdf2 as pbkdf2Cb, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));
const pbkdf2 = (pw: string, salt: Buffer, iterations: number, len: number) =>
  new Promise<Buffer>((resolve, reject) => pbkdf2Cb(pw, salt, iterations, len, 'sha256', (err, key) => (err ? reject(err) : resolve(key))));

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;
/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-256 (~250 ms of CPU per hash here). */
const PBKDF2_ITERATIONS = 600_000;
/** Upper bounds on stored parameters, so a corrupted record cannot make a login hash for minutes. */
const MAX_ITERATIONS = 10_000_000;

export type HashScheme = 'scrypt' | 'pbkdf2';

/**
 * A password given pre-hashed (user.md: `password_hash_method: 1` means the client sends
 * SHA-256 of `username:clustername:password`). It can only be checked, not used for anything
 * else, so it is kept as `prehash-sha256$<hex>` until the user's first login, when the login
 * re-hashes the now-known password with the cluster's scheme (local-users.ts).
 */
export function prehashedEntry(hex: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError('a pre-hashed password is 64 hexadecimal digits (SHA-256)');
  return `prehash-sha256$${hex.toLowerCase()}`;
}

/** What a pre-hashed entry was computed over: the user's login names and the cluster's name. */
export interface PrehashContext {
  logins: string[];
  clusterName: string;
}

/**
 * The cluster's `password_hashing_algorithm` values and the scheme openrs uses for each. RS's
 * default "SHA-256" maps to scrypt, which is stronger than a salted SHA-256; "PBKDF2" is real
 * PBKDF2 (HMAC-SHA-256), e.g. for FIPS-minded deployments. See docs/notes-users-roles.md.
 */
export const HASH_SCHEME_FOR_ALGORITHM = { 'SHA-256': 'scrypt', PBKDF2: 'pbkdf2' } as const satisfies Record<string, HashScheme>;
export type HashingAlgorithm = keyof typeof HASH_SCHEME_FOR_ALGORITHM;

export async function hashPassword(password: string, scheme: HashScheme = 'scrypt'): Promise<string> {
  const salt = randomBytes(16);
  if (scheme === 'pbkdf2') {
    const hash = await pbkdf2(password, salt, PBKDF2_ITERATIONS, KEYLEN);
    return ['pbkdf2-sha256', PBKDF2_ITERATIONS, salt.toString('base64'), hash.toString('base64')].join('$');
  }
  const hash = await scrypt(password, salt, KEYLEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * A well-formed hash per scheme, with the parameters hashPassword uses, that no password is
 * expected to match (zero salt, zero hash). A login for an unknown user is verified against the
 * one of the cluster's current scheme, so it costs what a real verification costs and the response
 * time does not tell which logins exist (PBKDF2 here costs several times scrypt).
 */
export const DUMMY_HASHES: Readonly<Record<HashScheme, string>> = {
  scrypt: ['scrypt', N, R, P, Buffer.alloc(16).toString('base64'), Buffer.alloc(KEYLEN).toString('base64')].join('$'),
  pbkdf2: ['pbkdf2-sha256', PBKDF2_ITERATIONS, Buffer.alloc(16).toString('base64'), Buffer.alloc(KEYLEN).toString('base64')].join('$'),
};

/** The scheme a stored hash was made with, or undefined for a form this module does not know. */
export function hashSchemeOf(stored: string): HashScheme | undefined {
  if (stored.startsWith('scrypt$')) return 'scrypt';
  if (stored.startsWith('pbkdf2-sha256$')) return 'pbkdf2';
  return undefined;
}

export async function verifyPassword(password: string, stored: string, prehash?: PrehashContext): Promise<boolean> {
  try {
    if (stored.startsWith('prehash-sha256$')) return prehash ? verifyPrehashed(password, stored.slice(15), prehash) : false;
    return await verify(password, stored);
  } catch {
    return false; // unusable parameters in a stored hash: it matches nothing
  }
}

/** RS does not say whether "username" is the email or the name: either one the user has matches. */
function verifyPrehashed(password: string, hex: string, ctx: PrehashContext): boolean {
  const expected = Buffer.from(hex, 'hex');
  if (expected.length !== 32) return false;
  let ok = false;
  for (const login of ctx.logins.filter(Boolean)) {
    const actual = createHash('sha256').update(`${login}:${ctx.clusterName}:${password}`).digest();
    if (timingSafeEqual(actual, expected)) ok = true;
  }
  return ok;
}

async function verify(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  let actual: Buffer;
  let expected: Buffer;
  if (parts.length === 6 && parts[0] === 'scrypt') {
    const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
    expected = Buffer.from(hashB64, 'base64');
    actual = await scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, {
      N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024,
    });
  } else if (parts.length === 4 && parts[0] === 'pbkdf2-sha256') {
    const [, iter, saltB64, hashB64] = parts as [string, string, string, string];
    const iterations = Number(iter);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) return false;
    expected = Buffer.from(hashB64, 'base64');
    actual = await pbkdf2(password, Buffer.from(saltB64, 'base64'), iterations, expected.length);
  } else {
    return false;
  }
  // An empty or truncated stored hash must match nothing (timingSafeEqual of two empty buffers is true).
  return expected.length >= 16 && actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A random password for the generated admin account: 24 characters from an unambiguous alphabet. */
export function generatePassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The form a password takes in Redis ACL rules (`#<sha256 hex>`), kept beside the scrypt/PBKDF2 hash so that
 * the user can sign in to databases (UserRecord.db_password_sha256; docs/notes-data-plane.md).
 */
export function redisPasswordHash(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}
