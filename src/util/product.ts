/**
 * What this build reports about itself. `software_version` uses the RS format MAJOR.MINOR.PATCH-BUILD
 * so that tooling that parses or compares it keeps working; the MAJOR.MINOR.PATCH part is the
 * RS API level openrs implements (see docs/decisions.md), the BUILD part is openrs's own release.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** package.json is two levels up from src/ and three from dist/src/: find it rather than guess. */
function readPackage(): { version: string } {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  }
  throw new Error('package.json not found');
}
const pkg = readPackage();

export const OPENRS_VERSION = pkg.version;
export const RS_API_LEVEL = '7.22.0';
/** e.g. 7.22.0-100 for openrs 0.1.0: BUILD = major*10000 + minor*100 + patch. */
export const SOFTWARE_VERSION = `${RS_API_LEVEL}-${OPENRS_VERSION.split('.').map(Number).reduce((acc, n) => acc * 100 + n, 0)}`;
export const SOFTWARE_VERSION_SHA = createHash('sha256').update(`openrs-${OPENRS_VERSION}`).digest('hex');

export interface DatabaseVersion {
  db_type: 'redis';
  version: string;
  redis_version: string;
  major: boolean;
}

/** Ask the installed redis-server for its version; undefined when it is not installed. */
export async function detectRedisVersion(redisServer: string): Promise<DatabaseVersion | undefined> {
  try {
    const { stdout } = await promisify(execFile)(redisServer, ['--version'], { timeout: 5000 });
    const m = /v=([0-9]+)\.([0-9]+)\.([0-9]+)/.exec(stdout);
    if (!m) return undefined;
    return { db_type: 'redis', version: `${m[1]}.${m[2]}.${m[3]}`, redis_version: `${m[1]}.${m[2]}`, major: true };
  } catch {
    return undefined;
  }
}
