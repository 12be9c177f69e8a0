/** requests/proxies/: the node's proxy (proxy-service.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../compose.js';
import { ProxyUpdate } from '../schemas/proxy.js';
import { parseUid, UidParams } from './params.js';

const proxyUid = (raw: string) => parseUid(raw, 'proxy_not_found');

export const proxyRoutes = (s: Services): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/v1/proxies', { config: { permission: 'view_all_proxies_info' } }, () => s.proxies.list());
  app.get('/v1/proxies/:uid', { config: { permission: 'view_proxy_info' }, schema: { params: UidParams } }, (req) => s.proxies.get(proxyUid(req.params.uid)));
  app.put('/v1/proxies', { config: { permission: 'update_proxy' }, schema: { body: ProxyUpdate } }, (req) => s.proxies.update(undefined, req.body));
  app.put('/v1/proxies/:uid', { config: { permission: 'update_proxy' }, schema: { params: UidParams, body: ProxyUpdate } },
    (req) => s.proxies.update(proxyUid(req.params.uid), req.body));
};
