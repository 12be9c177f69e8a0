/**
 * The manager's watch over the proxy process (DataPlane.proxyLost): one that runs but answers no
 * control ping (an event loop that never returns: it serves no client either) is killed and
 * forgotten, so that the watchdog starts a new one; one that answers is left alone. A real process
 * (`sleep`, in a process group of its own as the proxy is) stands for the proxy, behind a fake
 * control client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DataPlane, type EndpointProxy } from '../../src/controller/data-plane.js';
import type { PingResult } from '../../src/proxy/protocol.js';
import { processExists } from '../../src/redis/proc.js';
import type { ShardSupervisor } from '../../src/redis/supervisor.js';
import { waitFor } from '../helpers/wait-for.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function fakeProxy(): { pid: number; proxy: EndpointProxy; answers: { on: boolean } } {
  const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  children.push(child);
  const pid = child.pid!;
  const answers = { on: false };
  const proxy = {
    ensureRunning: async () => ({ pid }),
    // Answered only while `answers.on`; otherwise the request stays unanswered, as a stuck proxy leaves it.
    ping: () => (answers.on ? Promise.resolve({ pid } as PingResult) : new Promise<PingResult>(() => undefined)),
  } as unknown as EndpointProxy;
  return { pid, proxy, answers };
}

const plane = (proxy: EndpointProxy) => new DataPlane({} as ShardSupervisor, proxy, { proxySilenceMs: 400, proxyPingEveryMs: 20 });

describe('a proxy that answers no control request', () => {
  it('is killed and forgotten after the silence limit, with the reason', async () => {
    const { pid, proxy } = fakeProxy();
    const p = plane(proxy);
    await p.ensureProxy();
    expect(p.proxyLost()).toBeUndefined();
    const lost = await waitFor(() => p.proxyLost(), { what: 'the silent proxy given up' });
    expect(lost.why).toMatch(/answered no control request for \d+ s/);
    await waitFor(() => (processExists(pid) ? undefined : true), { what: 'the silent proxy killed' });
    // Forgotten: nothing more to report until a new one is started.
    expect(p.proxyLost()).toBeUndefined();
  });

  it('one that answers is kept, however long it is watched', async () => {
    const { pid, proxy, answers } = fakeProxy();
    answers.on = true;
    const p = plane(proxy);
    await p.ensureProxy();
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect(p.proxyLost()).toBeUndefined();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(processExists(pid)).toBe(true);
  });
});
