/**
 * The ACL rule validator (src/auth/acl-grammar.ts): a table of rule strings, each checked against
 * the validator and — in the 'redis' dialect — against a real redis-server with ACL SETUSER on a
 * fresh user, which must agree on accepted / refused and on the error message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAclRules } from '../../src/auth/acl-grammar.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

const HASH = '0123456789abcdef'.repeat(4);

/** [rules, accepted?] — plain ACL SETUSER grammar, as redis-server 7.0 applies it. */
const TABLE: [string, boolean][] = [
  ['on', true], ['off', true], ['On', true], ['nopass', true], ['resetpass', true], ['reset', true],
  ['sanitize-payload', true], ['skip-sanitize-payload', true], ['clearselectors', true],
  ['>secret', true], ['>secret <secret', true], ['<secret', false], ['>a <b', false],
  [`#${HASH}`, true], [`#${HASH} !${HASH}`, true], [`!${HASH}`, false], ['#abc', false], [`#${HASH.toUpperCase()}`, false],
  ['~*', true], ['allkeys', true], ['ALLKEYS', true], ['resetkeys', true], ['~app:*', true], ['~a ~b ~a', true], ['~', true],
  ['allkeys ~foo', false], ['~* ~foo', false], ['~* resetkeys ~foo', true], ['~foo ~*', true],
  ['%R~app:*', true], ['%W~x', true], ['%RW~x', true], ['%WR~x', true], ['%r~x', true], ['%R', true], ['%R~', true],
  ['%', false], ['%~x', false], ['%RR~x', false], ['%RX~x', false], ['%X~x', false], ['allkeys %R~x', false],
  ['&*', true], ['allchannels', true], ['resetchannels', true], ['&news', true], ['&', true], ['&* &news', false],
  ['allchannels &news', false], ['allchannels resetchannels &news', true],
  ['+get', true], ['+GET', true], ['-get', true], ['+nosuchcommand', false], ['-nosuchcommand', false], ['+', false], ['-', false],
  ['+@all', true], ['-@all', true], ['+@ALL', true], ['allcommands', true], ['nocommands', true],
  ['+@read', true], ['-@dangerous', true], ['+@READ', true], ['+@nosuch', false], ['+@', false], ['-@', false],
  ['+config|get', true], ['-config|set', true], ['+config|nosuch', false], ['+config|get|x', false],
  ['+select|0', true], ['+get|x', true], ['-select|0', false], ['+select|', false], ['+|x', false], ['+nosuch|x', false],
  ['+client|kill', true], ['+acl|setuser', true],
  ['()', true], ['(+get ~x)', true], ['(+get ~x) (+set ~y)', true], ['(', false], [')', false], ['(+get', false], ['(+get ~x', false],
  ['(on)', false], ['(~* ~x)', false], ['(>pw)', false], ['(reset)', false], ['(allkeys) ~x', true], ['+get ~k (+set ~k2) &c', true],
  ['foo', false], ['*', false], ['+get ~* foo', false], ['+@read -@dangerous ~* &*', true],
  ['+@all -@dangerous ~*', true], ['+@read ~*', true], ['~* +@geo', true], ['+@all ~* &*', true],
];

/** Accepted by openrs beyond redis-server 7.0 (module commands, newer commands and categories). */
const NEWER: [string, boolean][] = [
  ['+FT.SEARCH', true], ['+ft.info +JSON.GET', true], ['-TS.ADD', true], ['+FT.CONFIG|GET', true], ['+.bad', false], ['+ft.', false],
  ['+hexpire', true], ['+client|no-touch', true], ['+waitaof', true], ['+@json', true], ['+@search', true],
  // Redis 7.0 quietly restarts a selector at a nested '('; 7.2+ refuses it, as openrs does.
  ['+GET ~key1 (+SET (+SET ~key2) ~key3)', false],
];

/** The Redis Software dialect (security/access-control/redis-acl-overview.md). */
const RS_TABLE: [string, boolean][] = [
  ['+@read +FT.INFO +FT.SEARCH', true], ['+@read +SET', true], ['~app1* %R~app2*', true], ['resetchannels &channel1 &channel2', true],
  ['+GET ~key1 (+SET ~key2)', true], ['on ~* +@all', true],
  // How the user signs in is the user's: nopass let any password in (QA); reset and off lock the user out.
  ['nopass', false], ['nopass +@all ~*', false], ['reset +@all', false], ['off ~* +@all', false], ['NOPASS', false],
  ['>secret', false], ['<secret', false], [`#${HASH}`, false], [`!${HASH}`, false], ['resetpass', false], ['RESETPASS', false],
  ['~key(1)', false], ['~key)', false], ['&chan(', false], ['(+get ~(x))', false], ['+GET ~key1 (+SET (+SET ~key2) ~key3)', false],
];

describe('checkAclRules', () => {
  it.each(TABLE)('redis dialect: %s → %s', (rules, ok) => {
    expect(checkAclRules(rules, { dialect: 'redis' }) === undefined).toBe(ok);
  });
  it.each(NEWER)('redis dialect, beyond 7.0: %s → %s', (rules, ok) => {
    expect(checkAclRules(rules, { dialect: 'redis' }) === undefined).toBe(ok);
  });
  it.each(RS_TABLE)('rs dialect: %s → %s', (rules, ok) => {
    const err = checkAclRules(rules);
    expect(err === undefined, JSON.stringify(err)).toBe(ok);
  });

  it('names the refused rule and the reason', () => {
    expect(checkAclRules('+@read +nosuch ~*')).toEqual({ rule: '+nosuch', message: 'Unknown command or category name in ACL' });
    expect(checkAclRules('(+get ~x) (+set', { dialect: 'redis' })?.message).toMatch(/^Unmatched parenthesis in acl selector starting at '\(\+set'/);
  });

  it('the pub/sub default decides whether a channel pattern needs resetchannels', () => {
    expect(checkAclRules('&news', { pubsubDefault: 'resetchannels' })).toBeUndefined();
    expect(checkAclRules('&news', { pubsubDefault: 'allchannels' })?.message).toMatch(/allchannels/);
    expect(checkAclRules('resetchannels &news', { pubsubDefault: 'allchannels' })).toBeUndefined();
    expect(checkAclRules('(&news)', { pubsubDefault: 'allchannels' })).toBeDefined();
    expect(checkAclRules('reset &news', { dialect: 'redis', pubsubDefault: 'allchannels' })).toBeDefined();
  });
});

describe('cross-check with a real redis-server (ACL SETUSER on a fresh user)', () => {
  let proc: ChildProcess | undefined;
  let redis: Redis | undefined;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    redis.on('error', () => undefined); // connection refused until redis-server listens
    await waitFor(async () => {
      await redis!.connect().catch(() => undefined);
      return (await redis!.ping()) === 'PONG';
    }, { what: 'redis-server', timeoutMs: 10_000, intervalMs: 100 });
    // Same default as the validator's: a new user starts with no channels (7.0's default too).
    await redis.call('CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels');
  });
  afterAll(async () => {
    redis?.disconnect();
    proc?.kill('SIGKILL');
  });

  it.each(TABLE.map(([r], i) => [r, i] as const))('%s', async (rules, i) => {
    const tokens = rules.split(' ').filter(Boolean);
    let real: string | undefined;
    try {
      await redis!.call('ACL', 'SETUSER', `u${i}`, ...tokens);
    } catch (e) {
      real = (e as Error).message;
    } finally {
      await redis!.call('ACL', 'DELUSER', `u${i}`);
    }
    const ours = checkAclRules(rules, { dialect: 'redis' });
    expect(ours === undefined, `redis-server: ${real ?? 'OK'}; openrs: ${JSON.stringify(ours)}`).toBe(real === undefined);
    if (real && ours) {
      // Redis: "ERR Error in ACL SETUSER modifier '<rule>': <message>" or "ERR Unmatched parenthesis ...".
      expect(real).toContain(ours.message);
      if (!ours.message.startsWith('Unmatched')) expect(real).toContain(`modifier '${ours.rule}'`);
    }
  });
});
