/**
 * Redis command names and their subcommands, for the ACL rule validator (acl-grammar.ts).
 * REDIS_7_0 is generated from `COMMAND` of redis-server 7.0.15 (the version the cross-check test
 * runs); NEWER lists core commands added in 7.2-8.2, which RS databases of those versions accept.
 * Module commands (FT.SEARCH, JSON.GET ...) are not listed: acl-grammar.ts accepts dotted names.
 */

const REDIS_7_0: Record<string, readonly string[]> = {
  acl: [
    'cat', 'deluser', 'dryrun', 'genpass', 'getuser', 'help', 'list', 'load', 'log', 'save', 'setuser',
    'users', 'whoami',
  ],
  append: [], asking: [], auth: [], bgrewriteaof: [], bgsave: [], bitcount: [], bitfield: [],
  bitfield_ro: [], bitop: [], bitpos: [], blmove: [], blmpop: [], blpop: [], brpop: [],
  brpoplpush: [], bzmpop: [], bzpopmax: [], bzpopmin: [],
  client: [
    'caching', 'getname', 'getredir', 'help', 'id', 'info', 'kill', 'list', 'no-evict', 'pause', 'reply',
    'setname', 'tracking', 'trackinginfo', 'unblock', 'unpause',
  ],
  cluster: [
    'addslots', 'addslotsrange', 'bumpepoch', 'count-failure-reports', 'countkeysinslot', 'delslots',
    'delslotsrange', 'failover', 'flushslots', 'forget', 'getkeysinslot', 'help', 'info', 'keyslot', 'links',
    'meet', 'myid', 'nodes', 'replicas', 'replicate', 'reset', 'saveconfig', 'set-config-epoch', 'setslot',
    'shards', 'slaves', 'slots',
  ],
  command: ['count', 'docs', 'getkeys', 'getkeysandflags', 'help', 'info', 'list'],
  config: ['get', 'help', 'resetstat', 'rewrite', 'set'],
  copy: [], dbsize: [], debug: [], decr: [], decrby: [], del: [], discard: [], dump: [], echo: [],
  eval: [], eval_ro: [], evalsha: [], evalsha_ro: [], exec: [], exists: [], expire: [],
  expireat: [], expiretime: [], failover: [], fcall: [], fcall_ro: [], flushall: [], flushdb: [],
  function: ['delete', 'dump', 'flush', 'help', 'kill', 'list', 'load', 'restore', 'stats'],
  geoadd: [], geodist: [], geohash: [], geopos: [], georadius: [], georadius_ro: [],
  georadiusbymember: [], georadiusbymember_ro: [], geosearch: [], geosearchstore: [], get: [],
  getbit: [], getdel: [], getex: [], getrange: [], getset: [], hdel: [], hello: [], hexists: [],
  hget: [], hgetall: [], hincrby: [], hincrbyfloat: [], hkeys: [], hlen: [], hmget: [], hmset: [],
  hrandfield: [], hscan: [], hset: [], hsetnx: [], hstrlen: [], hvals: [], incr: [], incrby: [],
  incrbyfloat: [], info: [], keys: [], lastsave: [],
  latency: ['doctor', 'graph', 'help', 'histogram', 'history', 'latest', 'reset'],
  lcs: [], lindex: [], linsert: [], llen: [], lmove: [], lmpop: [], lolwut: [], lpop: [],
  lpos: [], lpush: [], lpushx: [], lrange: [], lrem: [], lset: [], ltrim: [],
  memory: ['doctor', 'help', 'malloc-stats', 'purge', 'stats', 'usage'],
  mget: [], migrate: [],
  module: ['help', 'list', 'load', 'loadex', 'unload'],
  monitor: [], move: [], mset: [], msetnx: [], multi: [],
  object: ['encoding', 'freq', 'help', 'idletime', 'refcount'],
  persist: [], pexpire: [], pexpireat: [], pexpiretime: [], pfadd: [], pfcount: [], pfdebug: [],
  pfmerge: [], pfselftest: [], ping: [], psetex: [], psubscribe: [], psync: [], pttl: [],
  publish: [],
  pubsub: ['channels', 'help', 'numpat', 'numsub', 'shardchannels', 'shardnumsub'],
  punsubscribe: [], quit: [], randomkey: [], readonly: [], readwrite: [], rename: [],
  renamenx: [], replconf: [], replicaof: [], reset: [], restore: [], 'restore-asking': [],
  role: [], rpop: [], rpoplpush: [], rpush: [], rpushx: [], sadd: [], save: [], scan: [],
  scard: [],
  script: ['debug', 'exists', 'flush', 'help', 'kill', 'load'],
  sdiff: [], sdiffstore: [], select: [], set: [], setbit: [], setex: [], setnx: [], setrange: [],
  shutdown: [], sinter: [], sintercard: [], sinterstore: [], sismember: [], slaveof: [],
  slowlog: ['get', 'help', 'len', 'reset'],
  smembers: [], smismember: [], smove: [], sort: [], sort_ro: [], spop: [], spublish: [],
  srandmember: [], srem: [], sscan: [], ssubscribe: [], strlen: [], subscribe: [], substr: [],
  sunion: [], sunionstore: [], sunsubscribe: [], swapdb: [], sync: [], time: [], touch: [],
  ttl: [], type: [], unlink: [], unsubscribe: [], unwatch: [], wait: [], watch: [], xack: [],
  xadd: [], xautoclaim: [], xclaim: [], xdel: [],
  xgroup: ['create', 'createconsumer', 'delconsumer', 'destroy', 'help', 'setid'],
  xinfo: ['consumers', 'groups', 'help', 'stream'],
  xlen: [], xpending: [], xrange: [], xread: [], xreadgroup: [], xrevrange: [], xsetid: [],
  xtrim: [], zadd: [], zcard: [], zcount: [], zdiff: [], zdiffstore: [], zincrby: [], zinter: [],
  zintercard: [], zinterstore: [], zlexcount: [], zmpop: [], zmscore: [], zpopmax: [],
  zpopmin: [], zrandmember: [], zrange: [], zrangebylex: [], zrangebyscore: [], zrangestore: [],
  zrank: [], zrem: [], zremrangebylex: [], zremrangebyrank: [], zremrangebyscore: [],
  zrevrange: [], zrevrangebylex: [], zrevrangebyscore: [], zrevrank: [], zscan: [], zscore: [],
  zunion: [], zunionstore: [],
};

const NEWER: Record<string, readonly string[]> = {
  hexpire: [], hexpireat: [], hexpiretime: [], hgetdel: [], hgetex: [], hpersist: [],
  hpexpire: [], hpexpireat: [], hpexpiretime: [], hpttl: [], hsetex: [], httl: [], vadd: [],
  vcard: [], vdim: [], vemb: [], vgetattr: [], vinfo: [], vlinks: [], vrandmember: [], vrem: [],
  vsetattr: [], vsim: [], waitaof: [], xackdel: [], xdelex: [],
};

const NEWER_SUBCOMMANDS: Record<string, readonly string[]> = {
  client: ['no-touch', 'setinfo'],
  cluster: ['myshardid', 'slot-stats'],
};

/** Command (lower case) → its subcommands (lower case; empty for commands without any). */
export const REDIS_COMMANDS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries({ ...REDIS_7_0, ...NEWER }).map(([name, subs]) => [name, new Set([...subs, ...(NEWER_SUBCOMMANDS[name] ?? [])])]),
);

/** The commands (and subcommands) of Redis 7.0 alone: what a 7.0 redis-server's ACL SETUSER accepts. */
export const REDIS_7_0_COMMANDS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(REDIS_7_0).map(([name, subs]) => [name, new Set(subs)]),
);

/** ACL categories of Redis 7.x, then the module categories Redis 8 added. */
export const REDIS_ACL_CATEGORIES: ReadonlySet<string> = new Set([
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
  'search', 'json', 'timeseries', 'bloom', 'cuckoo', 'cms', 'topk', 'tdigest',
]);
