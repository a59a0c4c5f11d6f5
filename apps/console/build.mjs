#!/usr/bin/env node
// Bundles the web console (apps/console/src: vanilla TypeScript + CSS) with esbuild into
// dist/apps/console/assets/ under content-hashed names, and writes dist/apps/console/manifest.json
// mapping logical names ("main.js", "main.css", "favicon.svg") to their public URLs. The api's
// console module (apps/api/src/console) reads the manifest to build the HTML shell, so a new
// deploy never serves a stale cached bundle and the assets can be cached forever. Run by
// scripts/build.mjs (the console is bundled only, never compiled by SWC).
//
// A rebuild never leaves a moment without the files a running api serves: the bundle is written
// to a scratch directory, then each file is renamed into place (a same-named file — same content,
// since names are content hashes — is replaced atomically), the manifest last; files no manifest
// names any more are removed after. (`npm start` rebuilds while other services may be serving.)
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const webSrc = join(here, 'src');
const outRoot = join(root, 'dist', 'apps', 'console');
const assetsDir = join(outRoot, 'assets');

const scratch = join(outRoot, `.build-${process.pid}`);
const scratchAssets = join(scratch, 'assets');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratchAssets, { recursive: true });
mkdirSync(assetsDir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(webSrc, 'main.ts'), join(webSrc, 'styles', 'letter.css'), join(webSrc, 'assets', 'favicon.svg')],
  outdir: scratchAssets,
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
const fresh = readdirSync(scratchAssets);
for (const name of fresh) renameSync(join(scratchAssets, name), join(assetsDir, name));
writeFileSync(join(scratch, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
renameSync(join(scratch, 'manifest.json'), join(outRoot, 'manifest.json'));
rmSync(scratch, { recursive: true, force: true });
for (const name of readdirSync(assetsDir)) if (!fresh.includes(name)) rmSync(join(assetsDir, name), { force: true });
if (!process.env.QUIET_BUILD) console.log(`built web console → ${relative(root, outRoot)} (${Object.keys(manifest).join(', ')})`);
