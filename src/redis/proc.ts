/**
 * Process facts from /proc (Linux), for shards the manager may not have spawned itself (adopted after a restart).
 * A pid from a pid file is only trusted after checking that it is a live redis-server: pids are reused.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The pid in a shard dir's redis.pid, if the file exists and holds one. */
export function readPidFile(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/**
 * The fields of /proc/<pid>/stat after the command name, from the state on (index 0 is field 3 of proc(5)),
 * undefined if there is no such process.
 */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ...": comm may contain spaces and parentheses, so the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The state letter from /proc/<pid>/stat (R, S, D, T stopped, Z zombie...), undefined if there is no such process. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** CPU seconds (user + system, proc(5) utime and stime, in 1/100 s ticks) the process has used; undefined without it. */
export function processCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / 100 : undefined;
}

/** Running (or stopped by a signal): it exists and is not a zombie waiting to be reaped. */
export function processExists(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/**
 * A live process whose command line names redis-server (or the configured binary). redis-server rewrites its
 * title to e.g. `/usr/bin/redis-server 127.0.0.1:12000`, so the check is on the words, not on argv.
 */
export function isRedisProcess(pid: number, binary = 'redis-server'): boolean {
  if (!processExists(pid)) return false;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return false;
  }
  return cmdline.includes('redis-server') || cmdline.includes(path.basename(binary));
}

/** The process's working directory (redis-server chdirs into its `dir`), undefined if unreadable. */
export function processCwd(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** Same directory, through symlinks; false if either does not exist. */
export function sameDir(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

/** Send a signal to one process; false if it is gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILL a shard and its process group: the supervisor starts each shard as a group leader, so this also takes
 * a BGSAVE / AOF-rewrite child that would otherwise outlive it and keep writing into the shard's dir.
 */
export function killGroup(pid: number): void {
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

/**
 * Threads of the process other than its leader still exist. A multi-threaded process (redis-server's
 * background threads, node's) that exits can show its leader as a zombie while the other threads are
 * still exiting, and its files (listening sockets included) are released only when the last one is gone.
 */
function threadsLeft(pid: number): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).some((t) => t !== String(pid));
  } catch {
    return false;
  }
}

/** Resolves true once the process is gone (or a zombie whose threads have all exited: its files are closed), false after timeoutMs. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processExists(pid) || threadsLeft(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** The last `lines` lines of a file from byte `from` on ('' if unreadable). */
export function tail(file: string, from = 0, lines = 15): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.min(from, buf.length)).toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
