import { describe, expect, it } from 'vitest';
import { TerminalError, WorkQueue } from '../../src/controller/queue.js';
import { waitFor } from '../helpers/wait-for.js';

describe('WorkQueue', () => {
  it('deduplicates waiting keys and never runs one key twice at once', async () => {
    const runs: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(async (key) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      runs.push(key);
      if (runs.length === 1) await gate;
      concurrent--;
    });
    q.add('bdb:1');
    q.add('bdb:1'); // while running → marked dirty, re-run once after
    q.add('bdb:1');
    release();
    await waitFor(() => runs.length === 2);
    await q.idle();
    expect(runs).toEqual(['bdb:1', 'bdb:1']);
    expect(maxConcurrent).toBe(1);
    await q.stop();
  });

  it('retries failures with backoff until success; terminal errors are not retried', async () => {
    let n = 0;
    const errors: number[] = [];
    const q = new WorkQueue(async (key) => {
      if (key === 'flaky' && ++n < 3) throw new Error('transient');
      if (key === 'broken') throw new TerminalError('no');
    }, { baseBackoffMs: 5, onError: (_k, _e, attempt) => errors.push(attempt) });
    q.add('flaky');
    q.add('broken');
    await waitFor(() => n === 3);
    await q.idle();
    expect(errors.filter((a) => a >= 1).length).toBe(3); // 2 transient + 1 terminal
    await q.stop();
  });

  it('requeueAfterMs runs the key again later', async () => {
    let n = 0;
    const q = new WorkQueue(async () => (++n < 3 ? { requeueAfterMs: 5 } : undefined));
    q.add('k');
    await waitFor(() => n === 3);
    await q.stop();
    expect(n).toBe(3);
  });
});
