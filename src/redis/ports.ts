/**
 * Port allocation for database endpoints and shards. A port is free when nothing in the CCS holds
 * it, it is not reserved, and the OS lets us bind it right now (another program may own it).
 */
import net from 'node:net';
import type { PortRange } from '../config.js';

/** Expand RS reserved_ports entries ("11000", "13000-13010") to a set. */
export function expandReserved(entries: readonly (string | number)[]): Set<number> {
  const out = new Set<number>();
  for (const e of entries) {
    const [a, b = a] = String(e).split('-').map(Number) as [number, number?];
    for (let p = a; p <= (b as number); p++) out.add(p);
  }
  return out;
}

/** True when `port` can be bound on `host` at this moment. */
export function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export class PortAllocator {
  constructor(private readonly bindHost: string) {}

  /** The lowest port in range that is not taken and can be bound; undefined when none is left. */
  async allocate(range: PortRange, taken: Set<number>): Promise<number | undefined> {
    for (let p = range.from; p <= range.to; p++) {
      if (taken.has(p)) continue;
      if (await canBind(p, this.bindHost)) return p;
    }
    return undefined;
  }

  isFree(port: number): Promise<boolean> {
    return canBind(port, this.bindHost);
  }
}
