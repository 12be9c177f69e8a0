/**
 * Node counters from Linux /proc: CPU ticks (/proc/stat), memory (/proc/meminfo) and network
 * bytes (/proc/net/dev). Parsers are pure; readers take the path so tests can feed files.
 * Off Linux the readers return undefined and the matching metrics are left out.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import type { CpuTimes } from './raw.js';

export function parseCpuTimes(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

/** MemTotal / MemFree / MemAvailable in bytes. */
export function parseMeminfo(text: string): { total: number; free: number; available: number } | undefined {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const free = kb('MemFree');
  if (total === undefined || free === undefined) return undefined;
  return { total, free, available: kb('MemAvailable') ?? free };
}

/** Received and transmitted bytes summed over interfaces other than loopback. */
export function parseNetDev(text: string): { rx: number; tx: number } | undefined {
  let rx = 0;
  let tx = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    const cols = line.slice(i + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || cols.length < 9) continue;
    rx += cols[0]!;
    tx += cols[8]!;
    seen = true;
  }
  return seen ? { rx, tx } : undefined;
}

async function read(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

export interface ProcPaths {
  stat: string;
  meminfo: string;
  netDev: string;
}
export const PROC: ProcPaths = { stat: '/proc/stat', meminfo: '/proc/meminfo', netDev: '/proc/net/dev' };

export async function readHost(paths: ProcPaths = PROC): Promise<{ cpu?: CpuTimes; memory: { total: number; free: number; available: number }; net?: { rx: number; tx: number } }> {
  const [stat, meminfo, netDev] = await Promise.all([read(paths.stat), read(paths.meminfo), read(paths.netDev)]);
  const memory = (meminfo && parseMeminfo(meminfo)) || { total: os.totalmem(), free: os.freemem(), available: os.freemem() };
  return { cpu: stat ? parseCpuTimes(stat) : undefined, memory, net: netDev ? parseNetDev(netDev) : undefined };
}
