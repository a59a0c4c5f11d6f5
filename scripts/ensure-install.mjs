#!/usr/bin/env node
/**
 * A fresh clone sets itself up: `npm start` and `npm test` call this first. When node_modules is
 * missing or does not match package-lock.json, it runs `npm ci` (one line says so); otherwise it
 * costs a stat or two. Node built-ins only — it runs before anything is installed.
 *
 * The stamp (node_modules/.mz-install-stamp) holds the sha256 of the package-lock.json it was
 * installed from. A stamp newer than the lockfile is trusted without reading anything; an older
 * one (a git checkout touches mtimes) is confirmed by hash. An install made by hand (no stamp) is
 * accepted when npm's own record of it (node_modules/.package-lock.json) has every locked package
 * at its locked version.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const STAMP = '.mz-install-stamp';

/** Why an install is needed, or null when node_modules matches the lockfile. */
export function installNeeded(root) {
  const lockPath = join(root, 'package-lock.json');
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return 'node_modules is missing';
  const stampPath = join(modules, STAMP);
  const lockTime = statSync(lockPath).mtimeMs;
  if (existsSync(stampPath) && statSync(stampPath).mtimeMs >= lockTime) return null;
  const lock = readFileSync(lockPath);
  const hash = createHash('sha256').update(lock).digest('hex');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8').trim() === hash) {
    touch(stampPath);
    return null;
  }
  const mismatch = hiddenLockMismatch(modules, JSON.parse(lock.toString('utf8')));
  if (mismatch) return existsSync(stampPath) ? 'package-lock.json changed since the last install' : mismatch;
  writeFileSync(stampPath, `${hash}\n`);
  return null;
}

/** Compares npm's record of what is installed with the lockfile; a reason, or null when they agree. */
function hiddenLockMismatch(modules, lock) {
  const hiddenPath = join(modules, '.package-lock.json');
  if (!existsSync(hiddenPath)) return 'node_modules was not installed from package-lock.json';
  const installed = JSON.parse(readFileSync(hiddenPath, 'utf8')).packages ?? {};
  for (const [path, pkg] of Object.entries(lock.packages ?? {})) {
    // The root entry and optional packages for other platforms are never installed.
    if (!path || pkg.optional) continue;
    if (installed[path]?.version !== pkg.version) return 'node_modules is older than package-lock.json';
  }
  return null;
}

function touch(path) {
  const now = new Date();
  utimesSync(path, now, now);
}

/** Installs from the lockfile when needed; exits the process when npm ci fails. */
export function ensureInstalled(root, log = (m) => console.log(m)) {
  const reason = installNeeded(root);
  if (!reason) return false;
  log(`${reason}: installing from package-lock.json (npm ci)…`);
  // Under `npm start`/`npm test`, npm tells us which npm runs us; otherwise the one on PATH.
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const res = spawnSync(cmd, [...args, 'ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`npm ci failed (${res.error?.message ?? `exit ${res.status}`}); fix the message above and run it again`);
    process.exit(1);
  }
  writeFileSync(join(root, 'node_modules', STAMP), `${createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex')}\n`);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureInstalled(join(dirname(fileURLToPath(import.meta.url)), '..'));
}
