import net from 'node:net';
/** Databases through the REST API, verified from inside real redis-server processes. */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { waitFor } from '../helpers/wait-for.js';
import { client, configOf, createBdb, pidOf, shardsOf, waitStatus } from '../helpers/bdb.js';
import { waitAction } from './backup-helpers.js';

let t: TestNode;

/** Through the endpoint, as the default user: CONFIG, ACL SETUSER, SHUTDOWN and REPLICAOF answer NOPERM; data works. */
async function managementRefused(port: number): Promise<boolean> {
  const c = client(port);
  await c.connect();
  try {
    // CONFIG only reaches the settings RS lets clients have (test/bdbs/client-config.test.ts).
    expect(await c.call('CONFIG', 'GET', 'masterauth')).toEqual([]);
    await expect(c.call('CONFIG', 'SET', 'maxmemory', '0')).rejects.toThrow(/Unsupported CONFIG parameter/);
    // ACL LIST / GETUSER would show every user's password hash (the users' own passwords, unsalted).
    for (const args of [['ACL', 'LIST'], ['ACL', 'GETUSER', 'default'], ['ACL', 'SETUSER', 'x', 'on'], ['SHUTDOWN', 'NOSAVE'], ['REPLICAOF', '127.0.0.1', '1']]) {
      await expect(c.call(args[0]!, ...args.slice(1))).rejects.toThrow(/NOPERM/);
    }
    // In a transaction (a connection of its own) CONFIG is Redis's to answer: refused.
    const multi = await c.multi().config('SET', 'maxmemory', '0').exec().catch((e: Error) => e);
    expect(String(multi instanceof Error ? multi.message : multi?.[0]?.[0]?.message)).toMatch(/NOPERM|EXECABORT/);
    expect(await c.set('still', 'here')).toBe('OK');
    return true;
  } finally {
    c.disconnect();
  }
}

beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

describe('create', () => {
  it('returns the full object with an action, becomes active, and serves real data at its endpoint', async () => {
    const r = await t.req('POST', '/v1/bdbs', { body: { name: 'db-create', memory_size: 64 * 1024 * 1024, eviction_policy: 'allkeys-lru' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ name: 'db-create', status: 'pending', memory_size: 64 * 1024 * 1024 });
    expect(typeof r.json.action_uid).toBe('string');
    expect(r.json.port).toBe(0); // auto-assigned ports show in endpoints[], as in the RS capture
    const bdb = await waitStatus(t, r.json.uid);
    const ep = bdb.endpoints[0];
    expect(ep).toMatchObject({ uid: `${bdb.uid}:1`, addr_type: 'external', proxy_policy: 'single' });
    expect(ep.port).toBeGreaterThanOrEqual(10000);
    expect(ep.dns_name).toBe(`redis-${ep.port}.cluster.test.local`);
    expect(bdb.shard_list).toHaveLength(1);

    const c = client(ep.port);
    await c.connect();
    await c.set('greeting', 'hello');
    expect(await c.get('greeting')).toBe('hello');
    expect(await configOf(t, bdb.uid, 'maxmemory')).toEqual(['maxmemory', String(64 * 1024 * 1024)]);
    expect(await configOf(t, bdb.uid, 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    c.disconnect();

    // Server management is the manager's: a database client cannot reconfigure, stop or re-point its shard.
    await expect(managementRefused(ep.port)).resolves.toBe(true);

    const action = await t.req('GET', `/v1/actions/${r.json.action_uid}`);
    expect(action.json).toMatchObject({ name: 'SMCreateBDB', object_name: `bdb:${bdb.uid}`, status: 'completed', progress: 100 });
    // A finished state machine has no current state (capture actions_list.json: no `state`).
    expect(action.json.state).toBeUndefined();
    const all = await t.req('GET', '/v1/actions');
    expect(all.json['state-machines'].some((a: any) => a.action_uid === r.json.action_uid)).toBe(true);
    // The v2 action object (requests/actions): its own status words and additional_info.
    const v2 = await t.req('GET', `/v2/actions/${r.json.action_uid}`);
    expect(v2.json).toMatchObject({
      action_uid: r.json.action_uid, action_type: 'state-machine', name: 'SMCreateBDB', status: 'completed', progress: 100,
      additional_info: { object_type: 'bdb', object_uid: String(bdb.uid) },
    });
    expect(typeof v2.json.creation_time).toBe('number');
  });

  it('honours a requested port and refuses duplicates and bad input without creating anything', async () => {
    const requested = t.dbPorts.to - 7;
    const bdb = await createBdb(t, { name: 'db-port', port: requested });
    expect(bdb.port).toBe(requested);
    expect(bdb.endpoints[0].port).toBe(requested);
    const before = (await t.req('GET', '/v1/bdbs')).json.length;
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'db-port', memory_size: 1e8 }, 406, 'name_violation'],
      [{ name: 'other', memory_size: 1e8, port: requested }, 406, 'port_unavailable'],
      [{ name: 'other2', memory_size: 1e8, port: t.dbPorts.to + 1 }, 406, 'port_unavailable'],
      [{ name: 'bad name!', memory_size: 1e8 }, 406, 'name_violation'],
      [{ name: 'x1', memory_size: 1e8, eviction_policy: 'sometimes' }, 400, 'invalid_schema'],
      [{ name: 'x2', memory_size: 1e8, bigstore: true }, 400, 'unsupported_option'],
      [{ name: 'x3', memory_size: 1e8, no_such_field: 1 }, 400, 'invalid_schema'],
      [{ name: 'x4' }, 406, 'missing_memory_size'],
      [{ memory_size: 1e8 }, 406, 'missing_db_name'],
    ];
    for (const [body, status, code] of cases) {
      const r = await t.req('POST', '/v1/bdbs', { body });
      expect({ body, status: r.status, code: r.json?.error_code }).toEqual({ body, status, code });
    }
    expect((await t.req('GET', '/v1/bdbs')).json.length).toBe(before);
    // Schema errors name the field.
    const unknown = await t.req('POST', '/v1/bdbs', { body: { name: 'x5', memory_size: 1e8, status: 'active' } });
    expect(unknown.json.description).toBe("body: unknown or read-only field 'status'");
    const badEnum = await t.req('POST', '/v1/bdbs', { body: { name: 'x6', memory_size: 1e8, eviction_policy: 'sometimes' } });
    expect(badEnum.json.description).toMatch(/^body\.eviction_policy: must be one of .*"noeviction"/);
    const range = await t.req('POST', '/v1/bdbs', { body: { name: 'x7', memory_size: 1e8, maxclients: -1 } });
    expect(range.json.description).toBe('body.maxclients: must be >= 0');
  });

  it('v2 form {"bdb": {...}} creates the same way; dry_run creates nothing', async () => {
    const dry = await t.req('POST', '/v1/bdbs?dry_run=1', { body: { name: 'db-dry', memory_size: 1e8 } });
    expect(dry.status).toBe(200);
    expect((await t.req('GET', '/v1/bdbs')).json.some((b: any) => b.name === 'db-dry')).toBe(false);
    const r = await t.req('POST', '/v2/bdbs', { body: { bdb: { name: 'db-v2', memory_size: 1e8 } } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, r.json.uid);
  });
});

describe('update', () => {
  it('applies memory, eviction and password changes live, keeping the data and the process', async () => {
    const bdb = await createBdb(t, { name: 'db-update' });
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir);
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    await c.set('keep', 'me');
    c.disconnect();

    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { memory_size: 200 * 1024 * 1024, eviction_policy: 'noeviction', authentication_redis_pass: 's3cret-pass' } });
    expect(r.status, r.text).toBe(200);
    expect(typeof r.json.action_uid).toBe('string');
    const done = await waitFor(async () => {
      const a = (await t.req('GET', `/v1/actions/${r.json.action_uid}`)).json;
      return a.status === 'completed' ? a : undefined;
    }, { what: 'update action' });
    expect(done).toMatchObject({ name: 'SMUpdateBDB', progress: 100 });
    expect(done.state).toBeUndefined();
    await waitStatus(t, bdb.uid);

    const anon = client(bdb.endpoints[0].port);
    await anon.connect();
    await expect(anon.get('keep')).rejects.toThrow(/NOAUTH/);
    anon.disconnect();
    const c2 = client(bdb.endpoints[0].port, { password: 's3cret-pass' });
    await c2.connect();
    expect(await c2.get('keep')).toBe('me');
    expect(await configOf(t, bdb.uid, 'maxmemory')).toEqual(['maxmemory', String(200 * 1024 * 1024)]);
    expect(await configOf(t, bdb.uid, 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    c2.disconnect();
    expect(pidOf(shard!.dir)).toBe(pid);
  });

  it('dry_run validates without changing; a change while another runs is refused with 409', async () => {
    const bdb = await createBdb(t, { name: 'db-busy' });
    const dry = await t.req('PUT', `/v1/bdbs/${bdb.uid}?dry_run=1`, { body: { eviction_policy: 'allkeys-lfu' } });
    expect(dry.status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.eviction_policy).toBe('volatile-lru');
    const first = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'allkeys-lfu' } });
    expect(first.status).toBe(200);
    const second = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { eviction_policy: 'allkeys-lru' } });
    // Either the first change is still running (409 busy), or it already finished (200): never a lost update.
    // The refusal names the action the database is busy with (QA: it blamed "another configuration change" for a backup).
    if (second.status === 409) expect(second.json).toMatchObject({ error_code: 'busy', description: expect.stringContaining(`action SMUpdateBDB (${first.json.action_uid})`) });
    else expect(second.status).toBe(200);
    await waitStatus(t, bdb.uid);
    expect((await t.req('PUT', '/v1/bdbs/99999', { body: { eviction_policy: 'allkeys-lru' } })).status).toBe(404);
  });
});

describe('settings verified inside redis-server', () => {
  it('persistence, snapshot policy, AOF policy and maxclients after create and after update', async () => {
    const bdb = await createBdb(t, { name: 'db-persist', data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 100 }], maxclients: 500 });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    expect(await configOf(t, bdb.uid, 'save')).toEqual(['save', '60 100']);
    expect(await configOf(t, bdb.uid, 'appendonly')).toEqual(['appendonly', 'no']);
    // maxclients is the database's limit plus the connections openrs itself keeps (decisions/redis.md).
    expect(Number(((await configOf(t, bdb.uid, 'maxclients')) as string[])[1])).toBe(500 + 32);
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { data_persistence: 'aof', aof_policy: 'appendfsync-always', maxclients: 800 } });
    expect(r.status, r.text).toBe(200);
    // The settings are applied one CONFIG SET after another: wait for the first and the last.
    await waitFor(async () => ((await configOf(t, bdb.uid, 'appendonly')) as string[])[1] === 'yes', { what: 'aof on' });
    await waitFor(async () => ((await configOf(t, bdb.uid, 'maxclients')) as string[])[1] !== String(500 + 32), { what: 'maxclients changed' });
    expect(await configOf(t, bdb.uid, 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect(await configOf(t, bdb.uid, 'save')).toEqual(['save', '']);
    expect(Number(((await configOf(t, bdb.uid, 'maxclients')) as string[])[1])).toBe(800 + 32);
    // Client-side caching and defragmentation tuning, once the change above has finished (else 409).
    expect((await waitAction(t, r.json.action_uid)).status).toBe('completed');
    const t2 = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { tracking_table_max_keys: 5000, active_defrag_cycle_max: 50, active_defrag_ignore_bytes: '200mb' } });
    expect(t2.status, t2.text).toBe(200);
    expect((await waitAction(t, t2.json.action_uid)).status).toBe('completed');
    expect(await configOf(t, bdb.uid, 'tracking-table-max-keys')).toEqual(['tracking-table-max-keys', '5000']);
    expect(await configOf(t, bdb.uid, 'active-defrag-cycle-max')).toEqual(['active-defrag-cycle-max', '50']);
    expect(await configOf(t, bdb.uid, 'active-defrag-ignore-bytes')).toEqual(['active-defrag-ignore-bytes', String(200 * 1024 * 1024)]);
    // slave_buffer is the replica output buffer limit (rladmin tune.md): MB, or hard:soft:time.
    const buf = async () => /slave (\S+ \S+ \S+)/.exec(((await configOf(t, bdb.uid, 'client-output-buffer-limit')) as string[])[1]!)?.[1];
    expect(await buf()).toBe('268435456 67108864 60');
    await c.set('buf', 'kept');
    const t3 = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { slave_buffer: '1024:512:120' } });
    expect(t3.status, t3.text).toBe(200);
    expect((await waitAction(t, t3.json.action_uid)).status).toBe('completed');
    expect(await buf()).toBe(`${1024 * 1024 * 1024} ${512 * 1024 * 1024} 120`);
    expect(await c.get('buf')).toBe('kept');
    c.disconnect();
  });
});

describe('a setting Redis refuses', () => {
  it('fails the change with the reason and leaves the database active, serving, and open to a corrected PUT or a DELETE', async () => {
    const bdb = await createBdb(t, { name: 'db-refused' });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    await c.set('keep', 'me');
    // A Redis ACL may name module commands (FT.SEARCH); a shard without that module refuses the rule.
    const acl = (await t.req('POST', '/v1/redis_acls', { body: { name: 'Search readers', acl: '+@read ~* +ft.search' } })).json;
    const role = (await t.req('POST', '/v1/roles', { body: { name: 'Searchers', management: 'none' } })).json;
    expect((await t.req('POST', '/v1/users', { body: { email: 'searcher@test.local', name: 'searcher', password: 'searcher-pass-1', role_uids: [role.uid] } })).status).toBe(200);
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { roles_permissions: [{ role_uid: role.uid, redis_acl_uid: acl.uid }], eviction_policy: 'allkeys-lru' } });
    expect(r.status, r.text).toBe(200);
    const action = await waitAction(t, r.json.action_uid);
    expect(action.status).toBe('failed');
    expect(action.error_code).toBe('redis_refused');
    expect(action.error).toMatch(/ACL SETUSER searcher.*ft\.search/i);
    const v1 = (await t.req('GET', `/v1/actions/${r.json.action_uid}`)).json;
    expect(v1).toMatchObject({ status: 'failed', error: action.error });
    expect(v1.state).toBeUndefined();
    await waitStatus(t, bdb.uid);
    expect(await c.get('keep')).toBe('me');
    // The rest of the change was applied.
    expect(await configOf(t, bdb.uid, 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    // Corrected at once: no 409 from the failed change.
    const fix = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { roles_permissions: [], disabled_commands: 'flushall' } });
    expect(fix.status, fix.text).toBe(200);
    expect((await waitAction(t, fix.json.action_uid)).status).toBe('completed');
    await expect(c.flushall()).rejects.toThrow(/NOPERM/);
    c.disconnect();
    const del = await t.req('DELETE', `/v1/bdbs/${bdb.uid}`);
    expect(del.status, del.text).toBe(200);
  });

  it('disabled_commands naming a command this Redis lacks is refused before anything is stored (406)', async () => {
    const bdb = await createBdb(t, { name: 'db-disabled-bad' });
    for (const [method, path, body] of [
      ['PUT', `/v1/bdbs/${bdb.uid}`, { disabled_commands: 'FLUSHALL,notacommand' }],
      ['PUT', `/v1/bdbs/${bdb.uid}?dry_run=1`, { disabled_commands: 'config|nosuch' }],
      ['POST', '/v1/bdbs', { name: 'db-disabled-bad-2', memory_size: 100 * 1024 * 1024, disabled_commands: 'auth' }],
    ] as const) {
      const r = await t.req(method, path, { body });
      expect(r.status, r.text).toBe(406);
      expect(r.json.error_code).toBe('invalid_disabled_commands');
    }
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.disabled_commands).toBe('');
    expect((await t.req('GET', '/v1/bdbs?fields=name')).json).not.toContainEqual({ name: 'db-disabled-bad-2' });
  });

  it('values out of range are refused before anything is stored', async () => {
    const bdb = await createBdb(t, { name: 'db-ranges' });
    for (const body of [{ maxclients: 2_000_000_000 }, { repl_backlog_size: '99999999999999999999999' }, { memory_size: 99999999999999999999 }, { slave_buffer: '99999999999999999999' },
      { data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 2 ** 32 + 1 }] },
      // Redis refuses these: the change would fail, and with it every later change of the database.
      { active_defrag_ignore_bytes: '99999999999999999999gb' }, { active_defrag_ignore_bytes: '9999999gb' }, { active_defrag_max_scan_fields: 0 }]) {
      const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error_code).toBe('invalid_schema');
    }
    const defrag = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { activedefrag: 'yes' } });
    expect(defrag.status).toBe(400);
    expect(defrag.json.error_code).toBe('unsupported_option');
    // Redis would run a backlog this small at its 16 KiB minimum, and the database would report '1'.
    const backlog = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { repl_backlog_size: '1' } });
    expect(backlog.status, backlog.text).toBe(406);
    expect(backlog.json.error_code).toBe('invalid_param');
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.repl_backlog_size).toBe('auto');
    // The largest change count Redis keeps as given.
    const most = await t.req('PUT', `/v1/bdbs/${bdb.uid}`, { body: { data_persistence: 'snapshot', snapshot_policy: [{ secs: 60, writes: 2 ** 31 - 1 }] } });
    expect(most.status, most.text).toBe(200);
    expect((await waitAction(t, most.json.action_uid)).status).toBe('completed');
    expect(await configOf(t, bdb.uid, 'save')).toEqual(['save', `60 ${2 ** 31 - 1}`]);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.status).toBe('active');
  });
});

describe('PUT /v1/bdbs/{uid}/{action}', () => {
  it('flush empties the database; reset_admin_pass renews the admin password; unknown actions are refused', async () => {
    const bdb = await createBdb(t, { name: 'db-actions' });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    await c.mset('a', '1', 'b', '2');
    const f = await t.req('PUT', `/v1/bdbs/${bdb.uid}/flush`, { body: {} });
    expect(f.status, f.text).toBe(200);
    expect(await c.dbsize()).toBe(0);
    c.disconnect();
    await waitStatus(t, bdb.uid);
    const before = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.authentication_admin_pass;
    const r = await t.req('PUT', `/v1/bdbs/${bdb.uid}/reset_admin_pass`, { body: { eviction_policy: 'allkeys-lru' } });
    expect(r.status, r.text).toBe(200);
    await waitStatus(t, bdb.uid);
    const after = (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json;
    expect(after.authentication_admin_pass).not.toBe(before);
    expect(after.eviction_policy).toBe('allkeys-lru');
    expect((await t.req('PUT', `/v1/bdbs/${bdb.uid}/explode`, { body: {} })).json.error_code).toBe('unsupported_action');
    // Only the known actions make /v1/bdbs/{uid}/{x} a resource: another method there is 405 with Allow: PUT; an unknown
    // sub-path is 404, and a real sub-resource's Allow does not list the catch-all's PUT (QA).
    const get = await t.req('GET', `/v1/bdbs/${bdb.uid}/flush`);
    expect([get.status, get.headers.allow]).toEqual([405, 'PUT']);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}/alerts`)).status).toBe(404);
    const post = await t.req('POST', `/v1/bdbs/${bdb.uid}/availability`);
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });
});

describe('passwords API', () => {
  it('PUT sets a single password, POST adds one, DELETE removes one', async () => {
    const bdb = await createBdb(t, { name: 'db-pass' });
    const port = bdb.endpoints[0].port;
    const uid = bdb.uid;
    const canAuth = async (password: string) => {
      const c = client(port, { password });
      try {
        await c.connect();
        await c.ping();
        return true;
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    };
    expect((await t.req('PUT', `/v1/bdbs/${uid}/passwords`, { body: { password: 'first-pass' } })).status).toBe(200);
    await waitFor(() => canAuth('first-pass'), { what: 'first password' });
    expect((await t.req('POST', `/v1/bdbs/${uid}/passwords`, { body: { password: 'second-pass' } })).status).toBe(200);
    await waitFor(() => canAuth('second-pass'), { what: 'second password' });
    expect(await canAuth('first-pass')).toBe(true);
    expect((await t.req('DELETE', `/v1/bdbs/${uid}/passwords`, { body: { password: 'first-pass' } })).status).toBe(200);
    await waitFor(async () => !(await canAuth('first-pass')), { what: 'first password removed' });
    expect(await canAuth('second-pass')).toBe(true);
    expect((await t.req('DELETE', `/v1/bdbs/${uid}/passwords`, { body: { password: 'never-set' } })).status).toBe(406);
    // The last one stays: deleting it would open the database to anyone.
    const last = await t.req('DELETE', `/v1/bdbs/${uid}/passwords`, { body: { password: 'second-pass' } });
    expect(last.status).toBe(406);
    expect(last.json.error_code).toBe('cannot_delete_last_password');
    expect(await canAuth('second-pass')).toBe(true);
  });

  it('connections of a removed password stay (Redis behaviour) unless disconnect_clients_on_password_removal', async () => {
    const bdb = await createBdb(t, { name: 'db-pass-drop', authentication_redis_pass: 'keep-me' });
    const port = bdb.endpoints[0].port;
    const uid = bdb.uid;
    const connected = async (password: string) => {
      const c = client(port, { password });
      await c.connect();
      expect(await c.ping()).toBe('PONG');
      return c;
    };
    const works = (password: string) => connected(password).then((c) => (c.disconnect(), true), () => false);
    /** Add `password`, connect a client with it, remove it again; the client is returned. */
    const addUseRemove = async (password: string, onRemoved?: (c: ReturnType<typeof client>) => Promise<void>) => {
      expect((await t.req('POST', `/v1/bdbs/${uid}/passwords`, { body: { password } })).status).toBe(200);
      await waitFor(() => works(password), { what: `${password} works` });
      const c = await connected(password);
      const closedNow = new Promise<void>((resolve) => c.once('end', () => resolve()));
      expect((await t.req('DELETE', `/v1/bdbs/${uid}/passwords`, { body: { password } })).status).toBe(200);
      await waitFor(async () => !(await works(password)), { what: `${password} removed` });
      await onRemoved?.(c);
      return { c, closedNow };
    };
    // Default (false): removing a password closes nothing.
    const stays = await addUseRemove('temp-1');
    expect(await stays.c.ping()).toBe('PONG');
    stays.c.disconnect();
    // Turned on: the clients of that user are closed when a password goes.
    const put = await t.req('PUT', `/v1/bdbs/${uid}`, { body: { disconnect_clients_on_password_removal: true } });
    expect(put.status).toBe(200);
    await waitStatus(t, uid, 'active');
    await (await addUseRemove('temp-2')).closedNow;
    // The remaining password still works.
    expect(await works('keep-me')).toBe(true);
    // The cluster setting overrides the database's: 'disabled' keeps connections even so.
    expect((await t.req('PUT', '/v1/cluster', { body: { disconnect_clients_on_password_removal: 'disabled' } })).status).toBe(200);
    const kept = await addUseRemove('temp-3');
    expect(await kept.c.ping()).toBe('PONG');
    kept.c.disconnect();
    expect((await t.req('PUT', '/v1/cluster', { body: { disconnect_clients_on_password_removal: 'auto' } })).status).toBe(200);
  });
});

describe('traffic and commands', () => {
  it('stop_traffic drops clients and refuses new ones until resume_traffic', async () => {
    const bdb = await createBdb(t, { name: 'db-traffic' });
    const port = bdb.endpoints[0].port;
    // objects/bdb: "Whether traffic was manually turned off using the stop_traffic API".
    expect(bdb.traffic_manually_disabled).toBe(false);
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/stop_traffic`);
    expect(r.status, r.text).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}`)).json.traffic_manually_disabled).toBe(true);
    await waitFor(async () => {
      const c = client(port);
      try {
        await c.connect();
        await c.ping();
        return false;
      } catch {
        return true;
      } finally {
        c.disconnect();
      }
    }, { what: 'traffic stopped' });
    // A change while the stop action is still open is refused (409), as for any action: wait for it.
    expect(await waitAction(t, r.json.action_uid)).toMatchObject({ status: 'completed' });
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/actions/resume_traffic`)).status).toBe(200);
    expect((await t.req('GET', `/v1/bdbs/${bdb.uid}?fields=traffic_manually_disabled`)).json).toEqual({ traffic_manually_disabled: false });
    await waitFor(async () => {
      const c = client(port);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    }, { what: 'traffic resumed' });
  });

  it('POST /v1/bdbs/{uid}/command runs a command on the master (PING → true)', async () => {
    const bdb = await createBdb(t, { name: 'db-cmd' });
    const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command: 'PING', args: [] } });
    expect(r.json).toEqual({ response: true });
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command: 'SET', args: ['a', '1'] } })).json).toEqual({ response: true });
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command: 'GET', args: ['a'] } })).json).toEqual({ response: '1' });
    // Only data commands: the connection is the reconciler's own, as the admin user.
    const refused = [['CONFIG', 'SET', 'maxmemory', '1'], ['acl', 'list'], ['SHUTDOWN', 'NOSAVE'], ['BLPOP', 'q', '0'], ['SUBSCRIBE', 'c'], ['SELECT', '3'], ['MULTI'], ['REPLICAOF', '127.0.0.1', '1'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['SCRIPT', 'DEBUG', 'SYNC'], ['SWAPDB', '0', '1'], ['MIGRATE', '127.0.0.1', '1', 'k', '0', '10'], ['MEMORY', 'PURGE'], ['WAIT', '1', '0']];
    for (const [command, ...args] of refused) {
      const r = await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command, args } });
      expect(r.status, command).toBe(400);
      expect(r.json.error_code, command).toBe('command_not_allowed');
    }
    const unknown = await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command: 'NOSUCHCMD', args: [] } });
    expect(unknown.json.error_code).toBe('command_failed');
    expect((await t.req('POST', `/v1/bdbs/${bdb.uid}/command`, { body: { command: 'DBSIZE', args: [] } })).json).toEqual({ response: 1 });
    const c = client(bdb.endpoints[0].port);
    await c.connect();
    expect(await configOf(t, bdb.uid, 'maxmemory')).not.toEqual(['maxmemory', '1']);
    expect(await c.get('a')).toBe('1');
    c.disconnect();
  });
});

describe('delete', () => {
  it('stops the processes, frees the port and removes the files', async () => {
    const bdb = await createBdb(t, { name: 'db-delete' });
    const port = bdb.endpoints[0].port;
    const [shard] = await shardsOf(t, bdb.uid);
    const pid = pidOf(shard!.dir)!;
    const r = await t.req('DELETE', `/v1/bdbs/${bdb.uid}`);
    expect(r.status).toBe(200);
    await waitFor(async () => (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).status === 404, { what: 'bdb gone' });
    const sm = await waitFor(async () => {
      const list = (await t.req('GET', '/v1/actions')).json['state-machines'] as any[];
      return list.find((a) => a.action_uid === r.json.action_uid && a.status === 'completed');
    }, { what: 'delete action completed' });
    expect(sm).toMatchObject({ name: 'SMDeleteBDB', progress: 100 });
    expect(sm.state).toBeUndefined();
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, { what: 'shard process gone' });
    expect(fs.existsSync(shard!.dir)).toBe(false);
    expect(await shardsOf(t, bdb.uid)).toEqual([]);
    // The port is free again: a new database can take it.
    const again = await createBdb(t, { name: 'db-delete-2', port });
    expect(again.endpoints[0].port).toBe(port);
    expect((await t.req('DELETE', `/v1/bdbs/${bdb.uid}`)).status).toBe(404);
  });
});

describe('delete, the action and the records', () => {
  it('complete together: a failure after the records are gone cannot leave the delete action open for ever', async () => {
    const bdb = await createBdb(t, { name: 'db-delete-atomic' });
    const actions = t.node.composed.services.actions;
    const transition = actions.transition.bind(actions);
    let failed = 0;
    // As when the manager ends (or the store fails) between removing the database and completing its action.
    actions.transition = async (uid, status, patch) => {
      const a = await actions.get(uid);
      if (a?.name === 'SMDeleteBDB' && status === 'completed' && failed++ === 0) throw new Error('store unavailable');
      return transition(uid, status, patch);
    };
    try {
      const r = await t.req('DELETE', `/v1/bdbs/${bdb.uid}`);
      expect(r.status).toBe(200);
      await waitFor(async () => (await t.req('GET', `/v1/bdbs/${bdb.uid}`)).status === 404, { what: 'bdb gone' });
      expect(await waitAction(t, r.json.action_uid, 10_000)).toMatchObject({ status: 'completed', progress: 100 });
    } finally {
      actions.transition = transition;
    }
  });
});

describe('a shard port taken by another program', () => {
  it('is noticed when the shard must start again, and the shard moves to a free port', async () => {
    const n = await startTestNode();
    let again: TestNode | undefined;
    const squatter = net.createServer();
    try {
      const bdb = await createBdb(n, { name: 'db-moved', data_persistence: 'aof' });
      const c = client(bdb.endpoints[0].port);
      await c.connect();
      await c.set('kept', 'yes');
      c.disconnect();
      const [shard] = await shardsOf(n, bdb.uid);
      await n.stop(); // the manager goes away; the shard keeps running
      const pid = pidOf(shard!.dir)!;
      process.kill(pid, 'SIGKILL');
      await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, { what: 'shard gone' });
      squatter.listen(shard!.port, '127.0.0.1');
      await new Promise((r) => squatter.once('listening', r));
      again = await startTestNode({ dataDir: n.dataDir });
      await waitFor(async () => (await shardsOf(again!, bdb.uid))[0]!.port !== shard!.port, { what: 'shard moved' });
      await waitStatus(again, bdb.uid);
      // The database stays `active` throughout (it was when the manager stopped): what tells that the endpoint
      // follows the moved shard is a client reading through it. A client that connects before the endpoint is
      // pointed at the new port is dropped then, as on any change of target (CI saw that race).
      const kept = await waitFor(async () => {
        const c2 = client(bdb.endpoints[0].port);
        try {
          await c2.connect();
          return (await c2.get('kept')) ?? undefined;
        } catch {
          return undefined;
        } finally {
          c2.disconnect();
        }
      }, { what: 'the key read through the endpoint' });
      expect(kept).toBe('yes'); // restarted from its AOF on the new port
    } finally {
      squatter.close();
      // The second node owns the data dir now; closing it stops the shards and the proxy.
      await (again ?? n).close();
    }
  });
});
