/**
 * The KV contract every CCS backend must pass (sqlite today, etcd later). Call it from a
 * backend's test file with a factory that returns a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KvConflictError, type KvBackend, type WatchEvent } from '../../src/store/kv.js';
import { waitFor } from '../helpers/wait-for.js';

export function runKvContract(name: string, factory: () => Promise<KvBackend> | KvBackend): void {
  describe(`KV contract: ${name}`, () => {
    const opened: KvBackend[] = [];
    const open = async () => {
      const kv = await factory();
      opened.push(kv);
      return kv;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((kv) => kv.close()));
    });

    it('starts empty at revision 0', async () => {
      const kv = await open();
      expect(await kv.revision()).toBe(0);
      expect(await kv.get('/a')).toBeUndefined();
      expect(await kv.list('/')).toEqual([]);
    });

    it('put/get round-trips JSON values and tracks revisions and versions', async () => {
      const kv = await open();
      const r1 = await kv.put('/a', { x: 1, s: 'é', n: null, arr: [1, 2] });
      const r2 = await kv.put('/a', { x: 2 });
      expect(r2).toBe(r1 + 1);
      const e = await kv.get<{ x: number }>('/a');
      expect(e).toMatchObject({ key: '/a', value: { x: 2 }, createRevision: r1, modRevision: r2, version: 2 });
      expect(await kv.revision()).toBe(r2);
    });

    it('list returns keys under a prefix in key order, and only those', async () => {
      const kv = await open();
      await kv.put('/users/2', 'b');
      await kv.put('/users/1', 'a');
      await kv.put('/usersx', 'no');
      await kv.put('/roles/1', 'no');
      const l = await kv.list('/users/');
      expect(l.map((e) => [e.key, e.value])).toEqual([['/users/1', 'a'], ['/users/2', 'b']]);
    });

    it('compare-and-set: put with the current modRevision wins, a stale one conflicts', async () => {
      const kv = await open();
      const r1 = await kv.put('/c', 1, 0); // create-only
      await expect(kv.put('/c', 2, 0)).rejects.toBeInstanceOf(KvConflictError);
      const r2 = await kv.put('/c', 2, r1);
      await expect(kv.put('/c', 3, r1)).rejects.toBeInstanceOf(KvConflictError);
      expect((await kv.get('/c'))?.value).toBe(2);
      expect((await kv.get('/c'))?.modRevision).toBe(r2);
    });

    it('delete removes keys, honours compare, and re-creation starts a new version', async () => {
      const kv = await open();
      const r1 = await kv.put('/d', 1);
      await expect(kv.delete('/d', r1 + 100)).rejects.toBeInstanceOf(KvConflictError);
      expect(await kv.delete('/d', r1)).toBe(true);
      expect(await kv.get('/d')).toBeUndefined();
      expect(await kv.delete('/d')).toBe(false);
      const r3 = await kv.put('/d', 2);
      expect(await kv.get('/d')).toMatchObject({ version: 1, createRevision: r3 });
    });

    it('txn applies all ops under one revision, or nothing when a compare fails', async () => {
      const kv = await open();
      const r0 = await kv.put('/t/x', 0);
      const ok = await kv.txn([{ key: '/t/x', modRevision: r0 }, { key: '/t/new', modRevision: 0 }], [
        { type: 'put', key: '/t/x', value: 1 },
        { type: 'put', key: '/t/new', value: 'n' },
      ]);
      expect(ok.succeeded).toBe(true);
      expect((await kv.get('/t/x'))?.modRevision).toBe(ok.revision);
      expect((await kv.get('/t/new'))?.modRevision).toBe(ok.revision);

      const bad = await kv.txn([{ key: '/t/x', modRevision: r0 }], [
        { type: 'put', key: '/t/x', value: 99 },
        { type: 'delete', key: '/t/new' },
      ]);
      expect(bad).toEqual({ succeeded: false, revision: ok.revision });
      expect((await kv.get('/t/x'))?.value).toBe(1);
      expect((await kv.get('/t/new'))?.value).toBe('n');
    });

    it('rejects values that are not JSON-serializable without changing anything', async () => {
      const kv = await open();
      await expect(kv.put('/f', () => 1)).rejects.toThrow();
      expect(await kv.revision()).toBe(0);
    });

    it('watch delivers puts and deletes under the prefix, in order, after the given revision', async () => {
      const kv = await open();
      const r0 = await kv.put('/w/old', 'before');
      const got: WatchEvent[] = [];
      const stop = kv.watch('/w/', r0, (evs) => got.push(...evs));
      await kv.put('/w/a', 1);
      await kv.put('/other', 1);
      await kv.delete('/w/old');
      await kv.txn([], [{ type: 'put', key: '/w/b', value: 2 }, { type: 'put', key: '/w/c', value: 3 }]);
      await waitFor(() => got.length >= 4, { what: 'watch events' });
      expect(got.map((e) => [e.type, e.key, e.value])).toEqual([
        ['put', '/w/a', 1],
        ['delete', '/w/old', undefined],
        ['put', '/w/b', 2],
        ['put', '/w/c', 3],
      ]);
      expect(got[2]!.revision).toBe(got[3]!.revision);
      stop();
      await kv.put('/w/d', 4);
      await new Promise((r) => setImmediate(r));
      expect(got).toHaveLength(4);
    });

    it('watch from an older revision replays history', async () => {
      const kv = await open();
      await kv.put('/h/a', 1);
      await kv.put('/h/a', 2);
      const got: WatchEvent[] = [];
      const stop = kv.watch('/h/', 0, (evs) => got.push(...evs));
      await waitFor(() => got.length >= 2, { what: 'replayed events' });
      expect(got.map((e) => e.value)).toEqual([1, 2]);
      stop();
    });

    it('concurrent compare-and-set increments never lose an update', async () => {
      const kv = await open();
      await kv.put('/counter', 0);
      const incr = async () => {
        for (;;) {
          const e = (await kv.get<number>('/counter'))!;
          try {
            await kv.put('/counter', e.value + 1, e.modRevision);
            return;
          } catch (err) {
            if (!(err instanceof KvConflictError)) throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: 25 }, incr));
      expect((await kv.get('/counter'))?.value).toBe(25);
    });
  });
}
