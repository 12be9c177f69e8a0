/** The Redis ACL object (objects/redis_acl.md; openapi `RedisAcl`). */
import { Type, type Static } from '@sinclair/typebox';
import { Uid } from './common.js';
import { ROLE_NAME_PATTERN } from './role.js';

const aclProps = {
  name: Type.String({ minLength: 1, maxLength: 255, pattern: ROLE_NAME_PATTERN, description: "Redis ACL's name" }),
  acl: Type.String({ maxLength: 65536, description: 'Redis ACL rules, as for ACL SETUSER (e.g. "+@read ~app:*")' }),
  account_id: Type.Integer({ description: 'SM account ID' }),
};

export const RedisAcl = Type.Object({
  uid: Type.Integer({ minimum: 1, description: "Object's unique ID" }),
  name: aclProps.name,
  acl: aclProps.acl,
  account_id: Type.Optional(aclProps.account_id),
}, { description: 'An API object that represents a Redis access control list (ACL).' });
export type RedisAcl = Static<typeof RedisAcl>;

/** POST /v1/redis_acls and /v1/redis_acls/validate; name and acl are checked as required by the service. */
export const RedisAclCreate = Type.Partial(Type.Object({ uid: Uid, ...aclProps }), { additionalProperties: false });
export type RedisAclCreate = Static<typeof RedisAclCreate>;
export const RedisAclUpdate = Type.Partial(Type.Object({ uid: Uid, ...aclProps }), { additionalProperties: false });
export type RedisAclUpdate = Static<typeof RedisAclUpdate>;
