/** The object registry behind GET /v1/jsonschema: the same schemas that validate requests. */
import type { TSchema } from '@sinclair/typebox';
import { Action, StateMachine } from './action.js';
import { Bdb } from './bdb.js';
import { Bootstrap } from './bootstrap.js';
import { Certificate } from './certificates.js';
import { Cluster } from './cluster.js';
import { ClusterSettings, CmSettings } from './cluster-settings.js';
import { Ldap, LdapMapping } from './ldap.js';
import { License } from './license.js';
import { Node } from './node.js';
import { RedisAcl } from './redis-acl.js';
import { Shard } from './shard.js';
import { Role } from './role.js';
import { User } from './user.js';

export const OBJECT_SCHEMAS: Record<string, TSchema> = {
  action: Action,
  bdb: Bdb,
  bootstrap: Bootstrap,
  certificates: Certificate,
  cluster: Cluster,
  cluster_settings: ClusterSettings,
  cm_settings: CmSettings,
  ldap: Ldap,
  ldap_mapping: LdapMapping,
  license: License,
  node: Node,
  redis_acl: RedisAcl,
  role: Role,
  shard: Shard,
  state_machine: StateMachine,
  user: User,
};
