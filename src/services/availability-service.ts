/**
 * GET /v1/bdbs/{uid}/availability and GET /v1/local/bdbs/{uid}/endpoint/availability
 * (requests/bdbs/availability.md): 200 `{}` when available, else the documented error codes.
 * The checks themselves are real (controller/availability.ts); this maps them onto the page's
 * codes: `bdb_unavailable` + `_shard_unreachable` / `_port_unbound` (documented suffixes) and
 * `_lag_exceeded` (openrs's suffix for a failed `extend_check=lag`), `bdb_endpoint_unavailable`,
 * `db_not_found`, `no_quorum` (the CCS cannot be read).
 */
import type { AvailabilityProbe } from '../controller/availability.js';
import { RsError } from '../errors.js';
import type { KvBackend } from '../store/kv.js';
import type { Collection, Singleton } from '../store/object-store.js';
import type { BdbRecord } from './bdb-view.js';
import type { ClusterRecord } from './cluster-defaults.js';

export interface AvailabilityQuery {
  extend_check?: string;
  availability_lag_tolerance_ms?: string;
}

/** Statuses the monitoring page lists as not available whatever the processes say. */
const DOWN_STATUSES = new Set(['creation-failed', 'recovery']);
const DEFAULT_LAG_TOLERANCE_MS = 100;
/**
 * After stop_traffic the endpoint keeps its port (proxy.md) but closes every client connection:
 * nothing can read or write, which is what these checks answer for load balancers and monitors
 * (monitoring/db-availability.md), so the database is unavailable until resume_traffic.
 */
const trafficStopped = (rec: BdbRecord): boolean => rec.traffic === 'off';

export class AvailabilityService {
  constructor(
    private readonly kv: KvBackend,
    private readonly bdbs: Collection<BdbRecord>,
    private readonly cluster: Singleton<ClusterRecord>,
    private readonly probe: AvailabilityProbe,
  ) {}

  async database(uid: number, q: AvailabilityQuery): Promise<Record<string, never>> {
    const { rec, lag } = await this.prepare(uid, q);
    if (DOWN_STATUSES.has(rec.status ?? '')) throw RsError.custom('bdb_unavailable', 503, `Database ${uid} is '${rec.status}'`);
    if (trafficStopped(rec)) throw RsError.custom('bdb_unavailable', 503, `Database ${uid} does not accept traffic: it was stopped with stop_traffic (resume_traffic starts it again)`);
    const r = await this.probe.check(uid, { from: 'manager', lagToleranceMs: lag });
    if (!r.reasons.length) return {};
    throw RsError.custom(`bdb_unavailable_${r.reasons.join('_')}`, 503, `Endpoint error status: ${r.reasons.map((x) => x.replace('_', ' ')).join(', ')} (${r.details.join('; ')})`);
  }

  async endpoint(uid: number, q: AvailabilityQuery): Promise<Record<string, never>> {
    const { rec, lag } = await this.prepare(uid, q);
    if (DOWN_STATUSES.has(rec.status ?? '')) throw new RsError('bdb_endpoint_unavailable', `Database ${uid} is '${rec.status}'`);
    if (trafficStopped(rec)) throw new RsError('bdb_endpoint_unavailable', `Local database endpoint is not available: traffic to database ${uid} was stopped with stop_traffic`);
    const r = await this.probe.check(uid, { from: 'endpoint', lagToleranceMs: lag });
    if (!r.reasons.length) return {};
    throw new RsError('bdb_endpoint_unavailable', `Local database endpoint is not available: ${r.details.join('; ')}`);
  }

  /** Parse the query (400 invalid_schema), read the bdb (404 db_not_found) with the CCS reachable (503 no_quorum). */
  private async prepare(uid: number, q: AvailabilityQuery): Promise<{ rec: BdbRecord; lag?: number }> {
    const checks = (q.extend_check ?? '').split(',').map((c) => c.trim()).filter(Boolean);
    const unknown = checks.filter((c) => c !== 'lag');
    if (unknown.length) throw new RsError('invalid_schema', `extend_check: unknown check(s) ${unknown.join(', ')} (known: lag)`);
    const raw = q.availability_lag_tolerance_ms;
    if (raw !== undefined && !/^[0-9]{1,9}$/.test(raw)) throw new RsError('invalid_schema', 'availability_lag_tolerance_ms must be a non-negative integer');
    let rec: BdbRecord | undefined;
    let tolerance: number | undefined;
    try {
      rec = (await this.bdbs.get(uid))?.value;
      if (checks.includes('lag')) tolerance = raw !== undefined ? Number(raw) : ((await this.cluster.get())?.value.availability_lag_tolerance_ms ?? DEFAULT_LAG_TOLERANCE_MS);
    } catch (e) {
      if (!(await this.kv.revision().then(() => true, () => false))) throw new RsError('no_quorum', `The cluster configuration store cannot be read: ${(e as Error).message}`);
      throw e;
    }
    if (!rec) throw new RsError('db_not_found', `Database ${uid} does not exist`);
    return { rec, lag: tolerance };
  }
}
