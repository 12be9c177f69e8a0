/** /v1/nodes, /v1/nodes/{uid}, /v1/nodes/status, /v1/nodes/{uid}/status and bootstrap's local_node_info. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { RsError } from '../errors.js';
import { availableAddresses, hostFacts, type HostFacts } from '../host/host-facts.js';
import type { Node, NodeUpdate } from '../schemas/node.js';
import { KvConflictError } from '../store/kv.js';
import type { Collection } from '../store/object-store.js';
import { rsTime, type Clock } from '../util/clock.js';
import { SOFTWARE_VERSION, SOFTWARE_VERSION_SHA, type DatabaseVersion } from '../util/product.js';
import type { ShardInventory } from './shard-inventory.js';

/** The node as kept in the CCS: its configuration. Host facts are read live at each request. */
export interface NodeRecord {
  uid: number;
  addr: string;
  external_addr: string[];
  accept_servers: boolean;
  max_listeners: number;
  max_redis_servers: number;
  max_redis_forks: number;
  max_slave_full_syncs: number;
  rack_id: string;
  second_rack_id: string;
  recovery_path: string;
  persistent_storage_path: string;
  ephemeral_storage_path: string;
  bigredis_storage_path: string;
  use_internal_ipv6: boolean;
}

export interface LocalPaths {
  persistent_path: string;
  ephemeral_path: string;
  bigstore_path: string;
}

export class NodeService {
  constructor(
    private readonly nodes: Collection<NodeRecord>,
    private readonly shards: ShardInventory,
    private readonly clock: Clock,
    private readonly databaseVersions: DatabaseVersion[],
    /** uid of the node this process runs (the only one until multi-node support). */
    private readonly localUid: () => number | undefined,
  ) {}

  facts(paths: { persistent_path: string; ephemeral_path: string }): Promise<HostFacts> {
    return hostFacts({ persistentPath: paths.persistent_path, ephemeralPath: paths.ephemeral_path });
  }

  /** bootstrap's local_node_info: a subset of the node object, shaped like the capture. */
  async localNodeInfo(paths: LocalPaths): Promise<Record<string, unknown>> {
    const f = await this.facts(paths);
    const uid = this.localUid();
    return {
      ...(uid !== undefined ? { uid: String(uid) } : {}),
      architecture: f.architecture,
      available_addresses: f.available_addresses,
      bigredis_storage_path: paths.bigstore_path,
      bridge_interfaces: [],
      cores: f.cores,
      ephemeral_storage_path: f.ephemeral_storage_path,
      ephemeral_storage_size: f.ephemeral_storage_size,
      fips_enabled: false,
      os_family: f.os_family,
      os_name: f.os_name,
      os_semantic_version: f.os_semantic_version,
      os_version: f.os_version,
      persistent_storage_path: f.persistent_storage_path,
      persistent_storage_size: f.persistent_storage_size,
      short_hostname: f.short_hostname,
      software_version: SOFTWARE_VERSION,
      supported_bigstore_drivers: [],
      supported_database_versions: this.databaseVersions,
      total_memory: f.total_memory,
      uptime: f.uptime,
    };
  }

  private async record(uid: number): Promise<{ value: NodeRecord; modRevision: number }> {
    const rec = await this.nodes.get(uid);
    if (!rec) throw new RsError('node_not_found', `Node ${uid} does not exist`);
    return rec;
  }

  private async view(rec: NodeRecord): Promise<Node> {
    const f = await this.facts({ persistent_path: rec.persistent_storage_path, ephemeral_path: rec.ephemeral_storage_path });
    const shards = await this.shards.onNode(rec.uid);
    return {
      uid: rec.uid,
      accept_servers: rec.accept_servers,
      addr: rec.addr,
      architecture: f.architecture,
      bigredis_storage_path: rec.bigredis_storage_path,
      bigstore_enabled: false,
      cores: f.cores,
      ephemeral_storage_path: rec.ephemeral_storage_path,
      ephemeral_storage_size: f.ephemeral_storage_size,
      external_addr: rec.external_addr,
      fips_enabled: false,
      flash_shard_count: shards.filter((s) => s.flash).length,
      max_listeners: rec.max_listeners,
      max_redis_forks: rec.max_redis_forks,
      max_redis_servers: rec.max_redis_servers,
      max_slave_full_syncs: rec.max_slave_full_syncs,
      os_family: f.os_family,
      os_name: f.os_name,
      os_semantic_version: f.os_semantic_version,
      os_version: f.os_version,
      persistent_storage_path: rec.persistent_storage_path,
      persistent_storage_size: f.persistent_storage_size,
      rack_id: rec.rack_id,
      ram_shard_count: shards.filter((s) => !s.flash).length,
      recovery_path: rec.recovery_path,
      second_rack_id: rec.second_rack_id,
      shard_count: shards.length,
      shard_list: shards.map((s) => s.uid),
      software_version: SOFTWARE_VERSION,
      // This node runs the manager, so it is up whenever it answers; other nodes come with multi-node support.
      status: 'active',
      supported_database_versions: this.databaseVersions,
      system_time: rsTime(this.clock.now()),
      total_memory: f.total_memory,
      uptime: f.uptime,
      use_internal_ipv6: rec.use_internal_ipv6,
    };
  }

  async list(): Promise<Node[]> {
    return Promise.all((await this.nodes.list()).map((r) => this.view(r)));
  }

  async get(uid: number): Promise<Node> {
    return this.view((await this.record(uid)).value);
  }

  /** Check and store a PUT; re-read and re-check when another writer got in between (compare-and-set). */
  async update(uid: number, u: NodeUpdate): Promise<void> {
    for (;;) {
      const { value: cur, modRevision } = await this.record(uid);
      await this.checkUpdate(uid, cur, u);
      try {
        await this.nodes.kvPut({ ...cur, ...u }, modRevision);
        return;
      } catch (e) {
        if (!(e instanceof KvConflictError)) throw e;
      }
    }
  }

  private async checkUpdate(uid: number, cur: NodeRecord, u: NodeUpdate): Promise<void> {
    if (u.addr !== undefined && u.addr !== cur.addr) {
      // RS allows an address change only for an offline node; the node answering this request is online.
      throw new RsError('node_not_offline', `Node ${uid} is online; its address can only change while it is offline`);
    }
    for (const a of u.external_addr ?? []) {
      if (net.isIP(a) === 0) throw new RsError('invalid_schema', `external_addr: '${a}' is not an IP address`);
    }
    if (u.accept_servers === false && cur.accept_servers && (await this.shards.onNode(uid)).length > 0) {
      throw new RsError('node_already_populated');
    }
    if (u.rack_id !== undefined && cur.rack_id !== '' && u.rack_id !== cur.rack_id) throw new RsError('node_already_has_rack_id');
    // '' clears it; a relative path would be resolved against wherever openrs happens to run.
    if (u.recovery_path !== undefined && u.recovery_path !== '' && !(path.isAbsolute(u.recovery_path) && isWritableDir(u.recovery_path))) {
      throw new RsError('path_error', `recovery_path '${u.recovery_path}' is not an absolute path to a writable directory`);
    }
  }

  async status(uid: number): Promise<Record<string, unknown>> {
    const rec = (await this.record(uid)).value;
    const f = await this.facts({ persistent_path: rec.persistent_storage_path, ephemeral_path: rec.ephemeral_storage_path });
    const shards = await this.shards.onNode(uid);
    const provisioned = shards.reduce((sum, s) => sum + (s.memory_limit ?? 0), 0);
    return {
      cores: f.cores,
      free_provisional_ram: Math.max(0, f.total_memory - provisioned),
      free_ram: f.free_ram,
      hostname: f.short_hostname,
      master_shards: shards.filter((s) => s.role === 'master').map((s) => s.uid),
      node_overbooking_depth: Math.max(0, provisioned - f.total_memory),
      node_status: 'active',
      // With one node, it is the cluster's master node.
      role: uid === this.localUid() ? 'master' : 'slave',
      slave_shards: shards.filter((s) => s.role === 'slave').map((s) => s.uid),
      software_version: SOFTWARE_VERSION,
      software_version_sha: SOFTWARE_VERSION_SHA,
      total_memory: f.total_memory,
      total_provisional_ram: f.total_memory,
    };
  }

  async statusAll(): Promise<Record<string, Record<string, unknown>>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const n of await this.nodes.list()) out[String(n.uid)] = await this.status(n.uid);
    return out;
  }

  /** Addresses this host has, for validating a bootstrap identity. */
  static localAddresses(): string[] {
    return ['127.0.0.1', '::1', ...availableAddresses().map((a) => a.address)];
  }
}

/**
 * Whether files can be created in directory `p`. A real write probe: access(2) answers yes to root
 * for any directory, /proc and /sys included.
 */
export function isWritableDir(p: string): boolean {
  try {
    if (!fs.statSync(p).isDirectory()) return false;
    fs.rmdirSync(fs.mkdtempSync(path.join(p, '.openrs-probe-')));
    return true;
  } catch {
    return false;
  }
}
