/** Waiting on a promise for a bounded time; the timer is cleared either way, and the promise's later outcome is ignored. */

/** `p`'s value, or `onTimeout()` (a value, or a throw) when it has not settled within `ms`. */
function raceTimer<T, U>(p: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (e) {
        reject(e);
      }
    }, Math.max(0, ms));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** `p`'s value, or undefined when it has not settled within `ms`. */
export function orUndefinedAfter<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return raceTimer(p, ms, () => undefined);
}

/** `p`'s value; rejected with "`what`: no answer within `ms` ms" when it has not settled by then. */
export function failAfter<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return raceTimer(p, ms, (): never => {
    throw new Error(`${what}: no answer within ${ms} ms`);
  });
}
