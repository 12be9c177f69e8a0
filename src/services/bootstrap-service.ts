/**
 * Bootstrap (requests/bootstrap): turn this node into a single-node cluster. The request is
 * checked at once (400 with the documented error code, also recorded as the bootstrap state),
 * then the cluster is created in the background while clients poll GET /v1/bootstrap:
 * idle → creating_cluster → completed | error. Everything the cluster starts with (cluster
 * object, policy, node, admin user, license, certificates) is written in one CCS transaction,
 * so a crash midway leaves either no cluster or a whole one.
 */
import net from 'node:net';
import path from 'node:path';
import { RsError } from '../errors.js';
import { availableAddresses, defaultAddress } from '../host/host-facts.js';
import { hashPassword, redisPasswordHash } from '../auth/password.js';
import type { UserRecord } from '../auth/user-record.js';
import type { Bootstrap, BootstrapStatus } from '../schemas/bootstrap.js';
import type { KvBackend } from '../store/kv.js';
import type { Collection, Singleton } from '../store/object-store.js';
import { rsTime, type Clock } from '../util/clock.js';
import { ensureDir } from '../util/fs.js';
import { accessControlOps, ADMIN_ROLE_UID } from './access-defaults.js';
import type { CertificateService } from './certificate-service.js';
import { defaultCluster, defaultCmSettings, defaultPolicy, type ClusterRecord } from './cluster-defaults.js';
import type { LicenseRecord, LicenseService } from './license-service.js';
import { NodeService, isWritableDir, type LocalPaths, type NodeRecord } from './node-service.js';
import type { ClusterSettings, CmSettings } from '../schemas/cluster-settings.js';
import type { Logger } from 'pino';

export interface BootstrapDeps {
  kv: KvBackend;
  status: Singleton<BootstrapStatus>;
  cluster: Singleton<ClusterRecord>;
  policy: Singleton<ClusterSettings>;
  cmSettings: Singleton<CmSettings>;
  license: Singleton<LicenseRecord>;
  nodes: Collection<NodeRecord>;
  users: Collection<UserRecord>;
  certificates: CertificateService;
  licenses: LicenseService;
  clock: Clock;
  log: Logger;
  defaultPaths: LocalPaths;
  /** The port the REST API listens on (known once it listens; the configured one may be 0). */
  apiPort: () => number;
  storeDir: string | undefined;
  defaultRedisVersion: string;
  /** Called once the cluster exists (the API then serves the cluster's api certificate). */
  onCompleted: (api: { certificate: string; key: string }) => void;
}

/** RFC 952 / RFC 1123 host name, at most 64 characters (objects/bootstrap/cluster_identity.md). */
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export function validClusterName(name: string): boolean {
  return name.length > 0 && name.length <= 64 && name.split('.').every((l) => LABEL.test(l));
}

const configError = (message: string) => new RsError('config_error', message, { extra: { error_details: { message } } });

interface Plan {
  paths: LocalPaths;
  body: Bootstrap;
  clusterName: string;
  license: LicenseRecord;
}

export class BootstrapService {
  private bootstrapped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly d: BootstrapDeps) {}

  /** Load the persisted state at start. A bootstrap interrupted by a crash is reported as failed. */
  async init(): Promise<void> {
    this.bootstrapped = (await this.d.cluster.get()) !== undefined;
    const st = await this.d.status.get();
    if (!this.bootstrapped && st && st.value.state === 'creating_cluster') {
      await this.d.status.put({ ...st.value, state: 'error', end_time: rsTime(this.d.clock.now()), error_code: 'internal_error', error_details: { message: 'bootstrap was interrupted by a restart' } });
    }
  }

  isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  async status(): Promise<BootstrapStatus> {
    const st = (await this.d.status.get())?.value;
    if (this.bootstrapped && (!st || st.state !== 'completed')) return { state: 'completed', ...(st?.start_time ? { start_time: st.start_time } : {}) };
    return st ?? { state: 'idle' };
  }

  paths(): LocalPaths {
    return this.d.defaultPaths;
  }

  /** Checks shared by validate/{action} and the real bootstrap; throws RsError. */
  async check(action: string, body: Bootstrap): Promise<Plan> {
    if (body.action !== undefined && body.action !== action) throw configError(`action '${body.action}' does not match the URL's '${action}'`);
    if (action === 'join_cluster' || action === 'recover_cluster') {
      throw configError(`${action} is not supported yet: openrs runs single-node clusters (use create_cluster)`);
    }
    if (action !== 'create_cluster') throw configError(`unknown bootstrap action '${action}'`);
    const unsupported = (['dns_suffixes', 'witness_disk', 'recovery_filename'] as const).filter((k) => body[k] !== undefined);
    if (body.user_defined_modules?.length) unsupported.push('user_defined_modules' as never);
    if (unsupported.length) throw configError(`not supported by openrs: ${unsupported.join(', ')}`);

    const name = body.cluster?.name;
    if (name === undefined) throw configError('cluster.name is required');
    if (!validClusterName(name)) throw configError(`cluster.name '${name}' is not a valid FQDN (RFC 952/1123, at most 64 characters)`);
    if (body.cluster?.nodes?.length) throw configError('cluster.nodes is for join_cluster; a new cluster has no other nodes');

    const c = body.credentials ?? {};
    if (c.client_cert !== undefined || c.client_key !== undefined) throw configError('certificate credentials are for join_cluster');
    if (!c.username) throw configError('credentials.username is required');
    if (!c.password) throw configError('credentials.password is required');

    if (body.cnm_https_port !== undefined && body.cnm_https_port !== this.d.apiPort()) {
      throw configError(`cnm_https_port ${body.cnm_https_port} differs from this node's API port ${this.d.apiPort()} (set with --api-port)`);
    }
    const node = body.node ?? {};
    if (node.bigstore_enabled) throw configError('bigstore_enabled: Redis Flex / Auto Tiering is not supported by openrs');
    if (node.identity?.uid !== undefined) throw configError('node.identity.uid is for replacing a node when joining');
    if (node.identity?.addr !== undefined && !NodeService.localAddresses().includes(node.identity.addr)) {
      throw configError(`node.identity.addr '${node.identity.addr}' is not an address of this host`);
    }
    for (const a of node.identity?.external_addr ?? []) if (net.isIP(a) === 0) throw configError(`external_addr '${a}' is not an IP address`);
    if (body.policy?.rack_aware) throw configError('rack_aware needs nodes in several racks; openrs runs one node');

    const p = node.paths ?? {};
    if (p.ccs_persistent_path !== undefined && path.resolve(p.ccs_persistent_path) !== this.d.storeDir) {
      throw configError('ccs_persistent_path: the CCS location is set with --store / OPENRS_STORE');
    }
    const paths: LocalPaths = {
      persistent_path: path.resolve(p.persistent_path ?? this.d.defaultPaths.persistent_path),
      ephemeral_path: path.resolve(p.ephemeral_path ?? this.d.defaultPaths.ephemeral_path),
      bigstore_path: path.resolve(p.bigstore_path ?? this.d.defaultPaths.bigstore_path),
    };
    for (const [k, dir] of [['persistent_path', paths.persistent_path], ['ephemeral_path', paths.ephemeral_path]] as const) {
      try {
        ensureDir(dir);
      } catch (e) {
        throw new RsError('path_error', `${k} '${dir}': ${(e as Error).message}`, { extra: { error_details: { message: (e as Error).message } } });
      }
      if (!isWritableDir(dir)) throw new RsError('path_error', `${k} '${dir}' is not a writable directory`, { extra: { error_details: { message: 'not writable' } } });
    }
    let license: LicenseRecord;
    try {
      license = await this.d.licenses.initialRecord(body.license, name);
    } catch (e) {
      if (e instanceof RsError) throw RsError.custom(e.error_code, 400, e.message, e.extra);
      throw e;
    }
    return { paths, body, clusterName: name, license };
  }

  /** POST /v1/bootstrap/create_cluster: accept, then create in the background. */
  async start(action: string, body: Bootstrap): Promise<void> {
    if (this.bootstrapped) throw new RsError('already_bootstrapped');
    const st = await this.status();
    if (st.state !== 'idle' && st.state !== 'error') throw new RsError('bootstrap_in_progress', `Bootstrap already in progress (state ${st.state})`);
    const start_time = rsTime(this.d.clock.now());
    let plan: Plan;
    try {
      plan = await this.check(action, body);
    } catch (e) {
      if (e instanceof RsError) await this.fail(start_time, e.error_code, e.message);
      throw e;
    }
    await this.d.status.put({ state: 'creating_cluster', start_time });
    this.running = this.create(plan, start_time).finally(() => (this.running = undefined));
  }

  /** Wait for a background bootstrap (auto-bootstrap at start, tests, shutdown). */
  async settled(): Promise<void> {
    await this.running;
  }

  private async fail(start_time: string, error_code: string, message: string): Promise<void> {
    await this.d.status.put({ state: 'error', start_time, end_time: rsTime(this.d.clock.now()), error_code, error_details: { message } });
  }

  private async create(plan: Plan, start_time: string): Promise<void> {
    try {
      const now = this.d.clock.now();
      const { body, paths } = plan;
      const identity = body.node?.identity ?? {};
      const cluster = defaultCluster({ name: plan.clusterName, created_time: rsTime(now), api_port: this.d.apiPort() });
      if (body.cluster?.wait_command !== undefined) cluster.wait_command = body.cluster.wait_command;
      if (body.crdb_coordinator_port !== undefined) cluster.crdb_coordinator_port = body.crdb_coordinator_port;
      if (body.envoy_admin_port !== undefined) cluster.envoy_admin_port = body.envoy_admin_port;
      if (body.envoy_mgmt_server_port !== undefined) cluster.envoy_mgmt_server_port = body.envoy_mgmt_server_port;
      if (body.gossip_envoy_admin_port !== undefined) cluster.gossip_envoy_admin_port = body.gossip_envoy_admin_port;
      const policy = { ...defaultPolicy(this.d.defaultRedisVersion), ...body.policy };
      const local = await this.d.nodes.list();
      const node: NodeRecord = {
        uid: 1,
        addr: identity.addr ?? defaultAddress(availableAddresses()),
        external_addr: identity.external_addr ?? [],
        accept_servers: identity.accept_servers ?? true,
        max_listeners: body.node?.limits?.max_listeners ?? 100,
        max_redis_servers: body.node?.limits?.max_redis_servers ?? 100,
        max_redis_forks: -1,
        max_slave_full_syncs: -1,
        rack_id: identity.rack_id ?? '',
        second_rack_id: identity.second_rack_id ?? '',
        recovery_path: '',
        persistent_storage_path: paths.persistent_path,
        ephemeral_storage_path: paths.ephemeral_path,
        bigredis_storage_path: paths.bigstore_path,
        use_internal_ipv6: identity.use_internal_ipv6 ?? false,
      };
      const username = body.credentials!.username!;
      const admin: UserRecord = {
        uid: 1,
        name: 'Administrator',
        email: username,
        role: 'admin',
        role_uids: [ADMIN_ROLE_UID], // the predefined "Admin" role, as in the capture user_single.json
        auth_method: 'regular',
        status: 'active',
        email_alerts: true,
        certificate_subject_line: '',
        password_issue_date: rsTime(now),
        password_hashes: [await hashPassword(body.credentials!.password!)],
        db_password_sha256: [redisPasswordHash(body.credentials!.password!)],
      };
      const certs = await this.d.certificates.bootstrapOps(plan.clusterName);
      const res = await this.d.kv.txn([{ key: this.d.cluster.key, modRevision: 0 }], [
        this.d.cluster.putOp(cluster),
        this.d.policy.putOp(policy),
        this.d.cmSettings.putOp(defaultCmSettings()),
        this.d.license.putOp(plan.license),
        ...local.map((n) => this.d.nodes.deleteOp(n.uid)),
        this.d.nodes.putOp(node),
        this.d.users.putOp(admin),
        { type: 'put', key: '/counters/nodes', value: 1 },
        { type: 'put', key: '/counters/users', value: 1 },
        ...accessControlOps(), // predefined roles and Redis ACLs (services/access-defaults.ts)
        ...certs.ops,
        this.d.status.putOp({ state: 'completed', start_time, end_time: rsTime(this.d.clock.now()) }),
      ]);
      if (!res.succeeded) throw new Error('a cluster already exists in the store');
      this.bootstrapped = true;
      this.d.onCompleted({ certificate: certs.api.certificate, key: certs.api.key! });
      this.d.log.info({ cluster: plan.clusterName, admin: username }, 'cluster created');
    } catch (e) {
      this.d.log.error({ err: e }, 'bootstrap failed');
      await this.fail(start_time, 'internal_error', (e as Error).message);
    }
  }
}
