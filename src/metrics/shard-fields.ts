/**
 * Shard (redis-server) metrics for both exporter versions: v1 `redis_<name>` and v2
 * `redis_server_<name>` (fixtures/integrations-extras/prometheus_8070_metrics.txt, the grafana
 * metric lists, the v2 reference table). Each comes straight from one INFO field; a field the
 * running Redis does not print is simply not exported.
 */
import type { InfoSections } from '../redis/replies.js';
import { fields } from '../stats/derive-shard.js';
import type { Exposition, Labels } from './exposition.js';

/** [INFO section, INFO field, exported name (default: the field), help]. */
const DIRECT: [string, string, string | undefined, string][] = [
  ['memory', 'used_memory', undefined, 'Memory used by shard (bytes)'],
  ['memory', 'used_memory_rss', undefined, 'Resident set size of the shard (bytes)'],
  ['memory', 'used_memory_peak', undefined, 'Largest amount of memory used by the shard (bytes)'],
  ['memory', 'used_memory_lua', undefined, 'Lua scripting heap size (bytes)'],
  ['memory', 'used_memory_overhead', undefined, 'Memory used for internal overhead (bytes)'],
  ['memory', 'used_memory_startup', undefined, 'Memory used at startup (bytes)'],
  ['memory', 'used_memory_dataset', undefined, 'Memory used by the dataset (bytes)'],
  ['memory', 'used_memory_scripts', undefined, 'Memory used by cached scripts (bytes)'],
  ['memory', 'used_memory_scripts_eval', undefined, 'Memory used by EVAL scripts (bytes)'],
  ['memory', 'used_memory_functions', undefined, 'Memory used by functions (bytes)'],
  ['memory', 'used_memory_vm_eval', undefined, 'Lua VM memory for EVAL (bytes)'],
  ['memory', 'used_memory_vm_functions', undefined, 'Lua VM memory for functions (bytes)'],
  ['memory', 'used_memory_vm_total', undefined, 'Lua VM memory in total (bytes)'],
  ['memory', 'allocator_allocated', undefined, 'Total allocated memory (bytes)'],
  ['memory', 'allocator_active', undefined, 'Total used memory including external fragmentation (bytes)'],
  ['memory', 'allocator_resident', undefined, 'Total resident memory (bytes)'],
  ['memory', 'mem_fragmentation_ratio', undefined, 'Memory fragmentation ratio'],
  ['memory', 'mem_not_counted_for_evict', undefined, 'Portion of used_memory not counted for eviction (bytes)'],
  ['memory', 'mem_replication_backlog', undefined, 'Size of replication backlog (bytes)'],
  ['memory', 'mem_clients_slaves', undefined, 'Memory used by replica client buffers (bytes)'],
  ['memory', 'mem_clients_normal', undefined, 'Memory used by normal client buffers (bytes)'],
  ['memory', 'mem_aof_buffer', undefined, 'Current size of AOF buffer (bytes)'],
  ['memory', 'maxmemory', undefined, 'Memory limit configured for the shard (bytes)'],
  ['memory', 'active_defrag_running', undefined, 'Active defragmentation aggressiveness (% cpu)'],
  ['memory', 'lazyfreed_objects', undefined, 'Objects freed lazily'],
  ['clients', 'connected_clients', undefined, 'Number of client connections to the shard'],
  ['clients', 'blocked_clients', undefined, 'Clients waiting on a blocking call'],
  ['clients', 'maxclients', undefined, 'Maximum number of clients'],
  ['clients', 'tracking_clients', undefined, 'Clients being tracked'],
  ['clients', 'total_blocking_keys', undefined, 'Keys with blocked clients'],
  ['clients', 'total_blocking_keys_on_nokey', undefined, 'Keys with clients blocked on a missing key'],
  ['persistence', 'rdb_changes_since_last_save', undefined, 'Changes since the last RDB save'],
  ['persistence', 'rdb_bgsave_in_progress', undefined, 'Whether a BGSAVE is in progress'],
  ['persistence', 'rdb_last_save_time', undefined, 'Time of the last RDB save (unix seconds)'],
  ['persistence', 'rdb_last_cow_size', undefined, 'Copy-on-write memory of the last BGSAVE (bytes)'],
  ['persistence', 'rdb_saves', undefined, 'BGSAVEs since the process started'],
  ['persistence', 'aof_rewrite_in_progress', undefined, 'Whether an AOF rewrite is in progress'],
  ['persistence', 'aof_rewrites', undefined, 'AOF rewrites since the process started'],
  ['persistence', 'aof_rewrites_consecutive_failures', undefined, 'Consecutive failed AOF rewrites'],
  ['persistence', 'aof_last_cow_size', undefined, 'Copy-on-write memory of the last AOF rewrite (bytes)'],
  ['persistence', 'aof_delayed_fsync', undefined, 'AOF fsyncs that delayed the main thread'],
  ['persistence', 'module_fork_in_progress', undefined, 'Whether a module fork is running'],
  ['persistence', 'current_cow_size', undefined, 'Copy-on-write memory of the running fork (bytes)'],
  ['persistence', 'current_cow_size_age', undefined, 'Age of current_cow_size (seconds)'],
  ['persistence', 'current_cow_peak', undefined, 'Peak copy-on-write memory of the running fork (bytes)'],
  ['persistence', 'current_fork_perc', undefined, 'Progress of the running fork (%)'],
  ['stats', 'total_connections_received', undefined, 'Connections received by the shard'],
  ['stats', 'total_commands_processed', undefined, 'Commands processed by the shard'],
  ['stats', 'instantaneous_ops_per_sec', undefined, 'Commands per second'],
  ['stats', 'instantaneous_input_kbps', undefined, 'Input KB/s'],
  ['stats', 'instantaneous_output_kbps', undefined, 'Output KB/s'],
  ['stats', 'total_net_input_bytes', undefined, 'Bytes received by the shard'],
  ['stats', 'total_net_output_bytes', undefined, 'Bytes sent by the shard'],
  ['stats', 'total_net_repl_input_bytes', undefined, 'Replication bytes received'],
  ['stats', 'total_net_repl_output_bytes', undefined, 'Replication bytes sent'],
  ['stats', 'expired_keys', undefined, 'Keys expired since restart'],
  ['stats', 'evicted_keys', undefined, 'Keys evicted since restart'],
  ['stats', 'evicted_clients', undefined, 'Clients evicted since restart'],
  ['stats', 'expire_cycle_cpu_milliseconds', undefined, 'Time spent in active expiry cycles (ms)'],
  ['stats', 'keyspace_hits', 'keyspace_read_hits', 'Read operations accessing an existing key'],
  ['stats', 'keyspace_misses', 'keyspace_read_misses', 'Read operations accessing a missing key'],
  ['stats', 'pubsub_channels', undefined, 'Pub/sub channels with subscribers'],
  ['stats', 'pubsub_patterns', undefined, 'Pub/sub patterns with subscribers'],
  ['stats', 'pubsubshard_channels', undefined, 'Shard pub/sub channels with subscribers'],
  ['stats', 'sync_full', undefined, 'Full resyncs with replicas'],
  ['stats', 'sync_partial_ok', undefined, 'Accepted partial resync requests'],
  ['stats', 'sync_partial_err', undefined, 'Denied partial resync requests'],
  ['stats', 'total_forks', undefined, 'Fork operations since restart'],
  ['stats', 'total_error_replies', undefined, 'Error replies since restart'],
  ['stats', 'dump_payload_sanitizations', undefined, 'Deep-sanitized DUMP payloads'],
  ['stats', 'total_eviction_exceeded_time', undefined, 'Time used_memory was above maxmemory (ms)'],
  ['stats', 'current_eviction_exceeded_time', undefined, 'Time used_memory has been above maxmemory (ms)'],
  ['stats', 'total_active_defrag_time', undefined, 'Time of active defragmentation (ms)'],
  ['stats', 'current_active_defrag_time', undefined, 'Time of the running defragmentation (ms)'],
  ['stats', 'tracking_total_keys', undefined, 'Keys tracked for client-side caching'],
  ['stats', 'tracking_total_prefixes', undefined, 'Prefixes tracked for client-side caching'],
  ['stats', 'acl_access_denied_auth', undefined, 'Failed authentications'],
  ['stats', 'acl_access_denied_cmd', undefined, 'Commands denied by ACL'],
  ['stats', 'acl_access_denied_key', undefined, 'Key accesses denied by ACL'],
  ['stats', 'acl_access_denied_channel', undefined, 'Channel accesses denied by ACL'],
  ['replication', 'connected_slaves', undefined, 'Connected replicas'],
  ['replication', 'master_repl_offset', undefined, 'Replication offset (bytes)'],
  ['replication', 'master_sync_in_progress', undefined, 'Whether the replica is syncing from its master'],
];

function number(info: InfoSections, section: string, field: string): number | undefined {
  const raw = info[section]?.[field];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Export one shard. `info` undefined: the shard did not answer, only `<prefix>up 0` is exported.
 * v2 reports master_link_status as 1 up / 2 down / 3 none (no master).
 */
export function shardSamples(exp: Exposition, prefix: 'redis_' | 'redis_server_', labels: Labels, info: InfoSections | undefined): void {
  exp.add(`${prefix}up`, 'Shard is up and running', labels, info ? 1 : 0);
  if (!info) return;
  for (const [section, field, name, help] of DIRECT) exp.add(`${prefix}${name ?? field}`, help, labels, number(info, section, field));
  const db0 = fields(info.keyspace?.db0);
  exp.add(`${prefix}db0_keys`, 'Total key count', labels, db0.keys ?? 0);
  exp.add(`${prefix}db0_expires`, 'Total count of volatile keys', labels, db0.expires ?? 0);
  exp.add(`${prefix}db0_avg_ttl`, 'Average TTL of volatile keys (ms)', labels, db0.avg_ttl ?? 0);
  const link = info.replication?.master_link_status;
  if (prefix === 'redis_server_') {
    exp.add(`${prefix}db_keys`, 'Total key count', labels, db0.keys ?? 0);
    exp.add(`${prefix}db_avg_ttl`, 'Average TTL of volatile keys (ms)', labels, db0.avg_ttl ?? 0);
    exp.add(`${prefix}master_link_status`, 'Replica link to its master (1 up, 2 down, 3 none)', labels, link === undefined ? 3 : link === 'up' ? 1 : 2);
  } else if (link !== undefined) {
    exp.add(`${prefix}master_link_status`, 'Replica link to its master (1 up, 0 down)', labels, link === 'up' ? 1 : 0);
  }
  if (prefix === 'redis_') {
    // The real scrape has no `status` label on the process series (fixtures prometheus_8070_metrics.txt).
    const { status: _status, ...proc } = labels;
    const cpu = (f: string) => number(info, 'cpu', f);
    exp.add('redis_process_cpu_system_seconds_total', 'Shard process system CPU time (seconds)', proc, cpu('used_cpu_sys'));
    exp.add('redis_process_cpu_user_seconds_total', 'Shard process user CPU time (seconds)', proc, cpu('used_cpu_user'));
    exp.add('redis_process_main_thread_cpu_system_seconds_total', 'Shard main thread system CPU time (seconds)', proc, cpu('used_cpu_sys_main_thread'));
    exp.add('redis_process_main_thread_cpu_user_seconds_total', 'Shard main thread user CPU time (seconds)', proc, cpu('used_cpu_user_main_thread'));
    exp.add('redis_process_resident_memory_bytes', 'Shard resident memory size (bytes)', proc, number(info, 'memory', 'used_memory_rss'));
    const uptime = number(info, 'server', 'uptime_in_seconds');
    if (uptime !== undefined) exp.add('redis_process_start_time_seconds', 'Shard start time (unix seconds)', proc, Math.floor(Date.now() / 1000) - uptime);
  }
}
