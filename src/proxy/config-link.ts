/**
 * The proxy's end of clients' CONFIG commands: asks the manager over its config socket
 * (controller/config-socket.ts) and turns the answer into the client's RESP reply. One connection
 * per socket path, opened on first use; requests are matched to answers by id. When the manager
 * cannot be reached or does not answer in time, the client gets -TRYAGAIN and can retry.
 */
import net from 'node:net';
import { readLines } from './lines.js';
import type { Proto } from './mux.js';

export type ConfigAnswer = { ok: true } | { error: string } | { pairs: [string, string][] };

const TIMEOUT_MS = 10_000;
const MAX_LINE_CHARS = 1024 * 1024;
const UNREACHABLE = 'TRYAGAIN the cluster manager is not reachable; try again';

interface Pending {
  resolve: (a: ConfigAnswer) => void;
  timer: NodeJS.Timeout;
}

export class ConfigLink {
  private sock: net.Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly path: string) {}

  /** CONFIG `args` (subcommand first) from a client of `endpoint` signed in as `user`. Never rejects. */
  ask(endpoint: string, user: string, args: string[]): Promise<ConfigAnswer> {
    const sock = this.connection();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, { error: UNREACHABLE }), TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      sock.write(JSON.stringify({ id, endpoint, user, args, deadline: Date.now() + TIMEOUT_MS }) + '\n');
    });
  }

  close(): void {
    this.sock?.destroy();
  }

  private settle(id: number, a: ConfigAnswer): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(a);
  }

  private connection(): net.Socket {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const sock = net.connect(this.path);
    sock.on('error', () => undefined); // 'close' follows
    sock.once('close', () => {
      if (this.sock === sock) this.sock = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, { error: UNREACHABLE });
    });
    readLines(sock, MAX_LINE_CHARS, (line) => {
      try {
        const { id, ...a } = JSON.parse(line) as { id: number } & ConfigAnswer;
        this.settle(id, a);
      } catch {
        sock.destroy();
      }
    }, () => sock.destroy());
    this.sock = sock;
    return sock;
  }
}

const bulk = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return `$${b.length}\r\n${s}\r\n`;
};

/** The answer as the client's protocol has it: +OK, an error, or CONFIG GET's name/value pairs (a map in RESP3). */
export function encodeAnswer(a: ConfigAnswer, proto: Proto): Buffer {
  if ('ok' in a) return Buffer.from('+OK\r\n');
  if ('error' in a) return Buffer.from(`-${a.error.replace(/[\r\n]+/g, ' ')}\r\n`);
  const head = proto === 3 ? `%${a.pairs.length}\r\n` : `*${a.pairs.length * 2}\r\n`;
  return Buffer.from(head + a.pairs.map(([n, v]) => bulk(n) + bulk(v)).join(''), 'utf8');
}
