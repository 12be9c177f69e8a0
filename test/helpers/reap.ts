/**
 * Last-resort cleanup for tests that run openrs as a separate process: kill every process whose
 * working directory or command line lies under `dir` (shards run in their shard dir; the proxy
 * names its socket in its arguments).
 */
import fs from 'node:fs';

export function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cwd.startsWith(dir) || cmd.includes(dir)) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export function reap(dir: string): void {
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Send `sig` to `pid`, if it still exists (SIGSTOP/SIGCONT/SIGKILL of a shard in failure tests). */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
