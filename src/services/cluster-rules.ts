/**
 * What PUT /v1/cluster may change, and how openrs honours each writable field. Every writable
 * field is in exactly one class, so a field openrs cannot honour is refused by name, never
 * stored and ignored:
 * - applied: takes effect now (e.g. the control-plane TLS policy).
 * - stored: kept for the feature that reads it (alerts, password policy, database defaults).
 * - fixed: openrs supports only the current value; any other value → 400 unsupported_option.
 */
import path from 'node:path';
import tls from 'node:tls';
import { RsError } from '../errors.js';
import { thresholdProblem } from '../events/alerts-catalog.js';
import { clusterReadOnly, clusterWritable, type Cluster, type ClusterUpdate } from '../schemas/cluster.js';
import { MASKED_PASSWORD } from '../schemas/ldap.js';
import { isWritableDir } from './node-service.js';

type Handling = 'applied' | 'stored' | 'fixed';

export const CLUSTER_FIELD_HANDLING: Record<keyof typeof clusterWritable, Handling> = {
  alert_settings: 'stored',
  allow_modules_upload: 'stored',
  availability_lag_tolerance_ms: 'stored',
  bigstore_driver: 'fixed', // no flash storage engine
  client_maint_notifications: 'fixed',
  cm_port: 'fixed', // listener ports are set by openrs configuration, not at run time
  cm_session_timeout_minutes: 'stored',
  cnm_http_max_threads_per_worker: 'fixed',
  cnm_http_port: 'fixed',
  cnm_http_workers: 'fixed',
  cnm_https_port: 'fixed',
  control_cipher_suites: 'applied',
  control_plane_basic_authentication: 'applied', // read by the Authenticator at each request
  crdb_coordinator_port: 'fixed',
  crdt_rest_client_retries: 'fixed', // no Active-Active
  crdt_rest_client_timeout: 'fixed',
  data_cipher_list: 'applied', // on every TLS database endpoint (endpoint-spec.ts dataTlsOptions)
  data_cipher_suites_tls_1_3: 'applied',
  debuginfo_path: 'stored',
  disconnect_clients_on_password_removal: 'stored',
  dmc_external_authentication: 'fixed',
  dmc_external_cba_authentication: 'fixed',
  dmc_external_entraid_authentication: 'fixed',
  dmc_external_ldap_authentication: 'fixed',
  email_alerts: 'stored',
  email_from: 'stored',
  encrypt_pkeys: 'fixed',
  envoy_admin_port: 'fixed',
  envoy_max_downstream_connections: 'fixed',
  envoy_mgmt_server_port: 'fixed',
  gossip_envoy_admin_port: 'fixed',
  handle_redirects: 'stored', // one node is always the master: both values behave the same
  http_support: 'fixed', // the API is HTTPS only
  logrotate_settings: 'stored',
  mask_bdb_credentials: 'stored',
  metrics_auth: 'applied', // read by the metrics exporter at each scrape (metrics/metrics-auth.ts)
  min_control_TLS_version: 'applied',
  min_data_TLS_version: 'applied',
  min_sentinel_TLS_version: 'fixed', // no discovery (sentinel) service
  mtls_authorized_subjects: 'fixed',
  mtls_certificate_authentication: 'fixed',
  mtls_client_cert_subject_validation_type: 'fixed',
  multi_commands_opt: 'stored',
  options_method_forbidden: 'stored', // the API serves no OPTIONS method either way
  password_complexity: 'stored',
  password_expiration_duration: 'stored',
  password_min_length: 'stored',
  proxy_max_ccs_disconnection_time: 'stored',
  replica_sconns_on_demand: 'stored',
  reserved_ports: 'stored',
  robust_crdt_syncer: 'fixed',
  s3_ca_cert: 'fixed', // S3 backup locations are not supported
  s3_url: 'fixed',
  sentinel_cipher_suites: 'fixed',
  sentinel_tls_mode: 'fixed',
  slowlog_in_sanitized_support: 'stored',
  smtp_host: 'stored',
  smtp_password: 'stored',
  smtp_port: 'stored',
  smtp_tls_mode: 'stored',
  smtp_use_tls: 'stored',
  smtp_username: 'stored',
  state_machine_smart_client_handoffs_delay_ms: 'stored',
  upgrade_mode: 'fixed',
  use_external_ipv6: 'stored',
  use_ipv6: 'stored',
};

const READ_ONLY = new Set(Object.keys(clusterReadOnly));

/** Check a PUT body against the current cluster; returns the merged object or throws RsError. */
export function applyClusterUpdate(current: Cluster, update: ClusterUpdate): Cluster {
  const ro = Object.keys(update).filter((k) => READ_ONLY.has(k));
  if (ro.length) throw new RsError('read_only_field', `Read-only field(s) cannot be changed: ${ro.join(', ')}`);
  const u = update as Record<string, unknown>;
  const cur = current as Record<string, unknown>;
  for (const [field, value] of Object.entries(u)) {
    if (CLUSTER_FIELD_HANDLING[field as keyof typeof clusterWritable] === 'fixed' && JSON.stringify(value) !== JSON.stringify(cur[field])) {
      throw new RsError('unsupported_option', `openrs does not support changing '${field}' (current value ${JSON.stringify(cur[field])})`);
    }
  }
  if (update.alert_settings) {
    // The same rules as POST /v1/bdbs/alerts; 400 rather than its 406, the one error status
    // requests/cluster lists for PUT ("Bad content provided").
    for (const [name, v] of Object.entries(update.alert_settings)) {
      const problem = typeof v === 'object' && v !== null ? thresholdProblem(name, v) : undefined;
      if (problem) throw RsError.custom('invalid_threshold', 400, problem);
    }
  }
  if (update.reserved_ports) {
    for (const r of update.reserved_ports) {
      const [a, b = a] = r.split('-').map(Number) as [number, number?];
      if (a < 1 || b! > 65535 || a > b!) throw new RsError('invalid_schema', `reserved_ports: invalid port or range '${r}'`);
    }
  }
  if (update.data_cipher_list !== undefined) {
    try {
      tls.createSecureContext({ ciphers: update.data_cipher_list });
    } catch (e) {
      throw new RsError('invalid_schema', `data_cipher_list: ${(e as Error).message}`);
    }
  }
  if (update.data_cipher_suites_tls_1_3 !== undefined) {
    // Applied with data_cipher_list as one cipher string; a name OpenSSL does not know would make the endpoints refuse it.
    const bad = update.data_cipher_suites_tls_1_3.filter((s) => !/^TLS_[A-Z0-9_]+$/.test(s));
    if (bad.length) throw new RsError('invalid_schema', `data_cipher_suites_tls_1_3: not TLS 1.3 cipher suite names: ${bad.join(', ')}`);
    if (update.data_cipher_suites_tls_1_3.length) {
      try {
        tls.createSecureContext({ ciphers: update.data_cipher_suites_tls_1_3.join(':') });
      } catch (e) {
        throw new RsError('invalid_schema', `data_cipher_suites_tls_1_3: ${(e as Error).message}`);
      }
    }
  }
  if (update.debuginfo_path !== undefined) {
    // A relative path would be resolved against wherever openrs happens to run.
    if (!path.isAbsolute(update.debuginfo_path) || !isWritableDir(update.debuginfo_path)) {
      throw new RsError('bad_debuginfo_path', `debuginfo_path '${update.debuginfo_path}' is not an absolute path to a writable directory`);
    }
  }
  // Nested settings merge field by field, as RS does for alert_settings in its PUT example.
  const merged: Cluster = { ...current, ...update } as Cluster;
  // GET masks smtp_password: the mask sent back (a GET body PUT as is) keeps the stored password.
  if (update.smtp_password === MASKED_PASSWORD) merged.smtp_password = current.smtp_password;
  if (update.alert_settings) merged.alert_settings = { ...current.alert_settings, ...update.alert_settings };
  if (update.logrotate_settings) merged.logrotate_settings = { ...current.logrotate_settings, ...update.logrotate_settings };
  return merged;
}
