/**
 * Real availability checks of a database (requests/bdbs/availability.md, monitoring/db-availability.md):
 * its endpoint's port is bound by the proxy, its master shard answers PING (from the manager for
 * the database check, from the proxy, as a client of the endpoint would reach it, for the local
 * endpoint check), and, when asked (`extend_check=lag`), every replica is within the lag tolerance.
 */
import type { ShardInventory, ShardSummary } from '../services/shard-inventory.js';
import type { DataPlane } from './data-plane.js';
import { endpointUid } from './endpoint-spec.js';

export type Unavailable = 'shard_unreachable' | 'port_unbound' | 'lag_exceeded';

export interface AvailabilityReport {
  /** Empty when available; otherwise each reason, in the documented order. */
  reasons: Unavailable[];
  /** Human-readable details per reason. */
  details: string[];
}

/** How often a replica's offset is read while waiting for it to catch up. */
const LAG_POLL_MS = 5;

export class AvailabilityProbe {
  constructor(private readonly plane: DataPlane, private readonly shards: ShardInventory) {}

  /**
   * `from: 'manager'` (GET /v1/bdbs/{uid}/availability): the master shard PINGed by the manager.
   * `from: 'endpoint'` (GET /v1/local/bdbs/{uid}/endpoint/availability): PINGed by the proxy through the endpoint's route.
   */
  async check(bdbUid: number, o: { from: 'manager' | 'endpoint'; lagToleranceMs?: number }): Promise<AvailabilityReport> {
    const report: AvailabilityReport = { reasons: [], details: [] };
    const shards = await this.shards.ofBdb(bdbUid);
    const master = shards.find((s) => s.role === 'master');
    let probe: { listening: boolean; target_reachable: boolean; reply: string } | undefined;
    try {
      await this.plane.ensureProxy();
      probe = await this.plane.proxy.probe(endpointUid(bdbUid));
    } catch (e) {
      probe = undefined;
      report.details.push(`proxy: ${(e as Error).message}`);
    }
    const masterUp = master?.port !== undefined && (o.from === 'endpoint'
      ? probe?.target_reachable === true
      : await this.plane.supervisor.ping({ uid: master.uid, port: master.port, dir: master.dir ?? '' }, 1000));
    if (!masterUp) {
      report.reasons.push('shard_unreachable');
      report.details.push(master ? `master shard redis:${master.uid} does not answer${probe && o.from === 'endpoint' ? ` (${probe.reply})` : ''}` : 'no master shard');
    }
    if (!probe?.listening) {
      report.reasons.push('port_unbound');
      report.details.push('the endpoint port is not bound');
    }
    if (o.lagToleranceMs !== undefined && masterUp && master) {
      for (const r of shards.filter((s) => s.role === 'slave')) {
        const lag = await this.lagWithin(master, r, o.lagToleranceMs);
        if (lag !== undefined) {
          report.reasons.push('lag_exceeded');
          report.details.push(`replica redis:${r.uid}: ${lag}`);
          break;
        }
      }
    }
    return report;
  }

  /**
   * Whether the replica reaches the master's current replication offset within `toleranceMs`:
   * undefined if it does, else why not. INFO's per-replica `lag` counts whole seconds since the
   * last ACK, too coarse for a 100 ms tolerance, so the offsets are compared directly.
   */
  private async lagWithin(master: ShardSummary, replica: ShardSummary, toleranceMs: number): Promise<string | undefined> {
    try {
      const target = Number((await this.plane.admin(master).info('replication')).replication?.master_repl_offset ?? NaN);
      const deadline = Date.now() + toleranceMs;
      for (;;) {
        const r = (await this.plane.admin(replica).info('replication')).replication ?? {};
        if (r.master_link_status !== 'up') return `replication link is ${r.master_link_status ?? 'unknown'}`;
        const offset = Number(r.slave_repl_offset ?? NaN);
        if (offset >= target) return undefined;
        if (Date.now() >= deadline) return `${target - offset} bytes behind after ${toleranceMs} ms`;
        await new Promise((res) => setTimeout(res, LAG_POLL_MS));
      }
    } catch (e) {
      return `cannot read its replication state: ${(e as Error).message}`;
    }
  }
}
