/**
 * Validation of Redis ACL rule strings (the `acl` of a redis_acl object) by the grammar of
 * `ACL SETUSER` (redis src/acl.c: ACLSetUser, ACLSetSelector, ACLMergeSelectorArguments), applied
 * to a new user: a rule string is accepted exactly when `ACL SETUSER <new user> <rules...>` would
 * be, with the same error messages. test/auth/acl-grammar.test.ts cross-checks a table of rules
 * against a real redis-server.
 *
 * Deliberate differences from redis-server 7.0 (docs/notes-users-roles.md):
 * - command names containing a dot (FT.SEARCH, JSON.GET ...) are accepted as module commands, and
 *   core commands and categories of Redis 7.2-8.2 are known (redis-commands.ts);
 * - a selector nested in a selector is refused, as Redis 7.2+ does (7.0 quietly restarts it).
 * The 'rs' dialect adds the restrictions of Redis Software (security/access-control/
 * redis-acl-overview.md): no password rules (`>`, `<`, `#`, `!`, `resetpass`), no `(` or `)` in
 * key or channel patterns, no nested selectors.
 */
import { createHash } from 'node:crypto';
import { REDIS_ACL_CATEGORIES, REDIS_COMMANDS } from './redis-commands.js';

export interface AclCheckOptions {
  /** 'redis': plain `ACL SETUSER`; 'rs' (default): plus the Redis Software restrictions. */
  dialect?: 'redis' | 'rs';
  /** The pub/sub default a new user starts with (acl-pubsub-default / policy acl_pubsub_default). */
  pubsubDefault?: 'resetchannels' | 'allchannels';
}

export interface AclError {
  /** The rule (or selector) that was refused, as Redis names it in its error. */
  rule: string;
  message: string;
}

const MSG = {
  ENOENT: 'Unknown command or category name in ACL',
  EINVAL: 'Syntax error',
  EEXIST: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  EISDIR: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  ENODEV: 'The password you are trying to remove from the user does not exist',
  EBADMSG: 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
  ECHILD: 'Allowing first-arg of a subcommand is not supported',
} as const;

class RuleError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface Selector {
  allkeys: boolean;
  allchannels: boolean;
}

/** C isspace() on ASCII: what separates rules. */
const SPACE = /[ \t\n\v\f\r]+/;
const HASH = /^[0-9a-f]{64}$/;
/** A module command: `<module>.<command>` (RediSearch FT.*, RedisJSON JSON.*, ...). */
const MODULE_COMMAND = /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/i;

type Lookup = { kind: 'command'; subcommands: ReadonlySet<string> | undefined } | { kind: 'subcommand' } | undefined;

/** redis lookupCommandBySds: `name` or `container|sub` (one level only). */
function lookup(name: string): Lookup {
  const parts = name.toLowerCase().split('|');
  if (parts.length > 2) return undefined;
  const [base, sub] = parts as [string, string | undefined];
  const subs = REDIS_COMMANDS.get(base);
  const isModule = subs === undefined && MODULE_COMMAND.test(base);
  if (!subs && !isModule) return undefined;
  if (sub === undefined) return { kind: 'command', subcommands: subs };
  // Module commands' subcommands are unknown here: accept them rather than guess.
  if (isModule) return { kind: 'subcommand' };
  return subs!.has(sub) ? { kind: 'subcommand' } : undefined;
}

function setSelector(s: Selector, op: string, rs: boolean): void {
  const lower = op.toLowerCase();
  if (lower === 'allkeys' || lower === '~*') {
    s.allkeys = true;
  } else if (lower === 'resetkeys') {
    s.allkeys = false;
  } else if (lower === 'allchannels' || lower === '&*') {
    s.allchannels = true;
  } else if (lower === 'resetchannels') {
    s.allchannels = false;
  } else if (['allcommands', '+@all', 'nocommands', '-@all'].includes(lower)) {
    // valid; permissions are not modelled
  } else if (op[0] === '~' || op[0] === '%') {
    if (s.allkeys) throw new RuleError(MSG.EEXIST);
    let offset = 1;
    if (op[0] === '%') {
      let r = false;
      let w = false;
      for (; offset < op.length; offset++) {
        const c = op[offset]!.toUpperCase();
        if (c === 'R' && !r) r = true;
        else if (c === 'W' && !w) w = true;
        else if (op[offset] === '~') {
          offset++;
          break;
        } else throw new RuleError(MSG.EINVAL);
      }
      if (!r && !w) throw new RuleError(MSG.EINVAL);
    }
    const pattern = op.slice(offset);
    if (/[\s\0]/.test(pattern)) throw new RuleError(MSG.EINVAL);
    if (rs && /[()]/.test(pattern)) throw new RuleError("Key patterns may not contain '(' or ')' in Redis Software");
    s.allkeys = false;
  } else if (op[0] === '&') {
    if (s.allchannels) throw new RuleError(MSG.EISDIR);
    const pattern = op.slice(1);
    if (/[\s\0]/.test(pattern)) throw new RuleError(MSG.EINVAL);
    if (rs && /[()]/.test(pattern)) throw new RuleError("Channel patterns may not contain '(' or ')' in Redis Software");
    s.allchannels = false;
  } else if (op[0] === '+' && op[1] !== '@') {
    const name = op.slice(1);
    const bar = name.lastIndexOf('|');
    if (bar < 0) {
      if (!lookup(name)) throw new RuleError(MSG.ENOENT);
      return;
    }
    const base = lookup(name.slice(0, bar));
    if (!base) throw new RuleError(MSG.ENOENT);
    if (base.kind === 'subcommand') throw new RuleError(MSG.ECHILD);
    if (bar === name.length - 1) throw new RuleError(MSG.EINVAL);
    // A container's subcommand must exist; any other command takes a first argument (+select|0).
    if (base.subcommands?.size && !lookup(name)) throw new RuleError(MSG.ENOENT);
  } else if (op[0] === '-' && op[1] !== '@') {
    if (!lookup(op.slice(1))) throw new RuleError(MSG.ENOENT);
  } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
    if (!REDIS_ACL_CATEGORIES.has(op.slice(2).toLowerCase())) throw new RuleError(MSG.ENOENT);
  } else {
    throw new RuleError(MSG.EINVAL);
  }
}

/** Join rules split on spaces back into `(...)` selectors; undefined when a `(` is never closed. */
function mergeSelectors(tokens: string[]): { ops: string[] } | { unmatched: string } {
  const ops: string[] = [];
  let open: string | undefined;
  for (const t of tokens) {
    if (open === undefined && t.startsWith('(') && !t.endsWith(')')) {
      open = t;
      continue;
    }
    if (open !== undefined) {
      open += ` ${t}`;
      if (t.endsWith(')')) {
        ops.push(open);
        open = undefined;
      }
      continue;
    }
    ops.push(t);
  }
  return open === undefined ? { ops } : { unmatched: open.split(' ')[0]! };
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Check a rule string; undefined when valid, else the refused rule and why. */
export function checkAclRules(acl: string, opts: AclCheckOptions = {}): AclError | undefined {
  const rs = (opts.dialect ?? 'rs') === 'rs';
  const pubsubAll = opts.pubsubDefault === 'allchannels';
  const merged = mergeSelectors(acl.split(SPACE).filter((t) => t !== ''));
  if ('unmatched' in merged) return { rule: merged.unmatched, message: `Unmatched parenthesis in acl selector starting at '${merged.unmatched}'.` };

  const root: Selector = { allkeys: false, allchannels: pubsubAll };
  const passwords = new Set<string>();
  for (const op of merged.ops) {
    const lower = op.toLowerCase();
    try {
      if (rs && (/^[<>#!]/.test(op) || lower === 'resetpass')) {
        throw new RuleError('Password rules are not supported in Redis Software ACLs: set user passwords with PUT /v1/users/{uid} or /v1/users/password');
      }
      // They would decide how the user signs in, which is the user's (its passwords, its status): `nopass`
      // let anyone sign in as every user mapped to the ACL with any password (QA), `reset` and `off` lock them out.
      if (rs && (lower === 'nopass' || lower === 'reset' || lower === 'off')) {
        throw new RuleError(`'${op}' is not supported in Redis Software ACLs: a user's passwords and status are set on the user (PUT /v1/users/{uid}, /v1/users/password)`);
      }
      if (['on', 'off', 'skip-sanitize-payload', 'sanitize-payload', 'clearselectors'].includes(lower)) continue;
      if (lower === 'nopass' || lower === 'resetpass') {
        passwords.clear();
      } else if (op[0] === '>' || op[0] === '#') {
        const h = op[0] === '>' ? sha256hex(op.slice(1)) : op.slice(1);
        if (!HASH.test(h)) throw new RuleError(MSG.EBADMSG);
        passwords.add(h);
      } else if (op[0] === '<' || op[0] === '!') {
        const h = op[0] === '<' ? sha256hex(op.slice(1)) : op.slice(1);
        if (!HASH.test(h)) throw new RuleError(MSG.EBADMSG);
        if (!passwords.delete(h)) throw new RuleError(MSG.ENODEV);
      } else if (op.length >= 2 && op.startsWith('(') && op.endsWith(')')) {
        const sel: Selector = { allkeys: false, allchannels: pubsubAll };
        for (const inner of op.slice(1, -1).split(SPACE).filter((t) => t !== '')) {
          if (inner.startsWith('(')) throw new RuleError(rs ? 'Nested selectors are not supported in Redis Software' : MSG.EINVAL);
          setSelector(sel, inner, rs);
        }
      } else if (lower === 'reset') {
        passwords.clear();
        root.allkeys = false;
        root.allchannels = pubsubAll;
      } else {
        setSelector(root, op, rs);
      }
    } catch (e) {
      if (e instanceof RuleError) return { rule: op, message: e.reason };
      throw e;
    }
  }
  return undefined;
}
