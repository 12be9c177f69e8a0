/** Crashing a node's processes the hard way, for the restart and recovery tests. */
import path from 'node:path';
import { ProxyClient } from '../../src/proxy/control.js';
import { waitFor } from './wait-for.js';

export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** SIGKILL each process and its group (shards and the proxy lead their own); resolves once all are gone. */
export async function kill9(pids: number[]): Promise<void> {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await waitFor(() => pids.every(gone), { what: 'processes gone' });
}

/** The pid of the proxy serving the node whose data dir is `dataDir`. */
export async function proxyPid(dataDir: string): Promise<number> {
  const run = path.join(dataDir, 'run');
  const px = new ProxyClient({ socketPath: path.join(run, 'proxy.sock'), stateFile: path.join(run, 'proxy-state.json'), logFile: path.join(dataDir, 'logs', 'proxy.log') });
  try {
    return (await px.ping()).pid;
  } finally {
    px.close();
  }
}
