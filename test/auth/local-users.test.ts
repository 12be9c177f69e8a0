/**
 * LocalUsers without a node: which hashes a Basic login is verified against. An unknown login must
 * cost what a known one costs, so its dummy verification uses the cluster's current scheme and
 * parameters (asserted through the `verify` seam, not with a clock).
 */
import { describe, expect, it } from 'vitest';
import { LocalUsers } from '../../src/auth/local-users.js';
import { DEFAULT_LOGIN_POLICY } from '../../src/auth/login-policy.js';
import { DUMMY_HASHES, hashPassword, verifyPassword, type HashScheme } from '../../src/auth/password.js';
import type { UserRecord } from '../../src/auth/user-record.js';
import type { Collection } from '../../src/store/object-store.js';

const req = { log: { info() {}, warn() {} }, routeOptions: { config: {} } } as any;

/** Scheme and cost parameters of a stored hash: everything but the salt and the hash. */
const params = (stored: string) => stored.split('$').slice(0, stored.startsWith('scrypt$') ? 4 : 2).join('$');

function user(uid: number, email: string, hash: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    uid, name: email.split('@')[0]!, email, role: 'db_viewer', role_uids: [5], auth_method: 'regular', status: 'active',
    email_alerts: true, password_issue_date: '2025-01-01T00:00:00Z', password_hashes: [hash], ...extra,
  };
}

function setup(scheme: HashScheme, records: UserRecord[]) {
  const verified: string[] = [];
  const users = {
    list: async () => records,
    get: async (uid: number) => {
      const u = records.find((r) => r.uid === uid);
      return u && { value: u, modRevision: 1 };
    },
    kvPut: async () => undefined,
  } as unknown as Collection<UserRecord>;
  const local = new LocalUsers(users, {
    settings: async () => ({ policy: DEFAULT_LOGIN_POLICY, scheme }),
    verify: async (password, stored, prehash) => {
      verified.push(stored);
      return verifyPassword(password, stored, prehash);
    },
  });
  return { local, verified };
}

describe('LocalUsers: the dummy verification for unknown logins', () => {
  for (const scheme of ['scrypt', 'pbkdf2'] as const) {
    it(`uses the cluster's current scheme and a real hash's parameters (${scheme})`, async () => {
      const real = await hashPassword('right-password', scheme);
      const { local, verified } = setup(scheme, [
        user(2, 'known@example.com', real),
        user(3, 'cert@example.com', '', { auth_method: 'certificate', password_hashes: [] }),
      ]);

      // A known user with a wrong password: one verification against its real hash.
      await expect(local.verifyBasic('known@example.com', 'wrong-password', req)).rejects.toMatchObject({ statusCode: 401 });
      expect(verified).toEqual([real]);

      // An unknown login, and a user that cannot sign in with a password: the same work.
      verified.length = 0;
      expect(await local.verifyBasic('nobody@example.com', 'wrong-password', req)).toBeUndefined();
      expect(await local.verifyBasic('cert@example.com', 'wrong-password', req)).toBeUndefined();
      expect(verified).toEqual([DUMMY_HASHES[scheme], DUMMY_HASHES[scheme]]);
      expect(params(DUMMY_HASHES[scheme])).toBe(params(real));
    });
  }

  it('the dummy hashes are well formed and match no password', async () => {
    for (const dummy of Object.values(DUMMY_HASHES)) {
      expect(await verifyPassword('', dummy)).toBe(false);
      expect(await verifyPassword('any-password', dummy)).toBe(false);
    }
    expect(params(DUMMY_HASHES.pbkdf2)).toMatch(/^pbkdf2-sha256\$\d+$/);
    expect(params(DUMMY_HASHES.scrypt)).toMatch(/^scrypt\$\d+\$\d+\$\d+$/);
  });
});
