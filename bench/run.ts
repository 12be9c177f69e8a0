/** `npm run bench`: every benchmark in turn. Each prints its figures as ratios against a baseline measured in the same run. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
for (const file of ['proxy.ts', 'lifecycle.ts']) {
  console.log(`\n== ${file}`);
  execFileSync(process.execPath, ['--import', 'tsx', path.join(here, file), ...process.argv.slice(2)], { stdio: 'inherit' });
}
