/**
 * Work that must not overlap, one queue per key: run(key, fn) starts fn once every earlier run of that key
 * has settled (resolved or rejected), and gives fn's own result. Keys without waiting work are forgotten.
 */
export class KeyedLock<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
