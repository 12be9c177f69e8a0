/**
 * The Prometheus exporter on metrics_port (RS: 8070), HTTPS with the API certificate as on RS:
 * `/` and `/metrics` serve v1, `/v2` the cluster-wide v2 view, `/v2/node` this node's v2 metrics
 * without the cluster/node labels (metrics_stream_engine/prometheus-metrics-v1-to-v2.md).
 * Open while the cluster's metrics_auth is false (RS's default); with it true, every request
 * needs a cluster user's credentials (metrics-auth.ts), else 401 + WWW-Authenticate / 403 with an
 * RS error body. A port that cannot be bound is logged and leaves the REST API running.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TlsManager } from '../certs/tls-manager.js';
import { RsError } from '../errors.js';
import type { MetricsAuthorizer } from './metrics-auth.js';
import type { ScrapeContext } from './scrape-context.js';
import { v1Exposition } from './v1.js';
import { v2Exposition } from './v2.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ExporterOptions {
  host: string;
  port: number;
  tls: TlsManager;
  log: Logger;
  context(): Promise<ScrapeContext>;
  classify(name: string): 'read' | 'write' | 'other';
  /** Checked before anything else on every request; absent = open. */
  authorize?: MetricsAuthorizer;
}

export class MetricsExporter {
  private server: https.Server | undefined;

  constructor(private readonly o: ExporterOptions) {}

  /** The bound port, once listening. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async render(path: string): Promise<string | undefined> {
    const ctx = await this.o.context();
    if (path === '/' || path === '/metrics') return v1Exposition(ctx).render();
    if (path === '/v2') return v2Exposition(ctx, { nodeOnly: false, classify: this.o.classify }).render();
    if (path === '/v2/node') return v2Exposition(ctx, { nodeOnly: true, classify: this.o.classify }).render();
    return undefined;
  }

  async listen(): Promise<number | undefined> {
    const server = https.createServer(this.o.tls.contextOptions(), (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!.replace(/(.)\/$/, '$1');
      const serve = async () => {
        // Credentials first, so that without them not even a path's existence is told.
        await this.o.authorize?.(req.headers.authorization);
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { Allow: 'GET, HEAD' }).end();
          return;
        }
        const body = await this.render(path);
        if (body === undefined) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        else res.writeHead(200, { 'Content-Type': CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : body);
      };
      serve().catch((err: unknown) => {
        if (err instanceof RsError && err.statusCode < 500) {
          // As the REST API answers (conventions.ts): the RS error body, a Basic challenge on 401.
          const headers: Record<string, string> = { 'Content-Type': 'application/json' };
          if (err.statusCode === 401) headers['WWW-Authenticate'] = 'Basic realm="openrs"';
          res.writeHead(err.statusCode, headers).end(req.method === 'HEAD' ? undefined : JSON.stringify(err.toJSON()));
          return;
        }
        this.o.log.error({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('scrape failed\n');
      });
    });
    this.o.tls.onChange((ctx) => server.setSecureContext(ctx));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.o.port, this.o.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.o.log.error({ err, port: this.o.port }, 'cannot listen for Prometheus scrapes; metrics are not exported');
      return undefined;
    }
    this.server = server;
    this.o.log.info({ addr: this.o.host, port: this.port }, 'Prometheus exporter listening (HTTPS)');
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
