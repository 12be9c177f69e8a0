/** Pick the KV backend by URL: `sqlite://PATH` or `sqlite://:memory:` (etcd:// comes with multi-node support). */
import { SqliteKv } from './sqlite/sqlite-kv.js';
import type { KvBackend } from './kv.js';

export function openStore(url: string): KvBackend {
  const m = /^([a-z]+):\/\/(.+)$/.exec(url);
  if (!m) throw new Error(`invalid store URL '${url}'`);
  const [, scheme, rest] = m;
  if (scheme === 'sqlite') return new SqliteKv(rest!);
  throw new Error(`unsupported store scheme '${scheme}://' (supported: sqlite://)`);
}
