import { mkdtemp, rm, writeFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  architecture,
  availableAddresses,
  defaultAddress,
  hostFacts,
  isPrivateAddress,
  memoryFacts,
  openFilesLimit,
  osInfo,
  parseOsRelease,
  storageFacts,
  uptimeSeconds,
} from '../../src/host/host-facts.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'openrs-hostfacts-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('architecture', () => {
  it('maps Node arch names to uname -m names', () => {
    expect(architecture('x64')).toBe('x86_64');
    expect(architecture('arm64')).toBe('aarch64');
    expect(architecture('s390x')).toBe('s390x');
  });

  it('reports this machine in uname spelling', () => {
    const a = architecture();
    expect(a).not.toBe('x64');
    expect(a).not.toBe('arm64');
    if (os.arch() === 'x64') expect(a).toBe('x86_64');
    if (os.arch() === 'arm64') expect(a).toBe('aarch64');
  });
});

describe('osInfo', () => {
  it('parses an Ubuntu os-release like the capture', async () => {
    const f = path.join(tmp, 'os-release-ubuntu');
    await writeFile(
      f,
      [
        'PRETTY_NAME="Ubuntu 22.04.5 LTS"',
        'NAME="Ubuntu"',
        'VERSION_ID="22.04"',
        'VERSION="22.04.5 LTS (Jammy Jellyfish)"',
        'VERSION_CODENAME=jammy',
        'ID=ubuntu',
        'ID_LIKE=debian',
        'HOME_URL="https://www.ubuntu.com/"',
        '',
      ].join('\n'),
    );
    expect(await osInfo(f)).toEqual({
      os_family: 'ubuntu',
      os_name: 'ubuntu',
      os_semantic_version: '22.04',
      os_version: 'Ubuntu 22.04.5 LTS',
    });
  });

  it('parses a Debian os-release (family reported as debian)', async () => {
    const f = path.join(tmp, 'os-release-debian');
    await writeFile(
      f,
      [
        '# comment line',
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
        'NAME="Debian GNU/Linux"',
        'VERSION_ID="12"',
        'VERSION="12 (bookworm)"',
        'VERSION_CODENAME=bookworm',
        'ID=debian',
        'HOME_URL="https://www.debian.org/"',
      ].join('\n'),
    );
    expect(await osInfo(f)).toEqual({
      os_family: 'debian',
      os_name: 'debian',
      os_semantic_version: '12',
      os_version: 'Debian GNU/Linux 12 (bookworm)',
    });
  });

  it('maps RHEL rebuilds to rhel and keeps amzn', async () => {
    const rocky = path.join(tmp, 'os-release-rocky');
    await writeFile(rocky, 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n');
    expect(await osInfo(rocky)).toMatchObject({ os_family: 'rhel', os_name: 'rocky', os_semantic_version: '9.3' });
    const amzn = path.join(tmp, 'os-release-amzn');
    await writeFile(amzn, 'ID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023"\n');
    expect(await osInfo(amzn)).toMatchObject({ os_family: 'amzn', os_name: 'amzn', os_semantic_version: '2023' });
  });

  it('falls back to os.type()/os.release() when the file is missing', async () => {
    const info = await osInfo(path.join(tmp, 'does-not-exist'));
    expect(info.os_name).toBe(os.type().toLowerCase());
    expect(info.os_semantic_version).toBe(os.release());
    expect(info.os_version).toContain(os.release());
  });

  it('handles quoting and escapes', () => {
    expect(parseOsRelease(`A="x \\"y\\""\nB='single q'\nC=bare\n\n#D=no\n`)).toEqual({
      A: 'x "y"',
      B: 'single q',
      C: 'bare',
    });
  });
});

describe('isPrivateAddress', () => {
  it.each([
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['172.16.0.1', true],
    ['172.31.255.254', true],
    ['172.15.0.1', false],
    ['172.32.0.1', false],
    ['192.168.16.2', true],
    ['192.169.0.1', false],
    ['169.254.1.1', true],
    ['8.8.8.8', false],
    ['192.0.2.2', false],
    ['11.0.0.1', false],
    ['fd00::2', true],
    ['fc00::1', true],
    ['FDAB:1234::1', true],
    ['fe80::fc:ff:fe00:1', true],
    ['fe80::1%eth0', true],
    ['febf::1', true],
    ['fec0::1', false],
    ['fe00::1', false],
    ['2001:db8::1', false],
    ['2606:4700::1111', false],
    ['::ffff:10.1.2.3', true],
    ['::ffff:8.8.8.8', false],
    ['::1', false],
    ['not-an-ip', false],
  ])('%s → %s', (addr, expected) => {
    expect(isPrivateAddress(addr)).toBe(expected);
  });
});

describe('availableAddresses', () => {
  it('excludes internal addresses and classifies the rest', () => {
    const fake: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {
      lo: [
        { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
        { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
      ],
      eth0: [
        { address: '192.168.16.2', netmask: '255.255.240.0', family: 'IPv4', mac: '02:42:c0:a8:10:02', internal: false, cidr: '192.168.16.2/20' },
        { address: 'fe80::42:c0ff:fea8:1002', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:42:c0:a8:10:02', internal: false, cidr: 'fe80::42:c0ff:fea8:1002/64', scopeid: 2 },
      ],
      eth1: [
        { address: '203.0.113.9', netmask: '255.255.255.0', family: 'IPv4', mac: '02:42:c0:a8:10:03', internal: false, cidr: '203.0.113.9/24' },
      ],
    };
    const got = availableAddresses(fake);
    expect(got).toEqual([
      { address: '192.168.16.2', format: 'ipv4', if_name: 'eth0', private: true },
      { address: 'fe80::42:c0ff:fea8:1002', format: 'ipv6', if_name: 'eth0', private: true },
      { address: '203.0.113.9', format: 'ipv4', if_name: 'eth1', private: false },
    ]);
    expect(defaultAddress(got)).toBe('192.168.16.2');
    expect(defaultAddress(got.filter((a) => !a.private))).toBe('203.0.113.9');
    expect(defaultAddress([])).toBe('127.0.0.1');
  });

  it('reports no loopback addresses on the real machine', () => {
    const got = availableAddresses();
    for (const a of got) {
      expect(a.address).not.toBe('127.0.0.1');
      expect(a.address).not.toBe('::1');
      expect(['ipv4', 'ipv6']).toContain(a.format);
      expect(a.if_name.length).toBeGreaterThan(0);
    }
  });
});

describe('storageFacts', () => {
  it('reports size > free > 0 in bytes for tmpdir', async () => {
    const s = await storageFacts(os.tmpdir());
    expect(s.path).toBe(os.tmpdir());
    expect(Number.isInteger(s.size)).toBe(true);
    expect(s.size).toBeGreaterThan(s.free);
    expect(s.free).toBeGreaterThan(0);
    expect(s.free).toBeGreaterThanOrEqual(s.avail);
    const raw = await statfs(os.tmpdir());
    expect(s.size).toBe(raw.blocks * raw.bsize);
    // bytes, not KiB/MiB: a filesystem holding a tmpdir is at least a megabyte
    expect(s.size).toBeGreaterThan(1024 * 1024);
  });

  it('resolves a non-existing subpath to its nearest existing parent without creating it', async () => {
    const missing = path.join(tmp, 'no', 'such', 'dir');
    const s = await storageFacts(missing);
    const parent = await storageFacts(tmp);
    expect(s.path).toBe(missing);
    expect(s.size).toBe(parent.size);
    await expect(statfs(path.join(tmp, 'no'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('memory and uptime', () => {
  it('total_memory > free_ram > 0', async () => {
    const m = await memoryFacts();
    expect(m.total_memory).toBe(os.totalmem());
    expect(m.free_ram).toBeGreaterThan(0);
    expect(m.total_memory).toBeGreaterThan(m.free_ram);
  });

  it('reads MemAvailable (kB) from a meminfo file', async () => {
    const f = path.join(tmp, 'meminfo');
    await writeFile(f, 'MemTotal:       24684092 kB\nMemFree:        1000 kB\nMemAvailable:   2048 kB\n');
    expect((await memoryFacts(f)).free_ram).toBe(2048 * 1024);
    expect((await memoryFacts(path.join(tmp, 'nope'))).free_ram).toBeGreaterThan(0);
  });

  it('uptime is a positive integer', () => {
    const u = uptimeSeconds();
    expect(Number.isInteger(u)).toBe(true);
    expect(u).toBeGreaterThan(0);
  });
});

describe('hostFacts', () => {
  it('gathers everything for the node object', async () => {
    const persistent = path.join(tmp, 'persist');
    const ephemeral = path.join(tmp, 'ephemeral');
    const f = await hostFacts({ persistentPath: persistent, ephemeralPath: ephemeral });
    expect(f.cores).toBe(os.cpus().length);
    expect(f.cores).toBeGreaterThan(0);
    expect(f.architecture).toBe(architecture());
    expect(f.total_memory).toBeGreaterThan(f.free_ram);
    expect(f.free_ram).toBeGreaterThan(0);
    expect(f.uptime).toBeGreaterThan(0);
    expect(f.persistent_storage_path).toBe(persistent);
    expect(f.ephemeral_storage_path).toBe(ephemeral);
    const tmpSize = (await storageFacts(tmp)).size;
    expect(f.persistent_storage_size).toBe(tmpSize);
    expect(f.ephemeral_storage_size).toBe(tmpSize);
    expect(f.short_hostname).toBe(os.hostname().split('.')[0]);
    expect(f.short_hostname).not.toContain('.');
    expect(f.os_name.length).toBeGreaterThan(0);
    expect(typeof f.os_version).toBe('string');
    expect(f.available_addresses).toEqual(availableAddresses());
    expect(f.default_addr).toBe(defaultAddress(f.available_addresses));
  });
});

describe('openFilesLimit', () => {
  it('reads Max open files from a limits file (unlimited as Infinity) and this process\'s own', async () => {
    const f = path.join(tmp, 'limits');
    await writeFile(f, 'Limit                     Soft Limit           Hard Limit           Units\nMax processes             63474                63474                processes\nMax open files            1024                 4096                 files\n');
    expect(openFilesLimit(f)).toEqual({ soft: 1024, hard: 4096 });
    await writeFile(f, 'Max open files            unlimited            unlimited            files\n');
    expect(openFilesLimit(f)).toEqual({ soft: Infinity, hard: Infinity });
    expect(openFilesLimit(path.join(tmp, 'missing'))).toBeUndefined();
    const own = openFilesLimit()!;
    expect(own.hard).toBeGreaterThanOrEqual(own.soft);
  });
});
