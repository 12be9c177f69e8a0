/** Newline framing for the control channel, with a cap so a peer cannot grow a buffer forever. */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/**
 * Calls `onLine` for every complete line read from `socket` (without the `\n`, a trailing `\r`
 * dropped) and `onOverflow` once if a line grows past `maxChars` characters; reading stops after an overflow.
 */
export function readLines(socket: Socket, maxChars: number, onLine: (line: string) => void, onOverflow: () => void): void {
  // StringDecoder keeps a multi-byte UTF-8 character that is split across chunks intact.
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let overflowed = false;
  socket.on('data', (chunk: Buffer) => {
    if (overflowed) return;
    buf += decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (socket.destroyed) return;
    }
    if (buf.length > maxChars) {
      overflowed = true;
      buf = '';
      onOverflow();
    }
  });
}
