/** File-system helpers for paths that come from API requests. */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Create a directory and its missing parents, one level at a time. Node's
 * `mkdirSync(p, { recursive: true })` never returns for some paths (e.g. under /proc, where
 * mkdir fails with ENOENT although the parent exists), and request paths must not be able to
 * hang the server. Throws the first mkdir error.
 */
export function ensureDir(p: string): void {
  const abs = path.resolve(p);
  const missing: string[] = [];
  let cur = abs;
  while (!fs.existsSync(cur)) {
    missing.unshift(cur);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const dir of missing) fs.mkdirSync(dir);
}

/** The last `bytes` of a file as text (all of a smaller one); undefined when it cannot be read. */
export function readTail(file: string, bytes: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
