import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShardAdmin } from '../../src/redis/admin.js';
import { canBind } from '../../src/redis/ports.js';
import type { ShardHandle, ShardSpec } from '../../src/redis/supervisor.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { ADMIN, shardHarness, testLog } from './harness.js';

const h = shardHarness();
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));

/**
 * A spec whose shard holds `keys` keys in its RDB and loads them slowly (Redis's key-load-delay: 1 ms a key),
 * answering LOADING every kilobyte read; the shard is stopped, ready to be started again.
 */
async function slowLoading(sup: ReturnType<typeof h.supervisor>, keys: number): Promise<ShardSpec> {
  const spec = await h.spec({ 'key-load-delay': '1000', 'loading-process-events-interval-bytes': '1024' });
  const first = h.track(await sup.start(spec));
  const c = h.client(first.port);
  const batch = c.pipeline();
  for (let i = 0; i < keys; i++) batch.set(`key:${i}`, `value:${i}`);
  await batch.exec();
  c.disconnect();
  await sup.stop(first, { save: true });
  return spec;
}

describe('ShardSupervisor.start', () => {
  it('writes redis.conf, spawns a detached redis-server and returns once it answers PING', async () => {
    const sup = h.supervisor();
    const spec = await h.spec({ maxmemory: '10485760', 'maxmemory-policy': 'allkeys-lru' });
    const shard = h.track(await sup.start(spec));
    expect(shard).toMatchObject({ uid: spec.uid, port: spec.port, dir: spec.dir, adopted: false });
    expect(await sup.ping(shard)).toBe(true);
    expect(sup.isAlive(shard)).toBe(true);
    expect(sup.pidOf(spec.dir)).toBe(shard.pid);

    const conf = fs.readFileSync(path.join(spec.dir, 'redis.conf'), 'utf8');
    expect(conf).toMatch(/^bind 127\.0\.0\.1$/m);
    expect(conf).toMatch(/^repl-diskless-sync-delay 0$/m);
    expect(conf).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(conf).toMatch(/^user openrs-admin on #[0-9a-f]{64} ~\* &\* \+@all$/m);
    expect(conf).not.toContain(`>${ADMIN.password}`); // only masterauth holds it in clear
    expect(fs.statSync(path.join(spec.dir, 'redis.conf')).mode & 0o077).toBe(0);

    // Its own process group (so the manager's terminal/signals do not reach it), fields 5 of /proc/pid/stat.
    const stat = fs.readFileSync(`/proc/${shard.pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])).toBe(shard.pid);

    const admin = sup.admin(shard);
    expect(await admin.configGet('maxmemory')).toBe('10485760');
    admin.close();
  });

  it('a shard loading its dataset for longer than startTimeoutMs is waited for while it answers LOADING; loading() tells how far', async () => {
    // 2000 keys at 1 ms each: about 2 s of loading.
    const sup = h.supervisor({ startTimeoutMs: 500 });
    const spec = await slowLoading(sup, 2000);

    const starting = sup.start(spec);
    const seen: number[] = [];
    let done = false;
    void starting.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const p = sup.starting(spec.uid)?.loaded;
      if (p !== undefined) seen.push(p);
      await new Promise((r) => setTimeout(r, 20));
    }
    const again = h.track(await starting);
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeGreaterThan(Math.min(...seen)); // progress moved while it loaded
    expect(seen.every((p) => p >= 0 && p <= 100)).toBe(true);
    expect(sup.starting(spec.uid)).toBeUndefined();
    expect(await h.client(again.port).dbsize()).toBe(2000);
    await sup.stop(again, { save: false });
  });

  it('a shard stopped (SIGSTOP) while it loads is reported stopped and killed within about a second, not at the start deadline', async () => {
    const sup = h.supervisor({ startTimeoutMs: 20_000 });
    const spec = await slowLoading(sup, 5000);

    const starting = sup.start(spec).then(() => 'started', (e: Error) => e.message);
    await waitFor(() => sup.starting(spec.uid)?.loaded !== undefined, { what: 'loading' });
    const pid = sup.pidOf(spec.dir)!;
    h.track({ uid: spec.uid, port: spec.port, dir: spec.dir, pid, adopted: false });
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => sup.starting(spec.uid)?.stopped, { what: 'reported stopped' });
    const outcome = await Promise.race([starting, new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000))]);
    expect(outcome).toMatch(/stopped \(state T\).*while starting; killed/);
    expect(alive(pid)).toBe(false);
    expect(sup.starting(spec.uid)).toBeUndefined();
  });

  it('a bad directive → rejects quickly with what redis-server said, and leaves no process', async () => {
    const sup = h.supervisor();
    const spec = await h.spec({ 'no-such-directive': 'yes' });
    const t0 = Date.now();
    const err = await sup.start(spec).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/redis:\d+ \(port \d+\): redis-server failed to start \(exit code 1\)/);
    expect(err?.message).toMatch(/Bad directive or wrong number of arguments/);
    expect(err?.message).toContain('no-such-directive');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sup.pidOf(spec.dir)).toBeUndefined();
  });

  it('a missing binary → rejects with the spawn error', async () => {
    const err = await h.supervisor({ redisServer: '/nonexistent/redis-server' }).start(await h.spec()).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/failed to start \(spawn \/nonexistent\/redis-server ENOENT\)/);
  });

  it('no answer within startTimeoutMs → the process group is killed and start rejects', async () => {
    const fake = path.join(h.root, 'fake-redis-server');
    fs.writeFileSync(fake, '#!/bin/sh\nsleep 30 & echo $! > sleeper.pid\nwait\n', { mode: 0o755 });
    const spec = await h.spec();
    const t0 = Date.now();
    await expect(h.supervisor({ redisServer: fake, startTimeoutMs: 300 }).start(spec)).rejects.toThrow(/no PING answer within 300 ms \(last: down\)/);
    expect(Date.now() - t0).toBeLessThan(3000);
    const sleeper = Number(fs.readFileSync(path.join(spec.dir, 'sleeper.pid'), 'utf8'));
    await waitFor(() => !alive(sleeper), { what: 'the whole group gone' });
  });

  it('a port already in use → rejects with the reason from the log', async () => {
    const sup = h.supervisor();
    const first = h.track(await sup.start(await h.spec()));
    const err = await sup.start(await h.spec({}, { port: first.port })).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/Address already in use/);
  });

  it('refuses to start a second redis-server in a dir whose shard is running', async () => {
    const sup = h.supervisor();
    const spec = await h.spec();
    const shard = h.track(await sup.start(spec));
    await expect(sup.start({ ...spec, port: await freePort() })).rejects.toThrow(new RegExp(`pid ${shard.pid} is already running`));
  });

  it('spec directives may not move the shard (port, dir, pidfile, logfile...)', async () => {
    const sup = h.supervisor();
    await expect(sup.start(await h.spec({ dir: '/tmp' }))).rejects.toThrow(/dir is managed by the supervisor/);
    await expect(sup.start(await h.spec({ maxmemory: '1\nslaveof 10.0.0.1 6379' }))).rejects.toThrow(/line break/);
  });

  it('with aclFile, a new shard\'s default user is off until the manager sets it (never open to anyone)', async () => {
    const sup = h.supervisor();
    const spec = await h.spec({}, { aclFile: true });
    const shard = h.track(await sup.start(spec));
    const anon = new Redis({ port: shard.port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anon.on('error', () => {});
    try {
      await anon.connect();
      await expect(anon.set('k', 'v')).rejects.toThrow(/NOAUTH/);
    } finally {
      anon.disconnect();
    }
    const admin = sup.admin(shard);
    expect(JSON.stringify(await admin.command('ACL', ['LIST']))).toMatch(/user default off /);
    admin.close();
  });

  it('with aclFile, users live in users.acl and survive ACL SAVE + restart', async () => {
    const sup = h.supervisor();
    const spec = await h.spec({}, { aclFile: true });
    const shard = h.track(await sup.start(spec));
    const admin = sup.admin(shard);
    await admin.aclSetUser('app', ['on', '>app-pass', '~app:*', '+get']);
    await admin.command('ACL', ['SAVE']);
    admin.close();
    await sup.stop(shard);
    const again = h.track(await sup.start(spec));
    const admin2 = sup.admin(again);
    expect((await admin2.aclUsers()).sort()).toEqual(['app', 'default', 'openrs-admin']);
    admin2.close();
    expect(fs.readFileSync(path.join(spec.dir, 'users.acl'), 'utf8').match(/^user openrs-admin /gm)).toHaveLength(1);
  });
});

describe('ShardSupervisor.adopt', () => {
  it('a new supervisor (the manager restarted) adopts the running shard: same pid, no restart', async () => {
    const spec = await h.spec();
    const shard = h.track(await h.supervisor().start(spec));
    const admin = h.supervisor().admin(shard);
    await admin.command('SET', ['k', 'v']);
    admin.close();

    const log = testLog();
    const later = h.supervisor({ log });
    const adopted = await later.adopt(spec);
    expect(adopted).toEqual({ uid: spec.uid, port: spec.port, dir: spec.dir, pid: shard.pid, adopted: true });
    expect(await later.ping(adopted!)).toBe(true);
    const admin2 = later.admin(adopted!);
    expect(await admin2.command('GET', ['k'])).toBe('v');
    admin2.close();
    expect(log.lines.some((l) => l.msg === 'shard adopted')).toBe(true);
  });

  it('the shard survives SIGKILL of the manager process that started it, and is adopted', async () => {
    const spec = await h.spec();
    const fixture = path.join(import.meta.dirname, 'fixtures', 'manager.ts');
    const manager = spawn(process.execPath, ['--import', 'tsx', fixture, spec.dir, String(spec.port), ADMIN.user, ADMIN.password], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    manager.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const started = await waitFor(() => (out.includes('\n') ? (JSON.parse(out.split('\n')[0]!) as ShardHandle) : undefined), { timeoutMs: 20_000, what: 'fixture manager' });
    h.track(started);
    const gone = new Promise((r) => manager.once('exit', r));
    manager.kill('SIGKILL');
    await gone;

    expect(alive(started.pid)).toBe(true);
    const sup = h.supervisor();
    expect(await sup.ping(spec)).toBe(true);
    const adopted = await sup.adopt(spec);
    expect(adopted?.pid).toBe(started.pid);
    await sup.stop(adopted!);
    expect(alive(started.pid)).toBe(false);
  });

  it('nothing to adopt: no pid file, a pid file naming another process or another shard, another server on the port', async () => {
    const sup = h.supervisor();
    const spec = await h.spec();
    expect(await sup.adopt(spec)).toBeUndefined();

    fs.mkdirSync(spec.dir, { recursive: true });
    fs.writeFileSync(path.join(spec.dir, 'redis.pid'), String(process.pid)); // alive, but not redis-server
    expect(await sup.adopt(spec)).toBeUndefined();
    fs.rmSync(path.join(spec.dir, 'redis.pid'));

    const running = h.track(await sup.start(await h.spec()));
    fs.writeFileSync(path.join(spec.dir, 'redis.pid'), String(running.pid)); // a live redis-server, of another dir
    expect(sup.pidOf(spec.dir)).toBeUndefined();
    expect(await sup.adopt(spec)).toBeUndefined();
    fs.rmSync(path.join(spec.dir, 'redis.pid'));

    const other = h.track(await sup.start(await h.spec()));
    const log = testLog();
    const spec2 = { ...(await h.spec()), port: other.port };
    h.track(await h.supervisor().start({ ...spec2, port: await freePort() })); // spec2.dir has a live redis on another port
    expect(await h.supervisor({ log }).adopt(spec2)).toBeUndefined();
    expect(log.lines.some((l) => /another redis-server/.test(l.msg ?? ''))).toBe(true);
  });
});

describe('ShardSupervisor.stop', () => {
  it('SHUTDOWN, waits for the process to go, removes the pid file; stopping again is a no-op', async () => {
    const sup = h.supervisor();
    const spec = await h.spec();
    const shard = h.track(await sup.start(spec));
    await sup.stop(shard, { save: false });
    expect(alive(shard.pid)).toBe(false);
    expect(sup.isAlive(shard)).toBe(false);
    expect(fs.existsSync(path.join(spec.dir, 'redis.pid'))).toBe(false);
    expect(await sup.ping(shard)).toBe(false);
    await sup.stop(shard);
    await sup.stop({ uid: spec.uid, port: spec.port, dir: spec.dir });
  });

  it('stops by dir when the caller has no handle', async () => {
    const sup = h.supervisor();
    const spec = await h.spec();
    const shard = h.track(await sup.start(spec));
    await sup.stop({ uid: spec.uid, port: spec.port, dir: spec.dir });
    expect(alive(shard.pid)).toBe(false);
  });

  it('a hung (SIGSTOPped) shard is killed after the SHUTDOWN deadline', async () => {
    const sup = h.supervisor({ stopTimeoutMs: 500, pingTimeoutMs: 300 });
    const shard = h.track(await sup.start(await h.spec()));
    process.kill(shard.pid, 'SIGSTOP');
    await sup.stop(shard);
    expect(alive(shard.pid)).toBe(false);
  });
});

describe('ShardSupervisor.stop of a shard busy in a script', () => {
  it('kills the script (SHUTDOWN is refused BUSY while it runs), then shuts down saving, well before the deadline', async () => {
    const sup = h.supervisor({ stopTimeoutMs: 20_000 });
    const spec = await h.spec({ 'busy-reply-threshold': '100' });
    const shard = h.track(await sup.start(spec));
    const c = h.client(shard.port);
    await c.set('kept', 'yes');
    const script = c.eval('while true do end', 0).catch((e: Error) => e.message);
    const admin = sup.admin(shard);
    await waitFor(() => admin.ping().then(() => false, (e: Error) => /BUSY/.test(e.message)), { what: 'shard busy' });
    admin.close();
    await sup.stop(shard, { save: true });
    expect(await script).toMatch(/killed/i);
    expect(alive(shard.pid)).toBe(false);
    // SHUTDOWN SAVE ran (a kill at the deadline would have saved nothing): the key is back after a start.
    const again = h.track(await sup.start(spec));
    const d = h.client(again.port);
    expect(await d.get('kept')).toBe('yes');
    await sup.stop(again, { save: false });
  });
});

describe('ShardSupervisor.waitExiting', () => {
  it('waits for a process of the shard dir that still holds the port as it exits; not for a pid of another dir', async () => {
    const sup = h.supervisor();
    const spec = await h.spec();
    fs.mkdirSync(spec.dir, { recursive: true });
    // A stand-in for a killed shard still exiting: the shard's pid file and working directory, the port held a while.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${spec.port}, '127.0.0.1', () => setTimeout(() => process.exit(0), 800))`], { cwd: spec.dir, stdio: 'ignore' });
    fs.writeFileSync(path.join(spec.dir, 'redis.pid'), `${child.pid}\n`);
    await waitFor(async () => !(await canBind(spec.port, '127.0.0.1')), { what: 'port held' });
    await sup.waitExiting(spec.dir);
    expect(await canBind(spec.port, '127.0.0.1')).toBe(true);

    // A pid file naming a live process elsewhere (a reused pid): nothing to wait for.
    fs.writeFileSync(path.join(spec.dir, 'redis.pid'), `${process.pid}\n`);
    const outcome = await Promise.race([sup.waitExiting(spec.dir, 3000).then(() => 'returned'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
    expect(outcome).toBe('returned');
  });
});

describe('ShardSupervisor.ping', () => {
  it('a SIGSTOPped shard does not answer within the timeout; after SIGCONT it does', async () => {
    const sup = h.supervisor({ pingTimeoutMs: 500 });
    const shard = h.track(await sup.start(await h.spec()));
    process.kill(shard.pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      expect(await sup.ping(shard)).toBe(false);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(await sup.probe(shard)).toBe('down');
      expect(sup.isAlive(shard)).toBe(true); // alive but hung: the watchdog's case for a failover
    } finally {
      process.kill(shard.pid, 'SIGCONT');
    }
    expect(await sup.ping(shard)).toBe(true);
  });

  it('the admin user keeps working after `default` gets a password or is switched off', async () => {
    const sup = h.supervisor();
    const shard = h.track(await sup.start(await h.spec()));
    const admin = sup.admin(shard);
    await admin.aclSetUser('default', ['reset', 'on', '>db-pass', '~*', '&*', '+@all']);
    expect(await sup.ping(shard)).toBe(true);
    await admin.aclSetUser('default', ['reset']);
    expect(await sup.ping(shard)).toBe(true);
    admin.close();
    const wrong = new ShardAdmin({ port: shard.port, user: ADMIN.user, password: 'wrong' });
    await expect(wrong.ping()).rejects.toThrow(/WRONGPASS/);
    wrong.close();
    expect(await h.supervisor({ admin: { user: ADMIN.user, password: 'wrong' } }).probe(shard)).toBe('auth');
    await sup.stop(shard);
  });
});
