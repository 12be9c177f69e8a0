/**
 * Alerts on a real node: the documented shapes, thresholds crossed and cleared against live
 * stats, the events they write, and email to a local SMTP sink.
 */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { client, createBdb } from '../helpers/bdb.js';

interface Received { to: string[]; text: string }

let t: TestNode;
let smtp: SMTPServer;
let smtpPort: number;
const mails: Received[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(chunks).toString('utf8') });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

const subjects = () => mails.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1] ?? '');

describe('alert objects', () => {
  it('cluster alerts have the capture shape, with the default settings', async () => {
    const r = await t.req('GET', '/v1/cluster/alerts');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual([
      'cluster_ca_cert_about_to_expire', 'cluster_certs_about_to_expire', 'cluster_even_node_count', 'cluster_flash_overcommit',
      'cluster_inconsistent_rl_sw', 'cluster_internal_bdb', 'cluster_license_about_to_expire', 'cluster_multiple_nodes_down',
      'cluster_ocsp_query_failed', 'cluster_ocsp_status_revoked', 'cluster_ram_overcommit', 'cluster_too_few_nodes_for_replication',
    ]);
    // One node: too few nodes for replication (on, though not enabled: as in the capture).
    expect(r.json.cluster_too_few_nodes_for_replication).toMatchObject({ enabled: false, state: true, severity: 'WARNING', change_value: { state: true } });
    expect(r.json.cluster_even_node_count).toMatchObject({ state: false, severity: 'INFO', change_value: { node_count: 1, state: false } });
    expect(r.json.cluster_certs_about_to_expire).toMatchObject({ enabled: true, threshold: '45', state: false, change_value: { certs_about_to_expire: [], global_threshold: '45' } });
    expect(typeof r.json.cluster_ram_overcommit.change_value.bdbs_committed_ram).toBe('number');
    expect(r.json.cluster_license_about_to_expire.change_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await t.req('GET', '/v1/cluster/alerts/cluster_even_node_count')).json.state).toBe(false);
    expect((await t.req('GET', '/v1/cluster/alerts/no_such_alert')).status).toBe(404);
    expect((await t.req('GET', '/v1/cluster/alerts', { auth: null })).status).toBe(401);
  });

  it('node alerts per node and one by one; unknown nodes and alerts are 404', async () => {
    const all = (await t.req('GET', '/v1/nodes/alerts')).json;
    expect(Object.keys(all)).toEqual(['1']);
    expect(all['1'].node_persistent_storage).toMatchObject({ enabled: true, threshold: '70' });
    expect(Object.keys((await t.req('GET', '/v1/nodes/alerts/1')).json)).toContain('node_cpu_utilization');
    expect((await t.req('GET', '/v1/nodes/alerts/1/node_memory')).json).toHaveProperty('change_time');
    expect((await t.req('GET', '/v1/nodes/alerts/7')).status).toBe(404);
    expect((await t.req('GET', '/v1/nodes/alerts/1/nope')).status).toBe(404);
  });

  it('CRDT and Replica Of source alerts answer their empty state', async () => {
    const bdb = await createBdb(t, { name: 'alerts-sources' });
    for (const kind of ['crdt_sources', 'replica_sources']) {
      expect((await t.req('GET', `/v1/bdbs/${kind}/alerts`)).json).toEqual({});
      expect((await t.req('GET', `/v1/bdbs/${kind}/alerts/${bdb.uid}`)).json).toEqual({});
      expect((await t.req('GET', `/v1/bdbs/${kind}/alerts/${bdb.uid}/1`)).status).toBe(404);
      expect((await t.req('GET', `/v1/bdbs/${kind}/alerts/${bdb.uid}/1/some_alert`)).status).toBe(404);
      expect((await t.req('GET', `/v1/bdbs/${kind}/alerts/999`)).status).toBe(404);
    }
  });
});

describe('thresholds against live stats, events and email', () => {
  beforeAll(async () => {
    const r = await t.req('PUT', '/v1/cluster', {
      body: { email_alerts: true, smtp_host: '127.0.0.1', smtp_port: smtpPort, smtp_tls_mode: 'none', email_from: 'openrs@cluster.test.local' },
    });
    expect(r.status, r.text).toBe(200);
    const admin = (await t.req('GET', '/v1/users')).json.find((u: any) => u.email === ADMIN.user);
    const u = await t.req('PUT', `/v1/users/${admin.uid}`, { body: { email_alerts: true, cluster_email_alerts: true, bdbs_email_alerts: ['all'] } });
    expect(u.status, u.text).toBe(200);
  });

  it('raises node_memory when the threshold is crossed and clears it when raised again, with events and email', async () => {
    const set = (threshold: string) => t.req('PUT', '/v1/cluster', { body: { alert_settings: { node_memory: { enabled: true, threshold } } } });
    expect((await set('0')).status).toBe(200);
    const on = await waitFor(async () => {
      const a = (await t.req('GET', '/v1/nodes/alerts/1/node_memory')).json;
      return a.state === true ? a : undefined;
    }, { what: 'node_memory on' });
    expect(on).toMatchObject({ enabled: true, threshold: '0', severity: 'WARNING', change_value: { global_threshold: '0', state: true } });
    expect(on.change_value.memory_util).toBeGreaterThan(0);
    const event = await waitFor(async () => (await t.req('GET', '/v1/logs?order=desc&limit=50')).json.find((e: any) => e.type === 'node_memory' && e.state === true), { what: 'node_memory event' });
    expect(event).toMatchObject({ severity: 'WARNING', node_uid: '1', global_threshold: '0' });
    const mail = await waitFor(() => mails.find((m) => /node_memory is on/.test(m.text)), { what: 'alert email' });
    expect(mail.to).toEqual([ADMIN.user]);
    expect(mail.text).toMatch(/From: openrs@cluster\.test\.local/);

    expect((await set('100')).status).toBe(200);
    const off = await waitFor(async () => {
      const a = (await t.req('GET', '/v1/nodes/alerts/1/node_memory')).json;
      return a.state === false ? a : undefined;
    }, { what: 'node_memory off' });
    expect(off).toMatchObject({ severity: 'INFO', threshold: '100', change_value: { state: false } });
    expect(Date.parse(off.change_time)).toBeGreaterThanOrEqual(Date.parse(on.change_time));
    await waitFor(async () => (await t.req('GET', '/v1/logs?order=desc&limit=50')).json.find((e: any) => e.type === 'node_memory' && e.state === false && e.severity === 'INFO'), { what: 'clearing event' });
    await waitFor(() => subjects().some((s) => /node_memory is off/.test(s)), { what: 'clearing email' });
  });

  it('bdb_size turns on when the dataset passes the threshold and off after FLUSHALL', async () => {
    const bdb = await createBdb(t, { name: 'alerts-size', memory_size: 100 * 1024 * 1024, email_alerts: true });
    // 3% of 100 MB: an empty shard (about 1 MB) is below it.
    const post = await t.req('POST', `/v1/bdbs/alerts/${bdb.uid}`, { body: { bdb_size: { enabled: true, threshold: '3' }, bdb_high_latency: { enabled: false, threshold: '' } } });
    expect(post.status, post.text).toBe(200);
    expect(post.json.bdb_size).toMatchObject({ enabled: true, threshold: '3' });
    // change_value holds the figures of the last change; the dataset is below 3%, so it is off.
    expect((await t.req('GET', `/v1/bdbs/alerts/${bdb.uid}/bdb_size`)).json.state).toBe(false);

    const c = client(bdb.endpoints[0].port);
    await c.connect();
    const big = 'x'.repeat(100_000);
    for (let i = 0; i < 60; i++) await c.set(`big${i}`, big);
    const on = await waitFor(async () => {
      const a = (await t.req('GET', `/v1/bdbs/alerts/${bdb.uid}/bdb_size`)).json;
      return a.state ? a : undefined;
    }, { what: 'bdb_size on' });
    expect(on).toMatchObject({ severity: 'WARNING', change_value: { threshold: '3', state: true } });
    expect(on.change_value.memory_util).toBeGreaterThan(3);
    await waitFor(async () => (await t.req('GET', '/v1/logs?order=desc&limit=50')).json.find((e: any) => e.type === 'bdb_size' && e.state === true && e.bdb_uid === String(bdb.uid)), { what: 'bdb_size event' });
    await waitFor(() => subjects().some((s) => s.includes('bdb_size is on') && s.includes(`database ${bdb.uid}`)), { what: 'bdb_size email' });

    await c.flushall();
    c.disconnect();
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/alerts/${bdb.uid}/bdb_size`)).json.state === false, { what: 'bdb_size off' });
    const all = (await t.req('GET', '/v1/bdbs/alerts')).json;
    expect(all[String(bdb.uid)].bdb_size).toMatchObject({ enabled: true, state: false });
    expect(Object.keys(all[String(bdb.uid)])).toContain('bdb_backup_delayed');
  });

  it('validates POST /v1/bdbs/alerts/{uid}: unknown alerts, bad thresholds, dry_run, missing database', async () => {
    const bdb = (await t.req('GET', '/v1/bdbs')).json[0];
    const post = (body: unknown, q = '') => t.req('POST', `/v1/bdbs/alerts/${bdb.uid}${q}`, { body });
    expect((await post({ bdb_nonsense: { enabled: true, threshold: '1' } })).status).toBe(406);
    expect((await post({ bdb_high_latency: { enabled: true, threshold: 'fast' } })).status).toBe(406);
    expect((await post({ bdb_size: { enabled: true, threshold: '150' } })).status).toBe(406);
    expect((await post({ bdb_size: { enabled: true } })).status).toBe(406);
    // Wrong types are invalid configuration too (the page lists 406, no 400).
    expect((await post({ bdb_size: { enabled: 'yes' } })).json).toMatchObject({ error_code: 'invalid_configuration', description: 'bdb_size: enabled must be a boolean' });
    expect((await post({ bdb_size: { enabled: true, threshold: 5 } })).status).toBe(406);
    expect((await post({ bdb_size: { enabled: true, threshold: '5', colour: 1 } })).status).toBe(406);
    expect((await post({ bdb_size: 'on' })).status).toBe(406);
    expect((await post(['bdb_size'])).status).toBe(400);
    const dry = await post({ bdb_low_throughput: { enabled: true, threshold: '5' } }, '?dry_run=1');
    expect(dry.status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/alerts/${bdb.uid}/bdb_low_throughput`)).json.enabled).toBe(false);
    expect((await t.req('POST', '/v1/bdbs/alerts/999', { body: {} })).status).toBe(404);
    expect((await t.req('GET', '/v1/bdbs/alerts/999')).status).toBe(404);
    expect((await t.req('GET', `/v1/bdbs/alerts/${bdb.uid}/nope`)).status).toBe(404);
  });
});
