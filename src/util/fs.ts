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
