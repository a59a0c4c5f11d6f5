#!/usr/bin/env node
// Builds projects to dist/ with SWC (decorator metadata on, @mz/* path aliases rewritten to
// relative requires), copies non-TypeScript assets, and runs per-project extra build steps
// (e.g. the web console's bundle). `node scripts/build.mjs` builds everything;
// `node scripts/build.mjs apps/api` builds one project.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const all = ['libs/contracts', 'libs/db', 'libs/platform', 'libs/schedule', 'libs/domain', 'libs/llm', 'libs/api-schemas', 'libs/line-diff', 'apps/api', 'apps/console', 'apps/scheduler', 'apps/composer', 'apps/mailer', 'apps/inbound', 'apps/ops'];
const targets = process.argv.slice(2).length ? process.argv.slice(2) : all;
const swcBin = join(root, 'node_modules/@swc/cli/bin/swc.js');
const ASSET = /\.(json|txt|md|html|css|svg|eml|hbs)$/;

function copyAssets(dir) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    const abs = join(root, rel);
    if (statSync(abs).isDirectory()) copyAssets(rel);
    else if (ASSET.test(name)) cpSync(abs, join(root, 'dist', rel));
  }
}

/** Browser bundles: built by their own build.mjs (esbuild) only, never compiled for Node. */
const BUNDLED_ONLY = new Set(['apps/console']);

for (const project of targets) {
  const src = join(project, 'src');
  if (!existsSync(join(root, src))) continue;
  if (!BUNDLED_ONLY.has(project)) {
    execFileSync(process.execPath, [swcBin, src, '-d', 'dist', '--config-file', '.swcrc', '--quiet',
      '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts'], { cwd: root, stdio: 'inherit' });
    copyAssets(src);
  }
  const extra = join(root, project, 'build.mjs');
  if (existsSync(extra)) execFileSync(process.execPath, [extra], { cwd: root, stdio: 'inherit' });
  if (!process.env.QUIET_BUILD) console.log(`built ${relative(root, join(root, project))}`);
}
