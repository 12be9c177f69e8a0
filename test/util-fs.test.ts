import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir } from '../src/util/fs.js';

describe('ensureDir', () => {
  it('creates missing parents and is idempotent', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-fs-'));
    const p = path.join(base, 'a', 'b', 'c');
    ensureDir(p);
    ensureDir(p);
    expect(fs.statSync(p).isDirectory()).toBe(true);
    fs.rmSync(base, { recursive: true });
  });

  it('fails fast (no hang) where recursive mkdir would spin: under /proc, and under a file', () => {
    expect(() => ensureDir('/proc/no-such/dir')).toThrow(/ENOENT/);
    const file = path.join(os.tmpdir(), `openrs-file-${process.pid}`);
    fs.writeFileSync(file, 'x');
    expect(() => ensureDir(path.join(file, 'sub'))).toThrow();
    fs.rmSync(file);
  });
});
