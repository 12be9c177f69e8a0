/**
 * Checks src/auth/permissions.ts against the spec text itself, so a typo in the
 * hand-written table, or a spec update, shows up as a failing test.
 *
 * Sources parsed here:
 *  - permissions.md "Permissions list for each role"  (table 1: role -> permissions)
 *  - permissions.md "Roles list per permission"       (table 2: permission -> roles)
 *  - requests/**.md "Permission name | Roles" rows     (endpoint pages)
 * Rule being checked (docs/decisions-permissions.md): a role holds a permission
 * only if BOTH tables grant it and, when endpoint pages list roles for that
 * permission, at least one of them grants it too. Any disagreement => denied.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MANAGEMENT_ROLES,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  roleAllows,
} from '../../src/auth/permissions.js';

// The spec lives beside the repo (/work/shared next to /work/main).
const PERMISSIONS_MD = fileURLToPath(
  new URL('../../../shared/spec/references/rest-api/permissions.md', import.meta.url),
);
const REQUESTS_DIR = join(PERMISSIONS_MD, '..', 'requests');
const HAVE_SPEC = existsSync(PERMISSIONS_MD);
if (!HAVE_SPEC) console.warn(`permissions spec tests skipped: ${PERMISSIONS_MD} not found`);

type Table = Map<string, Set<string>>;

function add(table: Table, key: string, value: string): void {
  if (!table.has(key)) table.set(key, new Set());
  table.get(key)!.add(value);
}

/** Both tables of permissions.md, each normalised to permission -> roles. */
function parsePermissionsMd(text: string): { byRole: Table; byPermission: Table; roles: Set<string> } {
  const [, afterRoles = ''] = text.split('## Permissions list for each role');
  const [roleSection = '', permSection = ''] = afterRoles.split('## Roles list per permission');

  // Table 1. A row may wrap onto the next line (the user_manager row does), so
  // rows are split on "newline followed by |" rather than on every newline.
  // Links are matched on the [name] text only: one lacks its "#" anchor.
  const byRole: Table = new Map();
  const roles = new Set<string>();
  for (const row of roleSection.split(/\n(?=\|)/)) {
    const m = /^\|\s*(?:<a name="[^"]*"><\/a>)?(\w+)\s*\|([\s\S]*)$/.exec(row.trim());
    if (!m || m[1] === 'Role') continue; // header; the |---| separator does not match \w
    roles.add(m[1]);
    for (const [, perm] of m[2].matchAll(/\[(\w+)\]/g)) add(byRole, perm, m[1]);
  }

  // Table 2. Only the first two cells count (the view_bdb_alerts row has stray
  // text after its closing "|").
  const byPermission: Table = new Map();
  for (const line of permSection.split('\n')) {
    const m = /^\|\s*<a name="\w+"><\/a>(\w+)\s*\|([^|]*)\|/.exec(line);
    if (!m) continue;
    byPermission.set(m[1], new Set());
    for (const role of m[2].split('<br />')) if (role.trim()) add(byPermission, m[1], role.trim());
  }
  return { byRole, byPermission, roles };
}

/** Every "Permission name" table row of the endpoint pages: permission -> role lists. */
function parseEndpointPages(dir: string): { named: Set<string>; roleLists: Map<string, Set<string>[]> } {
  const named = new Set<string>();
  const roleLists = new Map<string, Set<string>[]>();
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.md')) continue;
    let inTable = false;
    for (const line of readFileSync(join(dir, rel), 'utf8').split('\n')) {
      if (/^\|\s*Permission name/i.test(line)) { inTable = true; continue; }
      if (!inTable) continue;
      if (!line.startsWith('|')) { inTable = false; continue; }
      const [nameCell = '', rolesCell = ''] = line.split('|').slice(1);
      const perm = /\[(\w+)\]/.exec(nameCell)?.[1] ?? /^\s*(\w+)\s*$/.exec(nameCell)?.[1];
      if (!perm) continue; // |---| separator
      named.add(perm);
      // Many pages give only the name; those say nothing about roles.
      const listed = rolesCell.split('<br />').map((r) => r.trim()).filter(Boolean);
      if (listed.length) roleLists.set(perm, [...(roleLists.get(perm) ?? []), new Set(listed)]);
    }
  }
  return { named, roleLists };
}

describe.skipIf(!HAVE_SPEC)(
  `permissions table vs spec${HAVE_SPEC ? '' : ` (SKIPPED: ${PERMISSIONS_MD} not found)`}`,
  () => {
    // Only read when the spec exists; skipped describe bodies still run.
    const doc = HAVE_SPEC ? parsePermissionsMd(readFileSync(PERMISSIONS_MD, 'utf8')) : undefined;
    const pages = HAVE_SPEC ? parseEndpointPages(REQUESTS_DIR) : undefined;

    it('knows exactly the roles and permissions the spec names', () => {
      expect([...doc!.roles].sort()).toEqual([...MANAGEMENT_ROLES].sort());
      const docPerms = new Set([...doc!.byRole.keys(), ...doc!.byPermission.keys()]);
      expect(docPerms.size).toBeGreaterThan(90); // guards against a parser that matched nothing
      expect([...PERMISSIONS].sort()).toEqual([...new Set([...docPerms, ...pages!.named])].sort());
    });

    it('matches the spec where all sources agree; disagreements resolve as documented', () => {
      const mismatches: string[] = [];
      const disagreements: string[] = [];
      for (const perm of PERMISSIONS) {
        for (const role of MANAGEMENT_ROLES) {
          const t1 = doc!.byRole.get(perm)?.has(role) ?? false;
          const t2 = doc!.byPermission.get(perm)?.has(role) ?? false;
          const lists = pages!.roleLists.get(perm) ?? [];
          const pageGrants = lists.some((l) => l.has(role));
          const inDoc = doc!.byRole.has(perm) || doc!.byPermission.has(perm);
          // Both tables must grant; if endpoint pages list roles, one must grant too.
          // A permission only endpoint pages name: every page listing it must grant.
          const expected = inDoc
            ? t1 && t2 && (lists.length === 0 || pageGrants)
            : lists.length > 0 && lists.every((l) => l.has(role));
          const verdict = expected ? 'allowed' : 'denied';
          if (t1 !== t2) disagreements.push(`${perm}/${role}: permissions.md tables -> ${verdict}`);
          else if (lists.some((l) => l.has(role) !== t1)) {
            disagreements.push(`${perm}/${role}: endpoint pages -> ${verdict}`);
          }
          if (roleAllows(role, perm) !== expected) mismatches.push(`${role} ${perm}: expected ${expected}`);
        }
      }
      expect(mismatches).toEqual([]);
      // Pins the list in docs/decisions-permissions.md: if the spec changes, revisit it.
      expect(disagreements.sort()).toEqual([
        'config_sso/user_manager: endpoint pages -> denied', // sso.md grants, both tables deny
        // rebalance.md omits user_manager; both tables and 7 other pages grant it. The
        // table is global, so denying would also break GET /v1/bdbs/{uid} for user_manager.
        'view_bdb_info/user_manager: endpoint pages -> allowed',
        'view_bdb_recovery_plan/user_manager: permissions.md tables -> denied',
        'view_debugging_info/user_manager: permissions.md tables -> denied',
        'view_sso/cluster_member: endpoint pages -> denied', // sso.md: admin + user_manager only
        'view_sso/cluster_viewer: endpoint pages -> denied',
        'view_sso/db_member: endpoint pages -> denied',
        'view_sso/db_viewer: endpoint pages -> denied',
      ]);
    });
  },
);

describe('permissions table invariants', () => {
  it('gives none nothing and admin everything', () => {
    expect(ROLE_PERMISSIONS.none.size).toBe(0);
    expect(PERMISSIONS.filter((p) => roleAllows('none', p))).toEqual([]);
    expect(ROLE_PERMISSIONS.admin.size).toBe(PERMISSIONS.length);
    expect(PERMISSIONS.filter((p) => !roleAllows('admin', p))).toEqual([]);
  });

  it('denies unknown roles and permissions, including prototype names', () => {
    for (const role of ['', 'Admin', 'root', '__proto__', 'constructor', 'toString']) {
      expect(roleAllows(role, 'view_bdb_info')).toBe(false);
    }
    for (const perm of ['', 'VIEW_BDB_INFO', 'nope', '__proto__', 'constructor']) {
      expect(roleAllows('admin', perm)).toBe(false);
    }
  });
});
