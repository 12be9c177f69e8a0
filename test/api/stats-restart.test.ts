/** Stats history survives a restart of openrs on the same data dir; a corrupt stats file does not stop a start. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { client, createBdb, shardsOf } from '../helpers/bdb.js';

const nodes: TestNode[] = [];
let dataDir: string | undefined;
afterAll(async () => {
  // Stopped nodes are closed again harmlessly; the last one removes the data dir.
  for (const n of nodes.slice(0, -1)) await n.stop().catch(() => undefined);
  await nodes.at(-1)?.close();
});

const seconds = (e: { stime: string; etime: string }) => (Date.parse(e.etime) - Date.parse(e.stime)) / 1000;
const N = 200;

describe('stats across a restart', () => {
  let bdb: any;
  let shardUid: number;
  let stopAt = '';
  let pre1: any[] = [];
  const pre10: Record<string, any[]> = {};
  let objects: Record<string, string> = {};
  let alertOn: any;
  let raisedBefore: any[] = [];

  it('collects history before the stop', async () => {
    const t = await startTestNode();
    nodes.push(t);
    dataDir = t.dataDir;
    bdb = await createBdb(t, { name: 'restart-db' });
    [{ uid: shardUid }] = await shardsOf(t, bdb.uid);
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    const p = c.pipeline();
    for (let i = 0; i < N; i++) p.set(`k${i}`, 'v');
    await p.exec();
    c.disconnect();
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`)).json[String(bdb.uid)]?.no_of_keys === N, { what: 'the keys in /last' });
    objects = {
      bdb: `/v1/bdbs/stats/${bdb.uid}`,
      cluster: '/v1/cluster/stats',
      node: '/v1/nodes/stats/1',
      shard: `/v1/shards/stats/${shardUid}`,
    };
    // A closed 10sec bucket that saw the workload.
    await waitFor(async () => {
      const l = (await t.req('GET', `${objects.bdb}?interval=10sec`)).json.intervals as any[];
      return l.some((e) => e.no_of_keys > 0) ? l : undefined;
    }, { timeoutMs: 25_000, what: 'a 10sec bdb entry' });
    pre1 = (await t.req('GET', `${objects.bdb}?interval=1sec`)).json.intervals;
    // Samples taken between the create and the writes show no keys (one or two, more on a loaded machine);
    // from the first that shows all N, every one does.
    const counts = pre1.map((e) => e.no_of_keys as number);
    const from = counts.indexOf(N);
    expect(from).toBeGreaterThanOrEqual(0);
    expect(counts.slice(0, from).every((n) => n === 0), counts.join()).toBe(true);
    expect(counts.slice(from).every((n) => n === N), counts.join()).toBe(true);
    for (const [k, url] of Object.entries(objects)) pre10[k] = (await t.req('GET', `${url}?interval=10sec`)).json.intervals;
    pre10.endpoint = (await t.req('GET', '/v1/endpoints/stats?interval=10sec')).json[0].intervals;
    for (const [k, l] of Object.entries(pre10)) expect(l.length, k).toBeGreaterThan(0);
    // An alert that is on when the node stops.
    expect((await t.req('PUT', '/v1/cluster', { body: { alert_settings: { node_memory: { enabled: true, threshold: '0' } } } })).status).toBe(200);
    alertOn = await waitFor(async () => {
      const a = (await t.req('GET', '/v1/nodes/alerts/1/node_memory')).json;
      return a.state === true ? a : undefined;
    }, { what: 'node_memory on' });
    raisedBefore = await waitFor(async () => {
      const l = (await t.req('GET', '/v1/logs')).json.filter((e: any) => e.type === 'node_memory');
      return l.length ? l : undefined;
    }, { what: 'the node_memory event' });
    stopAt = new Date().toISOString();
    await t.stop();
    expect(fs.existsSync(path.join(t.dataDir, 'stats', 'rollups.json.gz'))).toBe(true);
  }, 60_000);

  it('serves the samples from before the stop with their times and values after a start on the same data dir', async () => {
    expect(pre1.length).toBeGreaterThan(0);
    const t = await startTestNode({ dataDir });
    nodes.push(t);
    // The 1sec ring keeps 10 samples: read it before the new sampler has pushed the old ones out.
    const after = await waitFor(async () => {
      const l = (await t.req('GET', `${objects.bdb}?interval=1sec&stime=${pre1[0].stime}&etime=${stopAt}`)).json.intervals as any[];
      return l.length ? l : undefined;
    }, { what: 'pre-restart 1sec samples' });
    const kept = after.filter((e) => e.etime <= pre1.at(-1).etime);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(pre1.slice(-kept.length));
    for (const [k, url] of Object.entries(objects)) {
      const l = (await t.req('GET', `${url}?interval=10sec&etime=${stopAt}`)).json.intervals;
      expect(l.slice(0, pre10[k]!.length), k).toEqual(pre10[k]);
    }
    const ep = (await t.req('GET', `/v1/endpoints/stats?interval=10sec&etime=${stopAt}`)).json;
    expect(ep[0].intervals.slice(0, pre10.endpoint!.length)).toEqual(pre10.endpoint);

    // The first sample after the start covers one second of its own: no rate across the gap.
    const first = await waitFor(async () => {
      const l = (await t.req('GET', `${objects.bdb}?interval=1sec&stime=${stopAt}`)).json.intervals as any[];
      return l[0];
    }, { what: 'a sample after the start' });
    expect(seconds(first)).toBeLessThanOrEqual(2);
    expect(first.write_req).toBe(0);
    expect(first.no_of_keys).toBe(N);
    // The alert still on is not raised again (no new event, no e-mail), and keeps the time it turned on.
    expect((await t.req('GET', '/v1/nodes/alerts/1/node_memory')).json).toMatchObject({ state: true, change_time: alertOn.change_time });
    const raised = (await t.req('GET', '/v1/logs')).json.filter((e: any) => e.type === 'node_memory');
    expect(raised).toEqual(raisedBefore);
    stopAt = new Date().toISOString();
    await t.stop();
  }, 60_000);

  it('starts with no history when the stats file is corrupt', async () => {
    fs.writeFileSync(path.join(dataDir!, 'stats', 'rollups.json.gz'), 'garbage');
    const t = await startTestNode({ dataDir });
    nodes.push(t);
    await waitFor(async () => {
      const l = (await t.req('GET', `${objects.bdb}?interval=1sec&stime=${stopAt}`)).json.intervals as any[];
      return l.length > 0;
    }, { what: 'a sample after the start' });
    expect((await t.req('GET', `${objects.bdb}?etime=${stopAt}`)).json.intervals).toEqual([]);
    expect((await t.req('GET', `/v1/cluster/stats?etime=${stopAt}`)).json.intervals).toEqual([]);
    expect((await t.req('GET', `/v1/bdbs/stats/last/${bdb.uid}`)).json[String(bdb.uid)].no_of_keys).toBe(N);
  }, 60_000);
});
