/**
 * The rollups survive a restart, as RS keeps its stats history: every series (closed entries and
 * open buckets, all intervals, all objects) is written gzipped to `<data-dir>/stats/rollups.json.gz`
 * (write to a temporary file, then rename) at most once every 10 s when something changed, and once
 * more on close. It is read back at start before the sampler runs; objects that no longer exist are
 * left out. A missing, truncated or corrupt file is ignored with a warning. Only the rollups are
 * kept: raw counters are not, so the first snapshot after a start only primes them (no rate is
 * computed across the time openrs was down, which simply has no samples).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Logger } from 'pino';
import type { RollupStore, StatsKind } from './rollup.js';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const FORMAT = 1;

export function rollupsFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'stats', 'rollups.json.gz');
}

export class RollupPersistence {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private savedVersion = -1;
  /** Nothing is written before the file was read: an empty store must not replace it. */
  private loaded = false;

  constructor(
    private readonly store: RollupStore,
    private readonly file: string,
    private readonly log?: Logger,
    private readonly everyMs = 10_000,
  ) {}

  /** Read the file into the store, keeping the series for which `keep` is true. Never throws. */
  async load(keep: (kind: StatsKind, uid: string) => boolean): Promise<void> {
    try {
      let buf: Buffer;
      try {
        buf = await fs.readFile(this.file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        return; // first start: no history yet
      }
      const doc = JSON.parse((await gunzip(buf)).toString('utf8')) as unknown;
      if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== FORMAT || !Array.isArray((doc as { series?: unknown }).series)) {
        throw new Error('not an openrs stats file');
      }
      const n = this.store.restore((doc as { series: unknown[] }).series, keep);
      this.log?.info({ file: this.file, series: n }, 'stats history loaded');
    } catch (e) {
      this.log?.warn({ err: e, file: this.file }, 'stats history file unreadable: starting with no history');
    } finally {
      this.loaded = true;
    }
  }

  /** Save every `everyMs` when the rollups changed. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.save(), this.everyMs);
    this.timer.unref();
  }

  /** Write the file if the rollups changed since the last write; errors are logged. */
  save(): Promise<void> {
    if (!this.loaded || this.writing || this.store.version === this.savedVersion) return this.writing ?? Promise.resolve();
    const version = this.store.version;
    const series = this.store.dump();
    this.writing = (async () => {
      try {
        const data = await gzip(Buffer.from(JSON.stringify({ format: FORMAT, saved: new Date().toISOString(), series })));
        await fs.mkdir(path.dirname(this.file), { recursive: true });
        const tmp = `${this.file}.tmp`;
        await fs.writeFile(tmp, data);
        await fs.rename(tmp, this.file);
        this.savedVersion = version;
      } catch (e) {
        this.log?.warn({ err: e, file: this.file }, 'stats history could not be written');
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }

  /** Stop the timer and write what changed since the last write. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.save();
  }
}
