/**
 * A client's FIN reaches the shard before what other clients send after it.
 *
 * `socket.end()` does not send the FIN at once: libuv queues the shutdown for the next turn of the
 * event loop, while a write on another socket goes out at once (and the shared connections' batch
 * at the end of this turn). So when one client leaves while blocked (BLPOP...) and another pushes
 * right after, both read in the same turn, Redis got the push first and popped the item for the
 * client that had left: its reply went nowhere, the item was lost (QA: most of 20 pushes, none
 * directly, where the FIN always comes first). While a FIN is on its way, what clients send waits
 * until it has been sent (a turn of the event loop).
 */
import type net from 'node:net';

/** FINs asked for and not yet sent. */
let pending = 0;
let waiting: (() => void)[] = [];

function sent(): void {
  if (--pending > 0) return;
  const w = waiting;
  waiting = [];
  for (const f of w) f();
}

/**
 * End `sock` (half-close). Its FIN goes before anything passed to whenSent() from now on. Only a
 * connected socket with nothing left to write is waited for: otherwise its FIN follows bytes (or a
 * connection) still on their way, and waiting for them could hold everything back behind one slow shard.
 */
export function endNow(sock: net.Socket): void {
  if (sock.writableLength > 0 || sock.writableEnded || sock.destroyed || sock.connecting) {
    sock.end();
    return;
  }
  pending++;
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    sent();
  };
  sock.once('finish', once);
  sock.once('close', once);
  sock.end();
}

/** True when `f` was queued to run once the FINs on their way are sent; false: nothing to wait for (not queued). */
export function whenSent(f: () => void): boolean {
  if (pending === 0) return false;
  waiting.push(f);
  return true;
}
