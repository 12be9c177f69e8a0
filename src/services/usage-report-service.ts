/**
 * GET /v1/usage_report (requests/usage_report): one NDJSON line per database, then a line with the
 * MD5 of everything before it. Figures come from what openrs really has: the bdb records (sizes
 * and policies), the shard inventory (master shards), the license, and the stats sampler's newest
 * 1sec sample of the database (used_memory, ops). RS collects these lines hourly with a job; openrs
 * has no such job, so a report holds one line per database measured at request time.
 * Field-by-field sources and fill-ins: docs/decisions/cluster-routes-extra.md.
 */
import { createHash } from 'node:crypto';
import type { LicenseView } from './license-rules.js';
import type { BdbRecord } from './bdb-view.js';
import type { ShardSummary } from './shard-inventory.js';
import type { StatsEntry } from '../stats/intervals.js';
import type { Clock } from '../util/clock.js';
import { timeParam } from '../util/iso-time.js';

/** The report format's version (the page's example: "1"). */
const API_VERSION = '1';
/** A 1sec sample older than this no longer describes the database (e.g. history restored at startup). */
const FRESH_MS = 60_000;

export interface UsageReportSources {
  cluster(): Promise<{ name: string; created_time?: string } | undefined>;
  bdbs(): Promise<BdbRecord[]>;
  shards(): Promise<ShardSummary[]>;
  /** The installed license, undefined when none is. */
  license(): Promise<LicenseView | undefined>;
  /** The newest 1sec stats sample of a database, if any. */
  latestBdbSample(uid: number): StatsEntry | undefined;
  softwareVersion: string;
  clock: Clock;
}

export interface UsageReportQuery {
  stime?: string;
  etime?: string;
}

/**
 * A stable id for the cluster: the RS cluster object has no uuid to report, so it is derived
 * (name-based, RFC 9562 version 5 layout) from the cluster's name and creation time, which
 * never change for a cluster and differ between clusters.
 */
export function clusterUuid(name: string, createdTime: string): string {
  const h = createHash('sha1').update(`openrs-cluster\n${name}\n${createdTime}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The page's `date` form: ISO 8601 UTC with microseconds ("2024-08-08T13:16:00.000000Z"). */
const reportDate = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

const num = (e: StatsEntry | undefined, m: string) => (typeof e?.[m] === 'number' ? (e[m] as number) : undefined);

export class UsageReportService {
  constructor(private readonly src: UsageReportSources) {}

  /** The report's lines (without the MD5 line), for the databases `scope` allows (all when undefined). */
  async records(q: UsageReportQuery, scope?: ReadonlySet<number>): Promise<Record<string, unknown>[]> {
    const from = timeParam(q.stime, 'stime');
    const to = timeParam(q.etime, 'etime');
    const now = this.src.clock.now();
    if ((from !== undefined && now.getTime() < from) || (to !== undefined && now.getTime() > to)) return [];
    const [cluster, bdbs, shards, license] = await Promise.all([this.src.cluster(), this.src.bdbs(), this.src.shards(), this.src.license()]);
    const name = cluster?.name ?? '';
    const common = {
      cluster_name: name,
      cluster_uuid: clusterUuid(name, cluster?.created_time ?? ''),
      date: reportDate(now),
      software_version: this.src.softwareVersion,
      api_version: API_VERSION,
    };
    const licenseInfo = license && {
      activation_date: license.activation_date,
      expiration_date: license.expiration_date,
      ram_shards_in_use: license.ram_shards_in_use,
      ram_shards_limit: license.ram_shards_limit,
      flash_shards_in_use: license.flash_shards_in_use,
      flash_shards_limit: license.flash_shards_limit,
      shards_limit: license.shards_limit,
    };
    return bdbs.filter((b) => !scope || scope.has(b.uid)).map((b) => {
      const sample = this.src.latestBdbSample(b.uid);
      const fresh = sample && now.getTime() - Date.parse(sample.etime) <= FRESH_MS ? sample : undefined;
      const usedMemory = num(fresh, 'used_memory');
      // Requests as RS counts them, at the endpoint; the shards' own rate when no proxy figure exists.
      const ops = num(fresh, 'total_req') ?? num(fresh, 'instantaneous_ops_per_sec');
      const flash = b.bigstore === true;
      return {
        ...common,
        bdb_uid: String(b.uid),
        type: flash ? 'auto_tiering' : 'core',
        shard_type: flash ? 'auto_tiering' : 'normal',
        dominant_shard_criteria: flash ? 'rof' : 'mem',
        provisioned_memory: b.memory_size ?? 0,
        ...(usedMemory === undefined ? {} : { used_memory: Math.round(usedMemory) }),
        master_shards_count: shards.filter((s) => s.bdb_uid === b.uid && s.role === 'master').length,
        no_eviction: b.eviction_policy === 'noeviction',
        persistence: (b.data_persistence ?? 'disabled') !== 'disabled',
        backup: b.backup === true,
        using_redis_search: (b.module_list ?? []).some((m) => m.module_name?.toLowerCase() === 'search'),
        ...(ops === undefined ? {} : { ops_sec: ops }),
        replication: b.replication === true,
        active_active: b.crdt === true,
        ...(licenseInfo ? { license: licenseInfo } : {}),
      };
    });
  }

  /** The report as the page describes it: NDJSON lines, the last one the MD5 (hex) of all before it. */
  async ndjson(q: UsageReportQuery, scope?: ReadonlySet<number>): Promise<string> {
    const body = (await this.records(q, scope)).map((r) => `${JSON.stringify(r)}\n`).join('');
    return `${body}${createHash('md5').update(body).digest('hex')}\n`;
  }
}
