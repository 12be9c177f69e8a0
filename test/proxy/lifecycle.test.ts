/**
 * The proxy as a process of its own: adopted by a new manager-side client, surviving the death
 * of the process that started it, restoring its endpoints after kill -9, and shrugging off a
 * misbehaving control peer.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../../src/controller/data-plane.js';
import type { ShardSupervisor } from '../../src/redis/supervisor.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { exchange, isAlive, killAll, proxyClient, redis, startRedis, tempDir, trackProxy, type RedisTarget } from './helpers.js';

let a: RedisTarget;
beforeAll(async () => {
  a = await startRedis();
  await redis(a.port).set('where', 'A');
});
afterAll(killAll);

const target = () => ({ host: '127.0.0.1', port: a.port });
const PONG = { text: '+PONG\r\n', closed: false };

describe('adoption and restart', () => {
  it('a new client adopts the running proxy: same pid, endpoints kept, open connections untouched', async () => {
    const dir = tempDir();
    const first = proxyClient(dir);
    const started = await first.ensureRunning();
    trackProxy(started.pid);
    expect(started.adopted).toBe(false);
    const port = await freePort();
    await first.setEndpoint({ uid: '1:1', port, addr: '127.0.0.1', target: target() });

    const r = redis(port);
    let reconnects = 0;
    r.on('reconnecting', () => reconnects++);
    const id = await r.client('ID');
    first.close();

    const second = proxyClient(dir);
    expect(await second.ensureRunning()).toEqual({ pid: started.pid, adopted: true });
    expect(await second.list()).toMatchObject([{ uid: '1:1', port, listening: true, traffic: 'on' }]);
    expect(await r.client('ID')).toBe(id);
    expect(await r.get('where')).toBe('A');
    expect(reconnects).toBe(0);
    // The closed client is still usable: it reconnects on demand.
    expect((await first.ping()).pid).toBe(started.pid);
  });

  it('after kill -9, ensureRunning starts a new proxy that restores the endpoints from the state file', async () => {
    const dir = tempDir();
    const px = proxyClient(dir);
    const { pid } = await px.ensureRunning();
    trackProxy(pid);
    const [p1, p2] = [await freePort(), await freePort()];
    await px.setEndpoint({ uid: '1:1', port: p1, addr: '127.0.0.1', target: target(), max_connections: 5 });
    await px.setEndpoint({ uid: '2:1', port: p2, addr: '127.0.0.1', target: target() });
    await px.stopTraffic('2:1');
    const before = await px.list();

    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), { what: 'proxy gone' });
    await expect(px.list()).rejects.toMatchObject({ code: 'unavailable' });

    const again = await px.ensureRunning();
    trackProxy(again.pid);
    expect(again).toMatchObject({ adopted: false });
    expect(again.pid).not.toBe(pid);
    // Same client object: its control connection dropped with the old proxy and is re-opened.
    expect(await px.list()).toEqual(before);
    expect(await exchange(p1, 'PING\r\n', /\r\n/)).toEqual(PONG);
    expect(await exchange(p2, 'PING\r\n')).toEqual({ text: '', closed: true }); // still stopped
  });

  it('keeps serving when the process that started it dies', async () => {
    const dir = tempDir();
    const port = await freePort();
    // The stand-in manager leads its own process group, like a manager started from a shell.
    const mgr = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'manager.ts'), dir, String(port), String(a.port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      mgr.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      mgr.once('exit', (code) => reject(new Error(`manager exited with ${code}`)));
    });
    const proxyPid = trackProxy((JSON.parse(line) as { pid: number }).pid);
    const r = redis(port);
    expect(await r.get('where')).toBe('A');

    // A signal to the manager's whole group, then kill -9: the proxy is in neither.
    process.kill(-mgr.pid!, 'SIGTERM');
    process.kill(-mgr.pid!, 'SIGKILL');
    await waitFor(() => mgr.exitCode !== null || mgr.signalCode !== null, { what: 'manager gone' });

    expect(isAlive(proxyPid)).toBe(true);
    expect(await r.get('where')).toBe('A');
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual(PONG);
    expect(await proxyClient(dir).ensureRunning()).toEqual({ pid: proxyPid, adopted: true });
  });

  it('concurrent ensureRunning calls end up with one proxy', async () => {
    const dir = tempDir();
    const results = await Promise.all([proxyClient(dir).ensureRunning(), proxyClient(dir).ensureRunning()]);
    for (const r of results) trackProxy(r.pid);
    expect(results[0]!.pid).toBe(results[1]!.pid);
  });

  it('a proxy whose socket file was replaced by another proxy exits and hands over its ports', async () => {
    const dir = tempDir();
    const px = proxyClient(dir);
    const old = await px.ensureRunning();
    trackProxy(old.pid);
    const port = await freePort();
    await px.setEndpoint({ uid: '1:1', port, addr: '127.0.0.1', target: target() });
    // What a start race after a crash can do: the old proxy's socket file disappears and a
    // second proxy starts, restores the same state file, and finds its ports taken.
    fs.rmSync(path.join(dir, 'proxy.sock'));
    const next = await proxyClient(dir).ensureRunning();
    trackProxy(next.pid);
    expect(next).toMatchObject({ adopted: false });
    await waitFor(() => !isAlive(old.pid), { what: 'superseded proxy exits' });
    await waitFor(async () => (await px.list())[0]?.listening, { what: 'ports taken over' });
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual(PONG);
    expect((await px.ping()).pid).toBe(next.pid);
  });

  it('shutdown stops the proxy and removes its socket; the state file stays for the next start', async () => {
    const dir = tempDir();
    const px = proxyClient(dir);
    const { pid } = await px.ensureRunning();
    trackProxy(pid);
    const port = await freePort();
    await px.setEndpoint({ uid: '1:1', port, addr: '127.0.0.1', target: target() });
    await px.shutdown();
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'proxy.sock'))).toBe(false);
    expect(fs.statSync(path.join(dir, 'endpoints.json')).mode & 0o777).toBe(0o600);
    await expect(exchange(port, 'PING\r\n')).resolves.toEqual({ text: '', closed: true });

    const next = await px.ensureRunning();
    trackProxy(next.pid);
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual(PONG);
  });
});

describe('state file', () => {
  it('a saved TLS endpoint whose certificate no longer loads stays down instead of serving plain text', async () => {
    const dir = tempDir();
    const [bad, good] = [await freePort(), await freePort()];
    const ep = (uid: string, port: number, tls: unknown) => ({ uid, port, addr: '127.0.0.1', target: target(), max_connections: 0, tls, traffic: 'on' });
    fs.writeFileSync(path.join(dir, 'endpoints.json'), JSON.stringify({ version: 1, endpoints: [ep('bad', bad, { cert: 'garbage', key: 'garbage' }), ep('good', good, null)] }));
    const px = proxyClient(dir);
    trackProxy((await px.ensureRunning()).pid);
    const list = await px.list();
    expect(list.find((e) => e.uid === 'bad')).toMatchObject({ listening: false, error: expect.stringContaining('tls') });
    expect(list.find((e) => e.uid === 'good')).toMatchObject({ listening: true });
    await expect(exchange(bad, 'PING\r\n')).resolves.toEqual({ text: '', closed: true });
    expect(await exchange(good, 'PING\r\n', /\r\n/)).toEqual(PONG);
  });

  it('an unreadable state file is moved aside and the proxy starts empty', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'endpoints.json'), '{ not json');
    const px = proxyClient(dir);
    trackProxy((await px.ensureRunning()).pid);
    expect(await px.list()).toEqual([]);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('endpoints.json.corrupt-'))).toBe(true);
  });
});

describe('control channel robustness', () => {
  it('garbage lines get error responses on the same connection; the proxy keeps running', async () => {
    const dir = tempDir();
    const px = proxyClient(dir);
    trackProxy((await px.ensureRunning()).pid);
    const sockPath = path.join(dir, 'proxy.sock');
    expect(fs.statSync(sockPath).mode & 0o777).toBe(0o600);

    const s = net.connect(sockPath);
    s.on('error', () => undefined); // EPIPE once the proxy cuts the connection
    const lines: any[] = [];
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    await new Promise((r) => s.once('connect', r));
    s.write('this is not json\n[1,2]\n{"op":"ping"}\n{"id":7,"op":"nope"}\n{"id":8,"op":"set_target","uid":5}\n\u0000\u00ff\n{"id":9,"op":"ping"}\n');
    await waitFor(() => lines.length === 7, { what: 'seven responses' });
    // One response per line, in request order.
    expect(lines.map((l) => [l.id, l.ok ? 'ok' : l.error.code])).toEqual([
      [null, 'bad_request'], [null, 'bad_request'], [null, 'bad_request'],
      [7, 'unknown_op'], [8, 'invalid_args'], [null, 'bad_request'], [9, 'ok'],
    ]);
    expect(lines[6]).toMatchObject({ result: { pid: expect.any(Number), protocol: 1 } });

    // A line that never ends is cut off, with an error, instead of growing a buffer forever.
    const closedByProxy = new Promise((r) => s.once('close', r));
    s.write('x'.repeat(5 * 1024 * 1024));
    await closedByProxy;
    expect(lines.at(-1)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect((await px.ping()).pid).toBeGreaterThan(0);
  });
});

/**
 * A stand-in for a proxy of an older build that outlived a manager upgrade: it answers ping without a schema
 * digest (or with another protocol), refuses every other request as invalid (as an older build refuses a field it
 * does not know), and exits on shutdown.
 */
function olderProxy(socketPath: string, protocol = 1): Promise<number> {
  const script = `
    const net = require('node:net'); const fs = require('node:fs');
    const srv = net.createServer((s) => {
      let buf = '';
      s.on('data', (d) => {
        buf += d; let i;
        while ((i = buf.indexOf('\\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
          const answer = (o) => s.write(JSON.stringify({ id: req.id, ...o }) + '\\n');
          if (req.op === 'ping') answer({ ok: true, result: { pid: process.pid, version: 'old', protocol: ${protocol}, uptime_ms: 1 } });
          else if (req.op === 'shutdown') { answer({ ok: true, result: { pid: process.pid } }); fs.rmSync(process.argv[1], { force: true }); setTimeout(() => process.exit(0), 20); }
          else if (req.op === 'hold' && !('successor' in req)) answer({ ok: true, result: { drained: true } });
          else answer({ ok: false, error: { code: 'invalid_args', message: req.op + ': /tls unknown property' } });
        }
      });
    });
    srv.listen(process.argv[1], () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', script, socketPath], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  trackProxy(child.pid!);
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child.pid!)));
}

describe('an older proxy build left running by a manager upgrade', () => {
  it('is replaced when it refuses a request this build makes, and the request then succeeds', async () => {
    const dir = tempDir();
    const old = await olderProxy(path.join(dir, 'proxy.sock'));
    const reasons: string[] = [];
    const px = proxyClient(dir, { onReplace: (w) => reasons.push(w) });
    expect((await px.ensureRunning()).pid).toBe(old);
    const [port, port2] = [await freePort(), await freePort()];
    // Two requests refused at once by the old proxy: one replacement, and neither stops the new proxy.
    const [info, info2] = await Promise.all([
      px.setEndpoint({ uid: '9:1', port, addr: '127.0.0.1', target: target() }),
      px.setEndpoint({ uid: '9:2', port: port2, addr: '127.0.0.1', target: target() }),
    ]);
    expect([info.listening, info2.listening]).toEqual([true, true]);
    const now = trackProxy((await px.ping()).pid);
    expect(now).not.toBe(old);
    expect(isAlive(old)).toBe(false);
    expect(reasons).toEqual([expect.stringMatching(new RegExp(`proxy ${old} \\(an older build\\) refused set_endpoint`))]);
    expect(await exchange(port, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    expect(await exchange(port2, 'PING\r\n', /\r\n/)).toEqual({ text: '+PONG\r\n', closed: false });
    expect((await px.list()).map((e) => e.uid).sort()).toEqual(['9:1', '9:2']);
  });

  it('the manager watches the replacement, not the replaced one: no "proxy exited" report', async () => {
    // QA: on every upgrade the watchdog logged "the proxy process exited" (an error) right after the replacement,
    // since the data plane still watched the pid of the replaced proxy, and reconciled every database again.
    const dir = tempDir();
    const old = await olderProxy(path.join(dir, 'proxy.sock'));
    const px = proxyClient(dir);
    const plane = new DataPlane({} as ShardSupervisor, px);
    await plane.ensureProxy();
    expect(plane.proxyLost()).toBeUndefined();
    // The watchdog checks every ~100 ms, during the replacement too (the old proxy gone, the new one starting).
    const reports: unknown[] = [];
    const watch = setInterval(() => reports.push(plane.proxyLost()), 5);
    try {
      await px.setEndpoint({ uid: '9:1', port: await freePort(), addr: '127.0.0.1', target: target() });
    } finally {
      clearInterval(watch);
    }
    const now = trackProxy((await px.ping()).pid);
    expect(isAlive(old)).toBe(false);
    expect(reports.filter(Boolean)).toEqual([]);
    expect(plane.proxyLost()).toBeUndefined();
    // The new one is watched: its death is reported.
    process.kill(now, 'SIGKILL');
    await waitFor(() => !isAlive(now), { what: 'the new proxy gone' });
    expect(plane.proxyLost()).toMatchObject({ why: 'the proxy process exited' });
  });

  it('a legacy one (no schema digest) is sent a hold without the successor it would refuse, and is kept', async () => {
    const dir = tempDir();
    const old = await olderProxy(path.join(dir, 'proxy.sock'));
    const px = proxyClient(dir);
    expect((await px.ensureRunning()).pid).toBe(old);
    expect(px.legacy).toBe(true);
    const successor = { target: target(), user: 'default', password: '' };
    expect(await px.hold('1:1', { drainMs: 100, timeoutMs: 100, successor })).toEqual({ drained: true });
    expect((await px.ping()).pid).toBe(old);
  });

  it('one that speaks another control protocol is replaced on adoption', async () => {
    const dir = tempDir();
    const old = await olderProxy(path.join(dir, 'proxy.sock'), 0);
    const px = proxyClient(dir);
    const { pid, adopted } = await px.ensureRunning();
    trackProxy(pid);
    expect(adopted).toBe(false);
    expect(pid).not.toBe(old);
    expect(isAlive(old)).toBe(false);
  });

  it('a request the current build refuses is not a reason to replace it', async () => {
    const dir = tempDir();
    const px = proxyClient(dir);
    const { pid } = await px.ensureRunning();
    trackProxy(pid);
    await expect(px.hold('nope', { drainMs: 0, timeoutMs: 100 })).rejects.toMatchObject({ code: 'invalid_args' });
    expect((await px.ping()).pid).toBe(pid);
  });
});
