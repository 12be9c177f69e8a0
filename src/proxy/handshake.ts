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

/** An integer as Redis's string2ll takes it: no sign but `-`, no leading zero, no spaces. */
const LENGTH = /^(?:0|-?[1-9][0-9]*)$/;

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
  // Lengths as Redis reads them (string2ll): `* 1` is no length (Number() would take it), Redis's error is the answer.
  if (!LENGTH.test(head.slice(1))) return { kind: 'other' };
  const n = Number(head.slice(1));
  if (n < 1 || n > 64) return { kind: 'other' };
  const args: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = line();
    if (h === undefined) return { kind: 'incomplete' };
    const len = Number(h.slice(1));
    if (h[0] !== '$' || !LENGTH.test(h.slice(1)) || len < 0) return { kind: 'other' };
    // A name that is not five bytes long is no HELLO, whatever follows (a bulk Redis refuses at once, as too long, too).
    if (i === 0 && len !== 5) return { kind: 'other' };
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
    // A quoted name may be anything once unescaped: wait for the whole line.
    if (head[0] === '"' || head[0] === "'") return { kind: 'incomplete' };
    return 'hello'.startsWith(head) || head.startsWith('hello') ? { kind: 'incomplete' } : { kind: 'other' };
  }
  const words = splitArgs(buf.toString('latin1', 0, nl));
  if (!words?.length || words[0]!.toLowerCase() !== 'hello') return { kind: 'other' };
  return { kind: 'hello', protover: words[1], length: nl + 1 };
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
const isSpace = (c: string | undefined) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';

/**
 * An inline command's arguments as redis-server reads them (sdssplitargs): "double quotes" with
 * \xHH and \n-style escapes, 'single quotes' with \' only, a closing quote followed by a space or
 * the end. null where Redis answers "unbalanced quotes".
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (isSpace(line[i])) i++;
    if (i >= line.length) return out;
    let arg = '';
    const quote = line[i] === '"' || line[i] === "'" ? line[i++] : undefined;
    for (;;) {
      const c = line[i];
      if (quote === undefined) {
        if (c === undefined || isSpace(c)) break;
        arg += c;
        i++;
      } else if (c === undefined) {
        return null;
      } else if (quote === '"' && c === '\\' && line[i + 1] === 'x' && /^[0-9a-f]{2}$/i.test(line.slice(i + 2, i + 4))) {
        arg += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (c === '\\' && line[i + 1] !== undefined && (quote === '"' || line[i + 1] === "'")) {
        const e = line[i + 1]!;
        arg += quote === '"' ? (ESCAPES[e] ?? e) : e;
        i += 2;
      } else if (c === quote) {
        i++;
        if (i < line.length && !isSpace(line[i])) return null;
        break;
      } else {
        arg += c;
        i++;
      }
    }
    out.push(arg);
  }
}
