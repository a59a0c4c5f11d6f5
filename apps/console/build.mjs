#!/usr/bin/env node
// Bundles the web console (apps/console/src: vanilla TypeScript + CSS) with esbuild into
// dist/apps/console/assets/ under content-hashed names, and writes dist/apps/console/manifest.json
// mapping logical names ("main.js", "main.css", "favicon.svg") to their public URLs. The api's
// console module (apps/api/src/console) reads the manifest to build the HTML shell, so a new
// deploy never serves a stale cached bundle and the assets can be cached forever. Run by
// scripts/build.mjs (the console is bundled only, never compiled by SWC).
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const webSrc = join(here, 'src');
const outRoot = join(root, 'dist', 'apps', 'console');
const assetsDir = join(outRoot, 'assets');

rmSync(outRoot, { recursive: true, force: true });
mkdirSync(assetsDir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(webSrc, 'main.ts'), join(webSrc, 'styles', 'letter.css'), join(webSrc, 'assets', 'favicon.svg')],
  outdir: assetsDir,
  outbase: webSrc,
  // Flat, hashed names: /assets/main-3FJ2K1QX.js, /assets/main-Q7C2.css, /assets/favicon-….svg
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  loader: { '.svg': 'copy' },
  metafile: true,
  logLevel: 'warning',
  tsconfig: join(here, 'tsconfig.json'),
});

const manifest = {};
const publicUrl = (file) => `/assets/${basename(file)}`;
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const entry = basename(meta.entryPoint);
  const logical = `${entry.slice(0, entry.lastIndexOf('.'))}${file.slice(file.lastIndexOf('.'))}`;
  manifest[logical] = publicUrl(file);
  // CSS imported by a script entry comes out as a sibling bundle (main.ts → main-HASH.css).
  if (meta.cssBundle) manifest[logical.replace(/\.js$/, '.css')] = publicUrl(meta.cssBundle);
}
if (!manifest['main.js'] || !manifest['main.css'] || !manifest['letter.css']) throw new Error(`web bundle incomplete: ${JSON.stringify(manifest)}`);
writeFileSync(join(outRoot, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
if (!process.env.QUIET_BUILD) console.log(`built web console → ${relative(root, outRoot)} (${Object.keys(manifest).join(', ')})`);
