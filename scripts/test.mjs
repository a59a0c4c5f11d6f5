#!/usr/bin/env node
/**
 * `npm test` — every test, on a fresh clone too: installs node_modules from the lockfile when
 * needed, provisions the system tools some suites need (or stops, naming each missing one, before
 * any test runs), checks that Postgres and Redis answer, then runs Jest with the arguments given
 * (`npm test -- apps/inbound`, `npm test -- -t 'quiet start'`). Jest's global setup is unchanged.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './ensure-install.mjs';
import { provision } from './provision-test-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

ensureInstalled(root);
const provisioned = provision();
if (provisioned !== 0) process.exit(provisioned);

/** The servers the tests use (test/support/pg-admin.ts and test-env.ts read the same variables). */
const servers = [
  ['PostgreSQL', process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 5432, 'TEST_DATABASE_URL'],
  ['Redis', process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 6379, 'TEST_REDIS_URL'],
];
const unreachable = (
  await Promise.all(servers.map(async ([name, url, defaultPort, variable]) => {
    const { hostname, port } = new URL(url);
    const host = hostname.replace(/^\[|\]$/g, '');
    const ok = await new Promise((resolve) => {
      const socket = connect({ host, port: Number(port || defaultPort), timeout: 3000 });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => { socket.destroy(); resolve(false); });
    });
    return ok ? null : `  ${name} is not reachable at ${host}:${port || defaultPort}: start it (\`npm start\` prints how), or set ${variable}`;
  }))
).filter(Boolean);
if (unreachable.length) {
  console.error('The tests need PostgreSQL and Redis (no test was run):');
  for (const line of unreachable) console.error(line);
  process.exit(1);
}

const jest = spawn(process.execPath, [join(root, 'node_modules/jest/bin/jest.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches Jest through the terminal's process group; a plain kill of this process is passed on.
process.on('SIGTERM', () => jest.kill('SIGTERM'));
process.on('SIGINT', () => undefined);
jest.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
