/** GET /v1/license body (requests/license); nullable fields as in the real capture. */
import { Type } from '@sinclair/typebox';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const License = Type.Object({
  license: Type.String({ description: 'License data' }),
  cluster_name: NullableString,
  expired: Type.Boolean(),
  activation_date: Type.String(),
  expiration_date: Type.String(),
  key: Type.String(),
  features: Type.Array(Type.String()),
  owner: NullableString,
  shards_limit: Type.Integer(),
  ram_shards_limit: NullableInt,
  ram_shards_in_use: Type.Integer(),
  flash_shards_limit: NullableInt,
  flash_shards_in_use: Type.Integer(),
}, { description: 'The cluster license' });

export const LicenseUpdate = Type.Object({ license: Type.String() }, { additionalProperties: false });
