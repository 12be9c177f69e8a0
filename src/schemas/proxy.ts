/** The proxy object (objects/proxy.md; the capture fixtures/redis-enterprise-rs/proxies_list.json) and its PUT body. */
import { Type, type Static } from '@sinclair/typebox';
import { StrEnum } from './common.js';

const Int = (description: string, range: { minimum?: number; maximum?: number } = {}) => Type.Optional(Type.Integer({ description, ...range }));
const Bool = (description: string) => Type.Optional(Type.Boolean({ description }));

export const Proxy = Type.Object({
  uid: Type.Integer({ description: 'Unique ID of the proxy (read-only; the node uid)' }),
  backlog: Int('TCP listen queue backlog'),
  client_eviction: Bool('Client eviction based on maxmemory_clients'),
  client_keepcnt: Int('Client TCP keepalive count'),
  client_keepidle: Int('Client TCP keepalive idle (seconds; Linux takes at most 32767)', { minimum: 1, maximum: 32_767 }),
  client_keepintvl: Int('Client TCP keepalive interval (seconds)'),
  conns: Int('Number of connections'),
  corefile: Bool('Core dumps of the proxy'),
  duration_usage_threshold: Int('Dynamic thread scaling: duration threshold', { minimum: 10, maximum: 300 }),
  dynamic_threads_scaling: Bool('Automatically adjust the number of threads'),
  ignore_bdb_cconn_limit: Bool('Ignore client connection limits'),
  ignore_bdb_cconn_output_buff_limits: Bool('Ignore buffer limit'),
  incoming_connections_capacity: Int('Maximum burst of incoming connections (0: no limit)', { minimum: 0 }),
  incoming_connections_min_capacity: Int('Free slots needed before accepting again after an overflow', { minimum: 0 }),
  incoming_connections_rate_limit: Int('Maximum incoming connections per second (0: no limit)', { minimum: 0 }),
  log_level: Type.Optional(StrEnum(['crit', 'error', 'warn', 'info', 'trace', 'debug'], { description: 'Minimum log level' })),
  max_listeners: Int('Max number of listeners'),
  max_servers: Int('Max number of Redis servers'),
  max_threads: Int('Max number of threads', { minimum: 1, maximum: 256 }),
  max_worker_client_conns: Int('Max client connections per thread'),
  max_worker_server_conns: Int('Max server connections per thread'),
  max_worker_txns: Int('Max in-flight transactions per thread'),
  maxmemory_clients: Int('Maximum total memory used by clients (bytes)'),
  threads: Int('Number of threads', { minimum: 1, maximum: 256 }),
  threads_usage_threshold: Int('Dynamic thread scaling: usage threshold', { minimum: 50, maximum: 99 }),
}, { additionalProperties: false, description: 'A proxy (one per node)' });
export type Proxy = Static<typeof Proxy>;

/** PUT /v1/proxies[/{uid}]: `allow_restart` and the fields to change. */
export const ProxyUpdate = Type.Object({
  allow_restart: Type.Optional(Type.Boolean({ description: 'Restart the proxy if a change needs it (no change openrs takes needs one)' })),
  proxy: Type.Optional(Type.Partial(Proxy, { additionalProperties: false })),
}, { additionalProperties: false, description: 'PUT /v1/proxies[/{uid}]' });
export type ProxyUpdate = Static<typeof ProxyUpdate>;
