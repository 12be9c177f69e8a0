/**
 * Shard placement blueprints (requests/bdbs/actions/optimize_shards_placement.md, rebalance.md, revamp.md, and
 * `shards_blueprint` in PUT /v1/bdbs): one entry per master shard, its slot range and the nodes of its master and
 * replicas. Pure functions: the service reads the records, these compute and compare.
 */
import { createHash } from 'node:crypto';
import type { KvEntry } from '../store/kv.js';
import type { ShardSummary } from './shard-inventory.js';

export interface BlueprintNode {
  node_uid: string;
  role: string;
}

export interface BlueprintEntry {
  nodes: BlueprintNode[];
  slot_range: string;
}

export const ALL_SLOTS = '0-16383';

/** What a placement depends on (the effective bdb record). */
export interface PlacementInput {
  replication?: boolean;
  shards_count?: number;
  avoid_nodes?: string[];
  use_nodes?: string[];
}

/**
 * The placement openrs gives the database: its master on the first node it may use, its replica on another one
 * when there is one (RS's rule), else on the same node (a single-node cluster). The caller has checked that
 * shards_count is 1 and that a node is left (bdb-rules).
 */
export function optimalBlueprint(bdb: PlacementInput, nodeUids: number[]): BlueprintEntry[] {
  const avoid = new Set((bdb.avoid_nodes ?? []).map(Number));
  const use = (bdb.use_nodes ?? []).map(Number);
  const candidates = (use.length ? nodeUids.filter((n) => use.includes(n)) : nodeUids).filter((n) => !avoid.has(n));
  const master = candidates[0]!;
  const nodes: BlueprintNode[] = [{ node_uid: String(master), role: 'master' }];
  if (bdb.replication) nodes.push({ node_uid: String(candidates.find((n) => n !== master) ?? master), role: 'slave' });
  return [{ nodes, slot_range: ALL_SLOTS }];
}

/** Where the database's shards are now. */
export function currentBlueprint(shards: ShardSummary[]): BlueprintEntry[] {
  const ranges = new Map<string, BlueprintNode[]>();
  for (const s of [...shards].sort((a, b) => (a.role === b.role ? a.uid - b.uid : a.role === 'master' ? -1 : 1))) {
    const range = s.assigned_slots ?? ALL_SLOTS;
    ranges.set(range, [...(ranges.get(range) ?? []), { node_uid: String(s.node_uid), role: s.role }]);
  }
  return [...ranges].map(([slot_range, nodes]) => ({ nodes, slot_range }));
}

/** Same shards on the same nodes with the same roles, whatever the order of entries and of their nodes. */
export function sameBlueprint(a: BlueprintEntry[], b: BlueprintEntry[]): boolean {
  const key = (bp: BlueprintEntry[]) => bp.map((e) => `${e.slot_range}:${e.nodes.map((n) => `${n.role}@${n.node_uid}`).sort().join(',')}`).sort().join(';');
  return key(a) === key(b);
}

/** Why `bp` cannot be the database's layout (bad_shards_blueprint), or undefined when it fits. */
export function blueprintProblem(bp: BlueprintEntry[], bdb: PlacementInput, nodeUids: number[]): string | undefined {
  const count = bdb.shards_count ?? 1;
  if (bp.length !== count) return `the blueprint has ${bp.length} shard entries; the database has ${count} shard(s)`;
  const covered: [number, number][] = [];
  for (const e of bp) {
    const m = /^(\d+)-(\d+)$/.exec(e.slot_range);
    const [from, to] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!m || from > to || to > 16383) return `slot_range '${e.slot_range}' is not a range within 0-16383`;
    covered.push([from, to]);
    const masters = e.nodes.filter((n) => n.role === 'master').length;
    const replicas = e.nodes.length - masters;
    if (masters !== 1) return `slot range ${e.slot_range} has ${masters} masters; it needs one`;
    if (replicas !== (bdb.replication ? 1 : 0)) return `slot range ${e.slot_range} has ${replicas} replica(s); the database has ${bdb.replication ? 1 : 0}`;
    const unknown = e.nodes.find((n) => !nodeUids.includes(Number(n.node_uid)) || !/^\d+$/.test(n.node_uid));
    if (unknown) return `node ${unknown.node_uid} is not a node of the cluster`;
  }
  covered.sort((x, y) => x[0] - y[0]);
  let next = 0;
  for (const [from, to] of covered) {
    if (from !== next) return `the slot ranges ${from > next ? `leave slots ${next}-${from - 1} unassigned` : 'overlap'}`;
    next = to + 1;
  }
  if (next !== 16384) return `the slot ranges leave slots ${next}-16383 unassigned`;
  return undefined;
}

/**
 * `cluster-state-id`: changes whenever a node or a shard record is added, changed or removed (what a placement
 * depends on), so that a blueprint computed earlier is refused once the cluster moved on. An unsigned 32-bit
 * number, as RS shows a number.
 */
export function clusterStateId(entries: KvEntry[]): number {
  const h = createHash('sha256');
  for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : 1))) h.update(`${e.key}@${e.modRevision};`);
  return h.digest().readUInt32BE(0);
}
