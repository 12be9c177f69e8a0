/**
 * GET /v1/nodes/check/{uid} (requests/nodes/check.md) and GET /v1/cluster/check
 * (requests/cluster/check.md, objects/check_result.md). The checks are real and run on this node
 * (controller/node-checks.ts); this maps them onto the pages' answers: `{ node_uid, result }` plus
 * `error` (the first failing check's message) when the result is false.
 *
 * `node_uid` is an integer in the node answer and a string in the cluster answer, as each page's
 * example shows (docs/decisions/cluster-routes-health.md).
 */
import type { CheckFailure } from '../controller/node-checks.js';
import { RsError } from '../errors.js';
import type { Collection } from '../store/object-store.js';
import type { NodeRecord } from './node-service.js';

export interface NodeCheckResult {
  node_uid: number;
  result: boolean;
  error?: string;
}

export interface ClusterCheckResult {
  cluster_test_result: boolean;
  nodes: { node_uid: string; result: boolean; error?: string }[];
}

export class NodeCheckService {
  constructor(
    private readonly nodes: Collection<NodeRecord>,
    /** The checks of the node this process runs. */
    private readonly checks: { run(): Promise<CheckFailure | undefined> },
    /** uid of the node this process runs. */
    private readonly localUid: () => number | undefined,
  ) {}

  async node(uid: number): Promise<NodeCheckResult> {
    if (!(await this.nodes.get(uid))) throw new RsError('node_not_found', `Node ${uid} does not exist`);
    return this.check(uid);
  }

  async cluster(): Promise<ClusterCheckResult> {
    const results = await Promise.all((await this.nodes.list()).map((n) => this.check(n.uid)));
    return {
      cluster_test_result: results.every((r) => r.result),
      nodes: results.sort((a, b) => a.node_uid - b.node_uid).map((r) => ({ ...r, node_uid: String(r.node_uid) })),
    };
  }

  private async check(uid: number): Promise<NodeCheckResult> {
    // Only this node's processes can be asked from here; openrs clusters have one node.
    if (uid !== this.localUid()) return { node_uid: uid, result: false, error: `node ${uid} cannot be checked from node ${this.localUid() ?? '?'}` };
    const failure = await this.checks.run();
    return failure ? { node_uid: uid, result: false, error: failure.error } : { node_uid: uid, result: true };
  }
}
