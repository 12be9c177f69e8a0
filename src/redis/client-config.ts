/**
 * The Redis settings a database's clients may read and change with CONFIG GET / CONFIG SET, as RS allows
 * them (references/compatibility/config-settings.md, the "Redis Software" column), and their checks.
 * Everything here is pure; controller/client-config.ts runs the commands, the reconciler keeps the values
 * on every shard (bdb record `redis_config`, config-map.ts CLIENT_CONFIG_RULES).
 */

export interface ClientSetting {
  /** Redis 7.0's name, the one CONFIG GET prints and redis.conf takes. */
  name: string;
  /** Older names Redis still takes for it (CONFIG GET prints both when a pattern matches both). */
  aliases?: readonly string[];
  /** RS's limit on the value (the page's notes); undefined when the value is fine. */
  check?: (value: string) => string | undefined;
}

const intIn = (min: number, max: number, unit: string) => (v: string) =>
  /^-?\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max ? undefined : `value must be between ${min} and ${max}${unit}`;

export const CLIENT_SETTINGS: readonly ClientSetting[] = [
  { name: 'activerehashing' },
  { name: 'busy-reply-threshold', aliases: ['lua-time-limit'], check: intIn(0, 60000, ' milliseconds') },
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'] },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'] },
  { name: 'hll-sparse-max-bytes' },
  { name: 'list-compress-depth' },
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'] },
  { name: 'notify-keyspace-events' },
  { name: 'set-max-intset-entries' },
  // "Value must be larger than 1000 microseconds."
  {
    name: 'slowlog-log-slower-than',
    check: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 1000 ? undefined : 'value must be larger than 1000 microseconds'),
  },
  { name: 'slowlog-max-len', check: intIn(128, 1024, '') },
  { name: 'stream-node-max-bytes' },
  { name: 'stream-node-max-entries' },
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'] },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'] },
];

const BY_NAME = new Map<string, ClientSetting>();
for (const s of CLIENT_SETTINGS) for (const n of [s.name, ...(s.aliases ?? [])]) BY_NAME.set(n, s);

/** The setting `name` (any case, alias or not) stands for; undefined when clients may not touch it. */
export function clientSetting(name: string): ClientSetting | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** CONFIG GET's answer, without the settings clients may not see (a pattern like `*` matches them all). */
export function visiblePairs(pairs: readonly (readonly [string, string])[]): [string, string][] {
  return pairs.filter(([n]) => BY_NAME.has(n.toLowerCase())).map(([n, v]) => [n, v]);
}

export type ConfigSetPlan = { pairs: [string, string][] } | { error: string };

/** CONFIG SET needs a name and a value at least: Redis's arity error otherwise (checked before permission). */
export function configSetArity(args: readonly string[]): string | undefined {
  return args.length < 2 ? "ERR wrong number of arguments for 'config|set' command" : undefined;
}

/**
 * CONFIG SET name value [name value ...] (the arguments after SET): every name must be one of
 * CLIENT_SETTINGS (checked first, over all pairs), then every value within RS's limits; else nothing is
 * set. Names are given back as Redis 7.0's names, so an alias and its setting cannot both appear.
 */
export function planConfigSet(args: readonly string[]): ConfigSetPlan {
  const arity = configSetArity(args);
  if (arity) return { error: arity };
  // An odd count past the first pair: Redis's syntax error (after the permission check, unlike arity).
  if (args.length % 2 !== 0) return { error: 'ERR syntax error' };
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const given = args[i]!;
    const s = clientSetting(given);
    if (!s) return { error: `ERR Unsupported CONFIG parameter: ${given}` };
    if (out.has(s.name)) return { error: `ERR CONFIG SET failed (possibly related to argument '${given}') - duplicate parameter` };
    out.set(s.name, args[i + 1]!);
  }
  for (let i = 0; i < args.length; i += 2) {
    const given = args[i]!;
    const value = args[i + 1]!;
    const problem = clientSetting(given)!.check?.(value);
    if (problem) return { error: `ERR Invalid argument '${value}' for CONFIG SET '${given}': ${problem}` };
  }
  return { pairs: [...out] };
}
