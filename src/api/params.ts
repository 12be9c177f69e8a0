/** Path and query parameter helpers shared by the route plugins. */
import { Type, type Static } from '@sinclair/typebox';
import { RsError, type ErrorCode } from '../errors.js';

export const UidParams = Type.Object({ uid: Type.String() });

/** `{int: uid}` in the RS docs: anything else names no object. At most 9 digits: creates refuse uids above MAX_UID (schemas/common.ts). */
export function parseUid(raw: string, notFound: ErrorCode = 'not_found'): number {
  if (!/^[0-9]{1,9}$/.test(raw)) throw new RsError(notFound, `No such object: '${raw}'`);
  return Number(raw);
}

/** `fields=a,b`, or repeated (`fields=a&fields=b`): the conventions hook reads both. */
export const FieldsParam = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));
export const DryRunQuery = Type.Object({ dry_run: Type.Optional(Type.String()), fields: FieldsParam });
/** A query flag (`?dry_run`, `?dry_run=1`): present with any value but false/0/no/off means set. */
export const flagSet = (v: string | undefined) => v !== undefined && !/^(false|0|no|off)$/i.test(v);
/** `dry_run` is a flag (flagSet): validate only. */
export const isDryRun = (q: { dry_run?: string }) => flagSet(q.dry_run);

export const FieldsQuery = Type.Object({ fields: FieldsParam });

/** requests/shards `extra_info_keys`: INFO keys for redis_info, repeated (`?extra_info_keys=a&extra_info_keys=b`). */
export const ExtraInfoQuery = Type.Object({ extra_info_keys: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
export const extraInfoKeys = (q: Static<typeof ExtraInfoQuery>): string[] => (q.extra_info_keys === undefined ? [] : ([] as string[]).concat(q.extra_info_keys));
