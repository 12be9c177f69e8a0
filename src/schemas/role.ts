/** The role object (objects/role.md; openapi `Role`, `RoleBody`, `RoleCreateRequest`). */
import { Type, type Static } from '@sinclair/typebox';
import { MANAGEMENT_ROLES } from '../auth/permissions.js';
import { StrEnum, Uid } from './common.js';

/** openapi `RoleBody.name` (also `RedisAcl.name`). */
export const ROLE_NAME_PATTERN = '^[a-zA-Z0-9_ \\[\\]()@,.;#-]+$';

/** A resource scope: limits a db_member / db_viewer role to some databases (role.md). */
export const RoleResource = Type.Object({
  type: Type.Literal('db', { description: 'Resource type (only db)' }),
  uids: Type.Array(Type.String({ pattern: '^[1-9][0-9]*$' }), { uniqueItems: true, description: 'Database UIDs the role applies to' }),
}, { additionalProperties: false });

const roleProps = {
  name: Type.String({ minLength: 1, maxLength: 255, pattern: ROLE_NAME_PATTERN, description: "Role's name" }),
  management: StrEnum(MANAGEMENT_ROLES, { description: 'Management role: the REST API permissions of users holding this role' }),
  resources: Type.Array(RoleResource, { description: 'Databases a db_member / db_viewer role is limited to; empty or absent = all' }),
  account_id: Type.Integer({ description: 'SM account ID' }),
};

export const Role = Type.Object({
  uid: Type.Integer({ minimum: 1, description: "Role's unique ID" }),
  name: roleProps.name,
  management: roleProps.management,
  resources: Type.Optional(roleProps.resources),
  account_id: Type.Optional(roleProps.account_id),
}, { description: 'An API object that represents a role.' });
export type Role = Static<typeof Role>;

/** POST /v1/roles (uid optional, as in openapi RoleCreateRequest); name and management are checked as required by the service (missing_field). */
export const RoleCreate = Type.Partial(Type.Object({ uid: Uid, ...roleProps }), { additionalProperties: false });
export type RoleCreate = Static<typeof RoleCreate>;
export const RoleUpdate = Type.Partial(Type.Object({ uid: Uid, ...roleProps }), { additionalProperties: false });
export type RoleUpdate = Static<typeof RoleUpdate>;
