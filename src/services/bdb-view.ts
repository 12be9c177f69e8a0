/** The bdb object as the API returns it: the stored record plus what is derived (endpoints, shard_list). */
import net from 'node:net';
import type { Bdb } from '../schemas/bdb.js';
import type { ShardSummary } from './shard-inventory.js';

/** What a masked password reads as (mask_bdb_credentials, or a caller without view_redis_pass); a PUT that sends it back keeps the password (bdb-rules.ts keepMaskedPasswords). */
export const MASKED_BDB_PASSWORD = '********';
export const MASKED_BDB_FIELDS = ['authentication_redis_pass', 'authentication_admin_pass'] as const;

/** What is kept at `/bdbs/<uid>`: the RS fields plus openrs's own bookkeeping (never returned). */
export type BdbRecord = Partial<Bdb> & {
  uid: number;
  name: string;
  /** The endpoint port actually serving (the `port` field stays 0 when it was auto-assigned, as in RS). */
  endpoint_port: number;
  /** Passwords of the default user (the multi-password API); authentication_redis_pass is the first. */
  passwords: string[];
  /** stop_traffic / resume_traffic. */
  traffic: 'on' | 'off';
  /** Settings the database's clients changed with CONFIG SET (redis/client-config.ts). */
  redis_config?: Record<string, string>;
};

const INTERNAL = ['endpoint_port', 'passwords', 'traffic', 'redis_config'] as const;

export interface ViewContext {
  clusterName: string;
  /** Where clients reach the endpoints (`endpointAddr`). */
  endpointAddr: string;
  maskCredentials: boolean;
}

/** 0.0.0.0, ::, ::0 ...: "every interface", not an address anyone can connect to. */
function isUnspecified(addr: string): boolean {
  if (net.isIPv4(addr)) return addr === '0.0.0.0';
  return net.isIPv6(addr) && /^[0:]+$/.test(addr);
}

/**
 * The address `endpoints[].addr` advertises. The proxy listens on the node's listen address
 * (`--api-addr`): a specific one is the only place the endpoint answers, so that is the address;
 * when it listens on every interface, the node's own address (as RS reports it).
 */
export function endpointAddr(listenAddr: string, nodeAddr: string): string {
  return isUnspecified(listenAddr) ? nodeAddr : listenAddr;
}

export function bdbView(rec: BdbRecord, shards: ShardSummary[], ctx: ViewContext): Bdb {
  const out: Record<string, unknown> = { ...rec };
  for (const k of INTERNAL) delete out[k];
  // objects/bdb: "Whether traffic was manually turned off using the stop_traffic API" (read-only).
  out.traffic_manually_disabled = rec.traffic === 'off';
  // objects/bdb: "write-only and cannot be read after set" (sources may carry credentials); real
  // clusters answer an empty list (fixtures bdb_single.json, bdbs_list.json).
  if ('dataset_import_sources' in out) out.dataset_import_sources = [];
  out.shard_list = shards.filter((s) => s.bdb_uid === rec.uid).map((s) => s.uid).sort((a, b) => a - b);
  out.endpoints = [{
    uid: `${rec.uid}:1`,
    addr: [ctx.endpointAddr],
    addr_type: 'external',
    dns_name: `redis-${rec.endpoint_port}.${ctx.clusterName}`,
    oss_cluster_api_preferred_endpoint_type: 'ip',
    oss_cluster_api_preferred_ip_type: 'internal',
    port: rec.endpoint_port,
    proxy_policy: 'single',
  }];
  if (ctx.maskCredentials) {
    for (const k of MASKED_BDB_FIELDS) if (out[k]) out[k] = MASKED_BDB_PASSWORD;
  }
  return out as Bdb;
}
