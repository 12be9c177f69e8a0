import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RsError } from '../errors.js';
import { OBJECT_SCHEMAS } from '../schemas/index.js';

export const jsonschemaRoutes = (): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/jsonschema', { config: { permission: 'view_cluster_info' }, schema: { querystring: Type.Object({ object: Type.Optional(Type.String()) }) } },
    async (req) => {
      const name = req.query.object;
      if (name === undefined) return OBJECT_SCHEMAS;
      // Own properties only: `toString`, `__proto__`, ... are not object names.
      const schema = Object.hasOwn(OBJECT_SCHEMAS, name) ? OBJECT_SCHEMAS[name] : undefined;
      if (!schema) throw new RsError('invalid_object', `Unknown object '${name}'; known: ${Object.keys(OBJECT_SCHEMAS).join(', ')}`);
      return schema;
    });
};
