/**
 * What a database's syncer would report: requests/bdbs/peer_stats.md (Active-Active peers),
 * sync_source_stats.md (Replica Of sources) and syncer_state/ (the syncer's own state).
 *
 * openrs runs no syncer: `crdt: true` and non-empty `replica_sources` / `sync_sources` are refused
 * at create and update (docs/decisions/bdb-schema.md, "Unsupported fields"). So every database is a
 * plain one, and these views answer what is true of it: no peers (406, "Database is not a CRDB"),
 * no sync sources (an empty list), no syncer state (404). A record that somehow had a syncer is
 * refused as unsupported rather than described with made-up numbers.
 */
import { RsError } from '../errors.js';
import { parseStatsQuery } from '../stats/stats-service.js';
import type { Collection } from '../store/object-store.js';
import type { BdbRecord } from './bdb-view.js';

/** The stats query of these pages: interval, stime, etime (all optional). */
export interface SyncStatsQuery {
  interval?: string;
  stime?: string;
  etime?: string;
}

/** Which syncer state: the Active-Active one (`crdt`, also the deprecated bare route) or Replica Of's. */
export type SyncerKind = 'crdt' | 'replica';

/** The Replica Of sources the syncer would pull from (`sync_sources` is their deprecated name). */
const sourcesOf = (rec: BdbRecord): unknown[] => [...(rec.replica_sources ?? []), ...(rec.sync_sources ?? [])];

const noSyncer = (what: string) => new RsError('unsupported_option', `${what} is not implemented by openrs (it runs no syncer)`);

/** A `{int: uid}` path segment; anything else names nothing (`code`, 404). */
function uidIn(raw: string, code: 'peer_not_exist' | 'sync_source_not_exist'): number {
  if (!/^[0-9]{1,9}$/.test(raw)) throw new RsError(code, `No such object: '${raw}'`);
  return Number(raw);
}

export class BdbSyncService {
  constructor(private readonly bdbs: Collection<BdbRecord>) {}

  private async record(uid: number): Promise<BdbRecord> {
    const rec = (await this.bdbs.get(uid))?.value;
    if (!rec) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    return rec;
  }

  /** GET /v1/bdbs/{uid}/peer_stats[/{peer}]: 404 without the database, 406 unless it is a CRDB. */
  async peerStats(uid: number, q: SyncStatsQuery, peer?: string): Promise<never> {
    const rec = await this.record(uid);
    // The database is looked up first: a missing one is the 404 whatever the rest of the path says.
    const peerUid = peer === undefined ? undefined : uidIn(peer, 'peer_not_exist');
    if (rec.crdt !== true) {
      throw new RsError('bdb_not_crdb', `Database ${uid} is not a CRDB (Active-Active database): it has no peer instances${peerUid === undefined ? '' : `, so no peer ${peerUid}`}`);
    }
    parseStatsQuery(q);
    throw noSyncer('Active-Active peer statistics');
  }

  /**
   * GET /v1/bdbs/{uid}/sync_source_stats: one entry per sync source. A database without sources
   * has none to report: `{ sync_source_stats: [] }`, the page's list, empty.
   */
  async syncSourceStats(uid: number, q: SyncStatsQuery): Promise<{ sync_source_stats: unknown[] }> {
    const rec = await this.record(uid);
    parseStatsQuery(q);
    if (sourcesOf(rec).length > 0) throw noSyncer('Sync source statistics');
    return { sync_source_stats: [] };
  }

  /** GET /v1/bdbs/{uid}/sync_source_stats/{src}: 404 for a source the database does not have. */
  async syncSourceStatsOf(uid: number, q: SyncStatsQuery, src: string): Promise<never> {
    const rec = await this.record(uid);
    const srcUid = uidIn(src, 'sync_source_not_exist');
    parseStatsQuery(q);
    const sources = sourcesOf(rec);
    if (sources.length === 0) throw new RsError('sync_source_not_exist', `Database ${uid} has no sync sources (Replica Of is not configured), so no sync source ${srcUid}`);
    throw noSyncer('Sync source statistics');
  }

  /** GET /v1/bdbs/{uid}/syncer_state[/crdt|/replica]: 404 when the database has no such syncer. */
  async syncerState(uid: number, kind: SyncerKind): Promise<never> {
    const rec = await this.record(uid);
    if (kind === 'crdt' && rec.crdt !== true) {
      throw new RsError('syncer_state_not_exist', `Database ${uid} is not a CRDB (Active-Active database): it has no CRDT syncer state`);
    }
    if (kind === 'replica' && sourcesOf(rec).length === 0) {
      throw new RsError('syncer_state_not_exist', `Database ${uid} has no Replica Of sources: it has no replica syncer state`);
    }
    throw noSyncer('The syncer state');
  }
}

