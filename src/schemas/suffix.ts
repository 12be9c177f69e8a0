/** The suffix object (objects/suffix.md): a DNS zone the cluster's endpoint names live in. */
import { Type, type Static } from '@sinclair/typebox';

export const Suffix = Type.Object({
  name: Type.String({ description: 'Unique suffix name that represents its zone (read-only)' }),
  default: Type.Boolean({ description: 'Suffix is the default suffix for the cluster (read-only)' }),
  internal: Type.Boolean({ description: 'Does the suffix point to internal IP addresses (read-only)' }),
  mdns: Type.Boolean({ description: 'Support for multicast DNS (read-only)' }),
  slaves: Type.Array(Type.String(), { description: 'Frontend DNS servers to be updated by this suffix' }),
  use_aaaa_ns: Type.Boolean({ description: 'Suffix uses AAAA NS entries (read-only)' }),
}, { description: 'A DNS suffix of the cluster' });

export type Suffix = Static<typeof Suffix>;
