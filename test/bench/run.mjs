#!/usr/bin/env node
// `npm run bench [-- options]`: builds the services (dist/), compiles the harness and the fakes
// (TypeScript under test/bench and test/fakes) with SWC into node_modules/.cache, and runs it.
// `npm run bench -- --help` lists the options; docs/performance.md explains the figures.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);

if (!argv.includes('--no-build') && !argv.includes('--help') && !argv.includes('-h')) {
  console.log('[bench] building dist/ (node scripts/build.mjs; --no-build skips)');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, QUIET_BUILD: '1' } });
}

// Inside the repo, so the compiled files resolve bullmq, pg, smtp-server… from its node_modules.
const cache = join(root, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'mz-bench-'));
const swc = join(root, 'node_modules/@swc/cli/bin/swc.js');
try {
  execFileSync(process.execPath, [swc, 'test/bench', 'test/fakes', 'test/support', '-d', out, '--config-file', '.swcrc', '--quiet',
    '--ignore', '**/*.spec.ts,**/*.e2e-spec.ts'], { cwd: root, stdio: 'inherit' });
  // The services run from a private copy of dist/: other work in this tree rebuilds dist/ at any
  // moment, and a run must test one version of the code (and one set of migrations) throughout.
  cpSync(join(root, 'dist'), join(out, 'dist'), { recursive: true });
  process.env.MZ_ROOT = root;
  process.env.MZ_DIST = join(out, 'dist');
  const require = createRequire(import.meta.url);
  await require(join(out, 'test/bench/bench.js')).main(argv);
} finally {
  rmSync(out, { recursive: true, force: true });
}
// Whatever a library left open (a pool's idle timer, a socket), the run is over.
process.exit(process.exitCode ?? 0);
