#!/usr/bin/env node
// `npm run db:migrate | db:revert | db:seed`: builds the db lib, then runs its CLI.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'libs/contracts', 'libs/schedule', 'libs/db'], { cwd: root, stdio: 'inherit', env: { ...process.env, QUIET_BUILD: '1' } });
try {
  execFileSync(process.execPath, [join(root, 'dist/libs/db/src/cli.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
} catch (err) {
  process.exit(err.status ?? 1);
}
