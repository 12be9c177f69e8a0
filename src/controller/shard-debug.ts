/**
 * What a shard tells about itself for a debug info archive (requests/debuginfo, requests/bdbs/debuginfo.md): its
 * INFO, its live configuration, its slow log, its generated redis.conf and ACL file, and the end of its log. Secrets
 * (passwords, password hashes) are replaced by `<redacted>`: the archive is meant to be handed to someone else.
 */
import fs from 'node:fs';
import { shardFiles } from '../redis/conf-file.js';
import { readTail } from '../util/fs.js';
import type { ShardSummary } from '../services/shard-inventory.js';
import type { DataPlane } from './data-plane.js';

/** How much of the end of a log goes into the archive. */
const LOG_TAIL_BYTES = 1024 * 1024;
const REDACTED = '<redacted>';
/** Configuration names whose values are secrets. */
const SECRET = /pass|auth|secret/i;

/** CONFIG GET * as `name value` lines, secrets redacted. */
function configLines(reply: unknown): string {
  const flat = (Array.isArray(reply) ? reply : []).map(String);
  const lines: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) lines.push(`${flat[i]} ${SECRET.test(flat[i]!) && flat[i + 1] ? REDACTED : flat[i + 1]}`);
  return `${lines.sort().join('\n')}\n`;
}

/** redis.conf with secret directives' values redacted. */
export function redactConf(text: string): string {
  return text.replace(/^(\s*(\S+)\s+)(.+)$/gm, (line, head: string, name: string) => (SECRET.test(name) ? `${head}${REDACTED}` : line));
}

/** An ACL file with its passwords (`>plain`) and hashes (`#sha256`) redacted; the rules stay. */
export function redactAcl(text: string): string {
  return text.replace(/(^|\s)[>#<!]\S+/g, `$1#${REDACTED}`);
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** File name → content for one shard. A shard that does not answer gives its files and says why in errors.txt. */
export async function shardDebugFiles(plane: DataPlane, s: ShardSummary): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const errors: string[] = [];
  const admin = plane.admin(s);
  const ask = async (file: string, name: string, args: string[], format: (r: unknown) => string) => {
    try {
      out[file] = format(await admin.command(name, args, 2000));
    } catch (e) {
      errors.push(`${name} ${args.join(' ')}: ${(e as Error).message}`);
    }
  };
  // At once: a shard that does not answer costs one timeout, not three.
  await Promise.all([
    ask('info.txt', 'INFO', ['everything'], String),
    ask('config.txt', 'CONFIG', ['GET', '*'], configLines),
    ask('slowlog.json', 'SLOWLOG', ['GET', '128'], (r) => `${JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString() : v), 1)}\n`),
  ]);
  if (s.dir) {
    const f = shardFiles(s.dir);
    const conf = read(f.conf);
    if (conf !== undefined) out['redis.conf'] = redactConf(conf);
    const acl = read(f.acl);
    if (acl !== undefined) out['users.acl'] = redactAcl(acl);
    for (const [name, file] of [['redis.log', f.log], ['redis.out', f.out]] as const) {
      const t = readTail(file, LOG_TAIL_BYTES);
      if (t !== undefined) out[name] = t;
    }
  }
  if (errors.length) out['errors.txt'] = `${errors.join('\n')}\n`;
  return out;
}
