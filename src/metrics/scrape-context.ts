/** What one scrape reads: the newest stats sample, recent 1sec entries, and the CCS objects. */
import type { BdbRecord } from '../services/bdb-view.js';
import type { NodeRecord } from '../services/node-service.js';
import type { Derived } from '../stats/derive.js';
import type { RawSnapshot } from '../stats/raw.js';
import type { RollupStore } from '../stats/rollup.js';

export interface ScrapeContext {
  cluster: string;
  /**
   * The policy's metrics_exporter_expose_bdb_name (default false): database names go into labels
   * (v1 `bdb_up{bdb_name}`, v2 `db_config{db_name}`) only when it is true.
   */
  exposeBdbName: boolean;
  /** Unix seconds of the scrape. */
  now: number;
  latest: { derived: Derived; snapshot: RawSnapshot; etimeSec: number } | undefined;
  /** For the v1 `_max` / `_min` / `_median` figures over the retained 1sec entries. */
  store: RollupStore;
  bdbs: BdbRecord[];
  nodes: NodeRecord[];
  softwareVersion: string;
  usersCount: number;
  license?: { expirationDays: number; shardsLimit?: number; ramShardsLimit?: number };
  /** Certificate name → seconds until it expires. */
  certificates: Record<string, number>;
}

/** db_status values of the v2 reference: 0 active ... 5 recovery, 99 unknown. */
export const DB_STATUS: Record<string, number> = {
  active: 0, 'active-change-pending': 1, pending: 2, 'import-pending': 3, 'delete-pending': 4, recovery: 5,
};
