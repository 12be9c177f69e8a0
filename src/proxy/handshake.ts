/**
 * The HELLO commands a client opens a pinned connection with.
 *
 * redis-server 7.0 cannot refuse RESP3 (docs/notes-redis.md), so an endpoint of a database with
 * `resp3: false` answers `HELLO 3` itself with Redis's own `-NOPROTO` error, which clients take as
 * "speak RESP2". Only the commands before the first one forwarded are answered here: after that a
 * reply written by the proxy could no longer be put in order with the shard's, so a later HELLO 3
 * is forwarded as `HELLO 4` instead (ConnMeter in endpoint.ts, which also uses peekCommand).
 */

/** Redis's reply to a HELLO with a protocol version it does not serve (networking.c helloCommand). */
export const NOPROTO = Buffer.from('-NOPROTO unsupported protocol version\r\n');

/** A HELLO (or whatever precedes it) larger than this is not inspected: the connection is just piped. */
export const MAX_HANDSHAKE_BYTES = 64 * 1024;

export type Peek =
  /** More bytes are needed to tell. */
  | { kind: 'incomplete' }
  /** A HELLO command of `length` bytes asking for protocol `protover` (undefined: HELLO without arguments). */
  | { kind: 'hello'; protover: string | undefined; length: number }
  /** Anything else (or not parseable): stop inspecting and forward. */
  | { kind: 'other' };

const CRLF = 0x0a;

/** Look at the command at the start of `buf` (RESP array or inline). */
export function peekCommand(buf: Buffer): Peek {
  if (buf.length === 0) return { kind: 'incomplete' };
  return buf[0] === 0x2a /* '*' */ ? peekArray(buf) : peekInline(buf);
}

function peekArray(buf: Buffer): Peek {
  let pos = 0;
  const line = (): string | undefined => {
    const nl = buf.indexOf(CRLF, pos);
    if (nl < 0) return undefined;
    const text = buf.toString('latin1', pos, nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl);
    pos = nl + 1;
    return text;
  };
  const head = line();
  if (head === undefined) return { kind: 'incomplete' };
  const n = Number(head.slice(1));
  if (!Number.isInteger(n) || n < 1 || n > 64) return { kind: 'other' };
  const args: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = line();
    if (h === undefined) return { kind: 'incomplete' };
    const len = Number(h.slice(1));
    if (h[0] !== '$' || !Number.isInteger(len) || len < 0) return { kind: 'other' };
    if (buf.length < pos + len + 2) return i === 0 || args[0] === 'hello' ? { kind: 'incomplete' } : { kind: 'other' };
    args.push(buf.toString('latin1', pos, pos + len).toLowerCase());
    pos += len + 2;
    // The command name alone decides whether the rest matters.
    if (i === 0 && args[0] !== 'hello') return { kind: 'other' };
  }
  return { kind: 'hello', protover: args[1], length: pos };
}

function peekInline(buf: Buffer): Peek {
  const nl = buf.indexOf(CRLF);
  if (nl < 0) {
    const head = buf.toString('latin1', 0, Math.min(buf.length, 8)).trimStart().toLowerCase();
    return 'hello'.startsWith(head) || head.startsWith('hello') ? { kind: 'incomplete' } : { kind: 'other' };
  }
  const words = buf.toString('latin1', 0, nl).trim().split(/\s+/);
  if (words[0]!.toLowerCase() !== 'hello') return { kind: 'other' };
  return { kind: 'hello', protover: words[1], length: nl + 1 };
}
