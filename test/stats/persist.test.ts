/** The rollups file: round trip, open buckets carried on, deleted objects dropped, bad files ignored. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { INTERVALS } from '../../src/stats/intervals.js';
import { RollupPersistence, rollupsFile } from '../../src/stats/persist.js';
import { RollupStore } from '../../src/stats/rollup.js';

const T0 = Date.parse('2025-10-14T00:00:00Z') / 1000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-stats-'));
  dirs.push(d);
  return rollupsFile(d);
}
function fakeLog() {
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), info: () => undefined } as unknown as Logger;
  return { log, warnings };
}
const all = (r: RollupStore, kind: 'bdb' | 'node' | 'cluster' | 'shard' | 'endpoint', uid: string) =>
  INTERVALS.map((i) => r.entries(kind, uid, i.name));

describe('RollupPersistence', () => {
  it('writes every series and reads it back; open buckets go on as if there had been no restart', async () => {
    const file = tmpFile();
    const a = new RollupStore();
    const b = new RollupStore();
    for (let i = 1; i <= 95; i++) {
      for (const r of [a, b]) {
        r.add('bdb', '1', T0 + i, { used_memory: i, last_req_time: `t${i}` });
        r.add('endpoint', '1:1:1', T0 + i, { conns: i % 3 });
        r.add('cluster', '', T0 + i, { cpu_idle: 0.5 });
      }
    }
    const p = new RollupPersistence(a, file);
    await p.load(() => true);
    await p.stop();
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);

    const c = new RollupStore();
    await new RollupPersistence(c, file).load(() => true);
    for (const [k, u] of [['bdb', '1'], ['endpoint', '1:1:1'], ['cluster', '']] as const) expect(all(c, k, u)).toEqual(all(a, k, u));
    expect(c.entries('bdb', '1', '1sec')).toHaveLength(10);
    expect(c.entries('bdb', '1', '10sec').at(-1)).toMatchObject({ etime: '2025-10-14T00:01:30Z', used_memory: 85.5 });
    // The restored open buckets are completed by later samples exactly as the uninterrupted store's.
    for (let i = 96; i <= 400; i++) for (const r of [b, c]) r.add('bdb', '1', T0 + i, { used_memory: i, last_req_time: `t${i}` });
    expect(all(c, 'bdb', '1')).toEqual(all(b, 'bdb', '1'));
    expect(c.entries('bdb', '1', '5min')).toEqual([expect.objectContaining({ stime: '2025-10-14T00:00:00Z', used_memory: 150.5 })]);
  });

  it('drops the series of objects that no longer exist, and writes only after a change', async () => {
    const file = tmpFile();
    const a = new RollupStore();
    a.add('bdb', '1', T0 + 1, { x: 1 });
    a.add('bdb', '2', T0 + 1, { x: 2 });
    const p = new RollupPersistence(a, file);
    await p.load(() => true);
    await p.save();
    const written = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, 0, 0);
    await p.save(); // nothing changed: not rewritten
    expect(fs.statSync(file).mtimeMs).toBe(0);
    expect(written).toBeGreaterThan(0);

    const c = new RollupStore();
    await new RollupPersistence(c, file).load((kind, uid) => kind !== 'bdb' || uid === '2');
    expect(c.has('bdb', '1')).toBe(false);
    expect(c.entries('bdb', '2', '1sec')).toEqual([expect.objectContaining({ x: 2 })]);
  });

  it('keeps the rings bounded when the file holds more than the documented number', () => {
    const c = new RollupStore();
    const entries = Array.from({ length: 50 }, (_, i) => ({ interval: '1sec', stime: new Date((T0 + i) * 1000).toISOString(), etime: new Date((T0 + i + 1) * 1000).toISOString(), x: i }));
    c.restore([{ kind: 'node', uid: '1', rings: { '1sec': entries, '10sec': [{ bogus: true }] }, open: { '10sec': { start: 3 } } }, 'junk', { kind: 'nope', uid: '1' }]);
    expect(c.entries('node', '1', '1sec')).toHaveLength(10);
    expect(c.entries('node', '1', '1sec').at(-1)).toMatchObject({ x: 49 });
    expect(c.entries('node', '1', '10sec')).toEqual([]);
  });

  it('ignores a missing, truncated or corrupt file with a warning (none for a missing one) and writes over it later', async () => {
    const file = tmpFile();
    const good = new RollupStore();
    for (let i = 1; i <= 30; i++) good.add('bdb', '1', T0 + i, { x: i });
    const gp = new RollupPersistence(good, file);
    await gp.load(() => true);
    await gp.save();
    const bytes = fs.readFileSync(file);

    const missing = fakeLog();
    const empty = new RollupStore();
    await new RollupPersistence(empty, `${file}.none`, missing.log).load(() => true);
    expect(missing.warnings).toEqual([]);

    for (const content of [bytes.subarray(0, bytes.length / 2), Buffer.from('not gzip at all'), zlib.gzipSync('{"format":1,"series":'), zlib.gzipSync('{"format":99,"series":[]}')]) {
      fs.writeFileSync(file, content);
      const { log, warnings } = fakeLog();
      const r = new RollupStore();
      const p = new RollupPersistence(r, file, log);
      await p.load(() => true);
      expect(warnings).toHaveLength(1);
      expect(r.has('bdb', '1')).toBe(false);
      r.add('bdb', '3', T0 + 1, { x: 3 });
      await p.stop();
      const back = new RollupStore();
      await new RollupPersistence(back, file).load(() => true);
      expect(back.has('bdb', '3')).toBe(true);
    }
  });
});
