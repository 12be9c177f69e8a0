/** Parsers for Redis replies the admin client reads (INFO, ROLE). Pure. */

/** Parsed INFO: section (lower case, e.g. `replication`) → field → value, as Redis prints them. */
export type InfoSections = Record<string, Record<string, string>>;

/** The ROLE reply. Role names are Redis's (and RS's shard roles): master, slave. */
export type RoleInfo =
  | { role: 'master'; offset: number; replicas: { host: string; port: number; offset: number }[] }
  | { role: 'slave'; masterHost: string; masterPort: number; state: string; offset: number }
  | { role: 'other'; name: string };

export function parseInfo(text: string): InfoSections {
  const out: InfoSections = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      section = out[line.slice(1).trim().toLowerCase()] ??= {};
      continue;
    }
    const i = line.indexOf(':');
    if (i > 0 && section) section[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export function parseRole(reply: unknown[]): RoleInfo {
  const role = String(reply[0]);
  if (role === 'master') {
    const replicas = ((reply[2] as unknown[][] | undefined) ?? []).map((r) => ({ host: String(r[0]), port: Number(r[1]), offset: Number(r[2]) }));
    return { role, offset: Number(reply[1]), replicas };
  }
  if (role === 'slave') {
    return { role, masterHost: String(reply[1]), masterPort: Number(reply[2]), state: String(reply[3]), offset: Number(reply[4]) };
  }
  return { role: 'other', name: role };
}
