/**
 * GET /v1/cluster/module-capabilities (requests/cluster/module-capabilities.md): the capabilities a
 * module may declare, which the cluster checks against a database's configuration before it loads
 * the module there. The list belongs to the product, not to the modules installed: a cluster with
 * no modules (openrs's: bootstrap refuses user_defined_modules, there is no module upload) answers it
 * the same. Names are the ones real modules declare (fixtures modules_list.json); the first two
 * descriptions are the page's, the others say the same kind of thing in openrs's words.
 */
export interface ModuleCapability {
  name: string;
  desc: string;
}

export const MODULE_CAPABILITIES: readonly ModuleCapability[] = Object.freeze([
  { name: 'types', desc: 'module has its own types and not only operate on existing redis types' },
  { name: 'no_multi_key', desc: 'module has no methods that operate on multiple keys' },
  { name: 'replica_of', desc: 'module works in a database that is a Replica Of source or destination' },
  { name: 'backup_restore', desc: 'module works with database import and export' },
  { name: 'eviction_expiry', desc: 'module handles key eviction and expiry' },
  { name: 'reshard_rebalance', desc: 'module works in a database that is resharded or rebalanced' },
  { name: 'failover_migrate', desc: 'module works in a database whose shards fail over or migrate' },
  { name: 'persistence_aof', desc: 'module works in a database with AOF persistence' },
  { name: 'persistence_rdb', desc: 'module works in a database with snapshot (RDB) persistence' },
  { name: 'hash_policy', desc: 'module works in a database with a user-defined hashing policy' },
  { name: 'flash', desc: 'module works in a database that uses flash memory (Auto Tiering)' },
  { name: 'crdb', desc: 'module works in an Active-Active (CRDB) database' },
  { name: 'clustering', desc: 'module works in a sharded database whose shards can migrate' },
  { name: 'intershard_tls', desc: 'module supports encrypted communication between shards' },
  { name: 'intershard_tls_pass', desc: 'module supports intershard_tls with a password' },
  { name: 'ipv6', desc: 'module supports IPv6 communication between shards' },
  { name: 'bigstore_version_2', desc: 'module works with the version 2 flash storage engine (bigstore_version_2)' },
]);
