// Runs the whole suite with Node's test runner on every supported Node.js (20, 24, 26): the files
// are listed here and handed over by name, because `node --test <directory>` finds them on Node 20
// only (22 and later read a directory argument as a module to run) and a glob finds them on 21+
// only. Arguments after the script are test file filters: `npm test -- hub store/sqlite`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How many test files run at once (each is its own process); the suite is sized for two cores. */
const CONCURRENCY = process.env.PORTHOUSE_TEST_CONCURRENCY ?? '2';

const root = fileURLToPath(new URL('../test/', import.meta.url));

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(path));
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
  return files.sort();
}

const filters = process.argv.slice(2);
const files = testFiles(root).filter((file) => {
  const name = relative(root, file).split(sep).join('/');
  return filters.length === 0 || filters.some((f) => name.includes(f));
});
if (files.length === 0) {
  process.stderr.write(`no test file under ${root} matches ${filters.join(', ')}\n`);
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--test', `--test-concurrency=${CONCURRENCY}`, ...files], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
