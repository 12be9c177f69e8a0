/**
 * Configuration: one schema, validated once, frozen. Defaults < OPENRS_* environment < flags.
 * Nothing else in openrs reads process.env or argv.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  data_dir: Type.String({ minLength: 1, description: 'Directory for the store, certificates and database files' }),
  api_addr: Type.String({ minLength: 1, description: 'Address the HTTPS REST API, the database endpoints and the metrics exporter listen on' }),
  api_port: Port,
  metrics_port: Port,
  db_port_range: Type.String({ pattern: '^[0-9]+-[0-9]+$', description: 'Database endpoint port range, FROM-TO' }),
  shard_port_range: Type.String({ pattern: '^[0-9]+-[0-9]+$', description: 'Loopback ports for shard (redis-server) processes, FROM-TO' }),
  store: Type.String({ pattern: '^(sqlite)://.+$', description: 'Cluster configuration store URL (sqlite://PATH or sqlite://:memory:)' }),
  log_level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  bootstrap: Type.Boolean({ description: 'Create a single-node cluster on first start instead of waiting for the bootstrap API' }),
  admin_user: Type.String({ minLength: 1 }),
  admin_password: Type.Optional(Type.String({ minLength: 1 })),
  cluster_name: Type.String({ minLength: 1, maxLength: 64 }),
  redis_server: Type.String({ minLength: 1, description: 'redis-server executable' }),
  min_free_disk_mb: Type.Integer({ minimum: 0, description: 'Node check floor: least free space (MiB) on the data, persistent and ephemeral storage paths' }),
});
export interface PortRange { readonly from: number; readonly to: number }
export type Config = Readonly<Static<typeof ConfigSchema>> & { readonly db_ports: PortRange; readonly shard_ports: PortRange };

/** Every setting: its flag (kebab-case), its env twin, its default and how to read a string. */
interface Setting {
  key: keyof Static<typeof ConfigSchema>;
  kind: 'string' | 'int' | 'bool';
  def?: (c: Record<string, unknown>) => unknown;
  help: string;
}
const SETTINGS: Setting[] = [
  { key: 'data_dir', kind: 'string', def: () => './data', help: 'data directory' },
  { key: 'api_addr', kind: 'string', def: () => '0.0.0.0', help: 'listen address of the REST API, database endpoints and metrics' },
  { key: 'api_port', kind: 'int', def: () => 9443, help: 'REST API HTTPS port' },
  { key: 'metrics_port', kind: 'int', def: () => 8070, help: 'Prometheus exporter HTTPS port (0 = any free port)' },
  { key: 'db_port_range', kind: 'string', def: () => '10000-19999', help: 'database port range' },
  { key: 'shard_port_range', kind: 'string', def: () => '20000-29999', help: 'shard (redis-server) port range' },
  { key: 'store', kind: 'string', def: (c) => `sqlite://${path.join(String(c.data_dir), 'ccs.db')}`, help: 'store URL' },
  { key: 'log_level', kind: 'string', def: () => 'info', help: 'log level' },
  { key: 'bootstrap', kind: 'bool', def: () => true, help: 'bootstrap a single-node cluster on first start' },
  { key: 'admin_user', kind: 'string', def: () => 'admin@openrs.local', help: 'admin user (email) for automatic bootstrap' },
  { key: 'admin_password', kind: 'string', help: 'admin password for automatic bootstrap (generated when unset)' },
  { key: 'cluster_name', kind: 'string', def: () => 'openrs.local', help: 'cluster name for automatic bootstrap' },
  { key: 'redis_server', kind: 'string', def: () => 'redis-server', help: 'redis-server executable' },
  // Below this, persistence (AOF rewrites, RDB snapshots) and the store's own writes start failing.
  { key: 'min_free_disk_mb', kind: 'int', def: () => 256, help: 'node check: least free disk space (MiB) on the storage paths' },
];

const flagName = (k: string) => k.replace(/_/g, '-');
const envName = (k: string) => `OPENRS_${k.toUpperCase()}`;

export class ConfigError extends Error {}

function convert(s: Setting, raw: string, source: string): unknown {
  if (s.kind === 'int') {
    if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${source}: expected an integer, got '${raw}'`);
    return Number(raw);
  }
  if (s.kind === 'bool') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${source}: expected true or false, got '${raw}'`);
  }
  return raw;
}

export function usage(): string {
  return [
    'Usage: openrs [options]',
    ...SETTINGS.map((s) => `  --${flagName(s.key).padEnd(16)} ${envName(s.key).padEnd(24)} ${s.help}`),
  ].join('\n');
}

/** Build the frozen Config from environment and argv; throws ConfigError with one clear line. */
export function loadConfig(env: Record<string, string | undefined>, argv: string[]): Config {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(SETTINGS.map((s) => [flagName(s.key), { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flag = (parsed.values as Record<string, string | undefined>)[flagName(s.key)];
    const fromEnv = env[envName(s.key)];
    if (flag !== undefined) out[s.key] = convert(s, flag, `--${flagName(s.key)}`);
    else if (fromEnv !== undefined && fromEnv !== '') out[s.key] = convert(s, fromEnv, envName(s.key));
  }
  for (const s of SETTINGS) if (out[s.key] === undefined && s.def) out[s.key] = s.def(out);

  if (!Value.Check(ConfigSchema, out)) {
    const err = Value.Errors(ConfigSchema, out).First()!;
    const key = err.path.replace(/^\//, '');
    throw new ConfigError(`--${flagName(key)} / ${envName(key)}: ${err.message} (got ${JSON.stringify(err.value)})`);
  }
  const range = (key: 'db_port_range' | 'shard_port_range'): PortRange => {
    const [from, to] = (out[key] as string).split('-').map(Number) as [number, number];
    if (from < 1024 || to > 65535 || from > to) {
      throw new ConfigError(`--${flagName(key)} / ${envName(key)}: expected FROM-TO within 1024-65535, got '${out[key]}'`);
    }
    return Object.freeze({ from, to });
  };
  const db_ports = range('db_port_range');
  const shard_ports = range('shard_port_range');
  if (db_ports.from <= shard_ports.to && shard_ports.from <= db_ports.to) {
    throw new ConfigError(`--db-port-range and --shard-port-range overlap (${out.db_port_range}, ${out.shard_port_range})`);
  }
  return Object.freeze({ ...(out as Static<typeof ConfigSchema>), db_ports, shard_ports });
}
