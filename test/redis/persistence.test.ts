import { describe, expect, it } from 'vitest';
import { directivesFor, liveChanges, type BdbRedisSettings } from '../../src/redis/config-map.js';
import { waitFor } from '../helpers/wait-for.js';
import { shardHarness } from './harness.js';

const h = shardHarness();

async function writeKeys(sup: ReturnType<typeof h.supervisor>, port: number, n: number): Promise<void> {
  const admin = sup.admin({ port });
  for (let i = 0; i < n; i++) await admin.command('SET', [`key:${i}`, `value-${i}`]);
  admin.close();
}

async function keyCount(sup: ReturnType<typeof h.supervisor>, port: number): Promise<number> {
  const admin = sup.admin({ port });
  const n = await admin.dbsize();
  admin.close();
  return n;
}

describe('persistence across a shard restart', () => {
  it('AOF: keys written, the shard SIGKILLed, started again from the same dir → keys are back', async () => {
    const sup = h.supervisor();
    // appendfsync always: the AOF is written before each reply. Under every-sec Redis postpones the write while a
    // slow background fsync runs (a busy host), up to 2 s, and a kill -9 then loses those writes.
    const spec = await h.spec(directivesFor({ data_persistence: 'aof', aof_policy: 'appendfsync-always' }, 'master'));
    const first = h.track(await sup.start(spec));
    await writeKeys(sup, spec.port, 50);
    process.kill(-first.pid, 'SIGKILL'); // no chance to save: only the AOF survives
    await waitFor(() => !sup.isAlive(first), { what: 'shard gone' });

    const second = h.track(await sup.start(spec));
    expect(second.pid).not.toBe(first.pid);
    expect(await keyCount(sup, spec.port)).toBe(50);
    await sup.stop(second);
  });

  it('snapshot: SHUTDOWN SAVE, start again → keys are back; NOSAVE with persistence disabled → empty', async () => {
    const sup = h.supervisor();
    const spec = await h.spec(directivesFor({ data_persistence: 'snapshot', snapshot_policy: [{ secs: 3600, writes: 1000 }] }, 'master'));
    expect(spec.directives.save).toBe('3600 1000');
    const first = h.track(await sup.start(spec));
    await writeKeys(sup, spec.port, 20);
    await sup.stop(first, { save: true });
    const second = h.track(await sup.start(spec));
    expect(await keyCount(sup, spec.port)).toBe(20);
    await sup.stop(second);

    const volatile = await h.spec(directivesFor({ data_persistence: 'disabled' }, 'master'));
    const v1 = h.track(await sup.start(volatile));
    await writeKeys(sup, volatile.port, 5);
    await sup.stop(v1); // plain SHUTDOWN: no save points configured, so nothing is written
    const v2 = h.track(await sup.start(volatile));
    expect(await keyCount(sup, volatile.port)).toBe(0);
    await sup.stop(v2);
  });

  it('AOF switched on live (liveChanges → CONFIG SET) protects data written before and after', async () => {
    const sup = h.supervisor();
    const before: BdbRedisSettings = { data_persistence: 'disabled', memory_size: 64 << 20 };
    const after: BdbRedisSettings = { ...before, data_persistence: 'aof', aof_policy: 'appendfsync-always' };
    const spec = await h.spec(directivesFor(before, 'master'));
    const first = h.track(await sup.start(spec));
    await writeKeys(sup, spec.port, 10);

    const changes = liveChanges(before, after);
    expect(changes.restart).toEqual([]);
    const admin = sup.admin(first);
    for (const step of changes.configSet) await admin.configSet(step.directive, step.value);
    await waitFor(async () => {
      const p = (await admin.info('persistence')).persistence;
      return p?.aof_enabled === '1' && p.aof_rewrite_in_progress === '0' && p.aof_rewrite_scheduled === '0';
    }, { what: 'AOF rewrite' });
    await admin.command('SET', ['after', 'yes']);
    admin.close();
    process.kill(-first.pid, 'SIGKILL');
    await waitFor(() => !sup.isAlive(first), { what: 'shard gone' });

    // The reconciler restarts with the desired directives, which now include appendonly yes.
    const second = h.track(await sup.start({ ...spec, directives: directivesFor(after, 'master') }));
    expect(await keyCount(sup, spec.port)).toBe(11);
    await sup.stop(second);
  });

  it('a stop right after AOF is switched on waits for the initial AOF instead of losing the data', async () => {
    const sup = h.supervisor();
    const spec = await h.spec(directivesFor({}, 'master'));
    const first = h.track(await sup.start(spec));
    await writeKeys(sup, spec.port, 200);
    const admin = sup.admin(first);
    await admin.configSet('appendonly', 'yes'); // Redis refuses SHUTDOWN until the initial AOF is written
    admin.close();
    await sup.stop(first);
    const second = h.track(await sup.start({ ...spec, directives: directivesFor({ data_persistence: 'aof' }, 'master') }));
    expect(await keyCount(sup, spec.port)).toBe(200);
    await sup.stop(second);
  });
});
