/**
 * Real host facts for the RS `node` object, `GET /v1/nodes/{uid}/status` and
 * `GET /v1/bootstrap`'s `local_node_info`.
 *
 * Shapes and units follow the real Redis Software captures rather than the docs
 * where they disagree: storage sizes and memory are numbers in bytes, and the
 * address list is `available_addresses` (the docs' example says `available_addrs`).
 *
 * Only `node:` built-ins are used; file paths are injectable for tests.
 */
import fs, { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** One entry of `local_node_info.available_addresses`. */
export interface AvailableAddress {
  address: string;
  format: 'ipv4' | 'ipv6';
  if_name: string;
  private: boolean;
}

/** OS identification fields of the node object. */
export interface OsInfo {
  /** Doc enum is 'rhel' | 'ubuntu' | 'amzn'; other distros report their own family (e.g. 'debian'). */
  os_family: string;
  os_name: string;
  os_semantic_version: string;
  os_version: string;
}

/** Size of the filesystem holding a path, in bytes. */
export interface StorageFacts {
  /** The path as requested (not the existing ancestor that was actually measured). */
  path: string;
  /** Total bytes of the filesystem (blocks * bsize). */
  size: number;
  /** Free bytes including root-reserved blocks (bfree * bsize) — RS stats' `*_storage_free`. */
  free: number;
  /** Bytes available to unprivileged users (bavail * bsize) — RS stats' `*_storage_avail`. */
  avail: number;
}

export interface MemoryFacts {
  /** Total physical memory in bytes. */
  total_memory: number;
  /** Memory available for new allocations in bytes. */
  free_ram: number;
}

export interface HostFacts extends OsInfo {
  architecture: string;
  cores: number;
  total_memory: number;
  free_ram: number;
  available_addresses: AvailableAddress[];
  short_hostname: string;
  persistent_storage_path: string;
  persistent_storage_size: number;
  ephemeral_storage_path: string;
  ephemeral_storage_size: number;
  uptime: number;
  /** Suggested internal node address (`addr`). */
  default_addr: string;
}

/**
 * Hardware architecture in the `uname -m` spelling RS reports ('x86_64', 'aarch64'),
 * mapped from Node's `os.arch()` naming ('x64', 'arm64').
 */
export function architecture(arch: string = os.arch()): string {
  switch (arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i686';
    case 'arm':
      return 'armv7l';
    case 'ppc64':
      // Node reports 'ppc64' for both endiannesses; Linux distros are little-endian in practice.
      return os.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
    default:
      return arch;
  }
}

/**
 * Parse os-release(5) text into a key/value map. Values may be bare, or single/double
 * quoted with backslash escapes inside double quotes; comments and blank lines are skipped.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(["\\`$])/g, '$1');
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Map os-release ID / ID_LIKE to RS's `os_family`. RS only documents 'rhel', 'ubuntu' and
 * 'amzn'; RHEL rebuilds (Rocky, Alma, CentOS, Oracle) are reported as 'rhel', Ubuntu
 * derivatives as 'ubuntu', and anything else (e.g. Debian) as its own ID.
 */
function osFamily(id: string, idLike: string[]): string {
  if (id === 'rhel' || id === 'ubuntu' || id === 'amzn') return id;
  if (idLike.includes('rhel') || idLike.includes('centos') || idLike.includes('fedora')) return 'rhel';
  if (idLike.includes('ubuntu')) return 'ubuntu';
  return id;
}

/**
 * Operating-system identification from os-release: `os_name` = ID, `os_semantic_version` =
 * VERSION_ID, `os_version` = PRETTY_NAME (matches the captures, e.g. 'ubuntu' / '22.04' /
 * 'Ubuntu 22.04.5 LTS'). When the file can't be read (non-Linux, minimal images) falls back
 * to `os.type()` / `os.release()` so the node object is still filled in.
 */
export async function osInfo(osReleasePath = '/etc/os-release'): Promise<OsInfo> {
  let text: string;
  try {
    text = await fsp.readFile(osReleasePath, 'utf8');
  } catch {
    const type = os.type();
    const name = type.toLowerCase();
    return {
      os_family: name,
      os_name: name,
      os_semantic_version: os.release(),
      os_version: `${type} ${os.release()}`,
    };
  }
  const kv = parseOsRelease(text);
  // Defaults per os-release(5): ID=linux, NAME=Linux, PRETTY_NAME=Linux.
  const id = (kv.ID || 'linux').toLowerCase();
  const idLike = (kv.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  return {
    os_family: osFamily(id, idLike),
    os_name: id,
    // Rolling distros (Arch, Debian sid) have no VERSION_ID; BUILD_ID is the closest thing.
    os_semantic_version: kv.VERSION_ID ?? kv.BUILD_ID ?? '',
    os_version: kv.PRETTY_NAME || kv.NAME || 'Linux',
  };
}

function ipv4Octets(address: string): number[] | null {
  if (!net.isIPv4(address)) return null;
  return address.split('.').map((p) => Number(p));
}

/** Expand an IPv6 address (with optional '::' and dotted IPv4 tail) into its 8 hextets. */
function ipv6Hextets(addr: string): number[] | null {
  if (!net.isIPv6(addr)) return null;
  let a = addr;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (tail) {
    const o = tail[1].split('.').map(Number);
    a = a.slice(0, -tail[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, rest] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - left.length - right.length : 0;
  const parts = [...left, ...Array<string>(fill).fill('0'), ...right];
  return parts.length === 8 ? parts.map((x) => parseInt(x, 16)) : null;
}

/**
 * Whether an address is private: RFC 1918 (10/8, 172.16/12, 192.168/16) or IPv4
 * link-local (169.254/16); IPv6 unique-local fc00::/7 or link-local fe80::/10.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified by its IPv4 part. A zone suffix
 * (`%eth0`) is ignored. Anything that isn't a valid IP is not private.
 */
export function isPrivateAddress(address: string): boolean {
  const addr = address.split('%')[0].trim().toLowerCase();
  const v4 = ipv4Octets(addr);
  if (v4) {
    const [a, b] = v4;
    return (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const h = ipv6Hextets(addr);
  if (!h) return false;
  // IPv4-mapped ::ffff:a.b.c.d — classify the embedded IPv4 address.
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) {
    return isPrivateAddress(`${h[6] >> 8}.${h[6] & 0xff}.${h[7] >> 8}.${h[7] & 0xff}`);
  }
  const first = h[0];
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/**
 * Non-loopback addresses of all interfaces, in `os.networkInterfaces()` order
 * (interface insertion order, then address order), as RS's `available_addresses`.
 * Internal (loopback) addresses are excluded because they can't be used to reach the node.
 */
export function availableAddresses(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): AvailableAddress[] {
  const out: AvailableAddress[] = [];
  for (const [ifName, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      // Node 18.0–18.3 reported family as a number; normalise both forms.
      const fam = String(info.family);
      const format: 'ipv4' | 'ipv6' = fam === 'IPv4' || fam === '4' ? 'ipv4' : 'ipv6';
      out.push({ address: info.address, format, if_name: ifName, private: isPrivateAddress(info.address) });
    }
  }
  return out;
}

/**
 * Size and free space (bytes) of the filesystem holding `p`. Nothing is created: if `p`
 * doesn't exist yet (storage dirs are made later in bootstrap), the nearest existing
 * ancestor is measured instead, which is the filesystem the path will live on.
 */
export async function storageFacts(p: string): Promise<StorageFacts> {
  let probe = path.resolve(p);
  for (;;) {
    try {
      const s = await fsp.statfs(probe);
      return {
        path: p,
        size: s.blocks * s.bsize,
        free: s.bfree * s.bsize,
        avail: s.bavail * s.bsize,
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(probe);
      // ENOTDIR: a component is a regular file; its directory is still the right filesystem.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === probe) throw err;
      probe = parent;
    }
  }
}

/**
 * Total memory and free RAM in bytes. `free_ram` prefers MemAvailable from /proc/meminfo
 * because `os.freemem()` (MemFree) excludes reclaimable page cache and so badly
 * understates what a new Redis shard could actually use; falls back to `os.freemem()`.
 */
export async function memoryFacts(meminfoPath = '/proc/meminfo'): Promise<MemoryFacts> {
  const total_memory = os.totalmem();
  let free_ram = os.freemem();
  try {
    const text = await fsp.readFile(meminfoPath, 'utf8');
    const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(text);
    if (m) free_ram = Number(m[1]) * 1024;
  } catch {
    // not Linux or /proc not mounted: keep os.freemem()
  }
  return { total_memory, free_ram };
}

/** System uptime in whole seconds (RS `uptime` is an integer). */
export function uptimeSeconds(): number {
  return Math.floor(os.uptime());
}

/**
 * Pick the node's internal address: the first private IPv4, else the first non-loopback
 * IPv4 (hosts on public / documentation ranges still need a reachable addr), else loopback.
 */
export function defaultAddress(addresses: AvailableAddress[]): string {
  const v4 = addresses.filter((a) => a.format === 'ipv4');
  return (v4.find((a) => a.private) ?? v4[0])?.address ?? '127.0.0.1';
}

/**
 * Everything the node object, node status and bootstrap `local_node_info` need about the
 * host, gathered in one call. Storage paths are reported as given; their sizes are those of
 * the filesystems that hold (or will hold) them.
 */
export async function hostFacts(opts: { persistentPath: string; ephemeralPath: string }): Promise<HostFacts> {
  const [osi, mem, persistent, ephemeral] = await Promise.all([
    osInfo(),
    memoryFacts(),
    storageFacts(opts.persistentPath),
    storageFacts(opts.ephemeralPath),
  ]);
  const available_addresses = availableAddresses();
  return {
    architecture: architecture(),
    // os.cpus() can be empty where /proc/cpuinfo is hidden (some sandboxes); don't report 0 cores.
    cores: os.cpus().length || os.availableParallelism(),
    total_memory: mem.total_memory,
    free_ram: mem.free_ram,
    ...osi,
    available_addresses,
    short_hostname: os.hostname().split('.')[0],
    persistent_storage_path: opts.persistentPath,
    persistent_storage_size: persistent.size,
    ephemeral_storage_path: opts.ephemeralPath,
    ephemeral_storage_size: ephemeral.size,
    uptime: uptimeSeconds(),
    default_addr: defaultAddress(available_addresses),
  };
}

/**
 * The open-files limit of this process, which the shards it starts inherit (`Max open files` in /proc/self/limits;
 * Infinity for `unlimited`); undefined when it cannot be read.
 */
export function openFilesLimit(limitsPath = '/proc/self/limits'): { soft: number; hard: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(limitsPath, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const num = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  const [soft, hard] = [num(m[1]!), num(m[2]!)];
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}
