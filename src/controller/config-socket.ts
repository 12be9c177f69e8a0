/**
 * The manager's end of the proxy's CONFIG requests (client-config.ts): a unix domain socket (mode
 * 0600) in the run directory, one JSON object per line each way, answered by request `id`. The proxy
 * finds it through its endpoints' `config_socket`; while the manager is down, clients get -TRYAGAIN.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { readLines } from '../proxy/lines.js';
import type { ClientConfig } from './client-config.js';
import type { Sidecar } from './manager.js';

/** A client command the proxy takes whole is at most 1 MiB (mux.ts MAX_PARTIAL); JSON may grow it. */
const MAX_LINE_CHARS = 8 * 1024 * 1024;
const MAX_ERROR_CHARS = 1024;

export class ConfigSocket implements Sidecar {
  private server: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();

  constructor(
    readonly path: string,
    private readonly config: ClientConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // One manager per data directory: a file left here is from one that is gone.
    fs.mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
    fs.rmSync(this.path, { force: true });
    const server = net.createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'config socket error'));
    fs.chmodSync(this.path, 0o600);
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private onConnection(sock: net.Socket): void {
    this.conns.add(sock);
    sock.once('close', () => this.conns.delete(sock));
    sock.on('error', (err) => this.log.debug({ err: err.message }, 'config connection error'));
    readLines(sock, MAX_LINE_CHARS, (line) => void this.answer(sock, line), () => sock.destroy());
  }

  private async answer(sock: net.Socket, line: string): Promise<void> {
    let id: unknown;
    let out: Record<string, unknown>;
    try {
      const req = JSON.parse(line) as { id?: unknown; endpoint?: unknown; user?: unknown; args?: unknown; deadline?: unknown };
      id = req.id;
      const { user, args } = req;
      const deadline = typeof req.deadline === 'number' ? req.deadline : undefined;
      // Endpoint uids are `<bdb uid>:1` (endpoint-spec.ts).
      const bdb = typeof req.endpoint === 'string' && /^\d+:\d+$/.test(req.endpoint) ? Number(req.endpoint.split(':')[0]) : undefined;
      if (bdb === undefined || typeof user !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
        out = { error: 'ERR malformed CONFIG request' };
      } else {
        out = await this.config.handle({ bdb, user, args: args as string[], ...(deadline !== undefined ? { deadline } : {}) });
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'CONFIG request failed');
      out = { error: `ERR ${(e as Error).message}` };
    }
    // An error may quote what the client sent (a 1 MB setting name): the client needs the start of it only.
    if ('error' in out && typeof out.error === 'string' && out.error.length > MAX_ERROR_CHARS) out = { error: `${out.error.slice(0, MAX_ERROR_CHARS)}...` };
    if (!sock.destroyed) sock.write(JSON.stringify({ id, ...out }) + '\n');
  }
}
