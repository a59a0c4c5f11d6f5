#!/usr/bin/env node
/**
 * `npm start` — the whole product locally: installs node_modules when missing or stale, refuses at
 * once when a port it needs is taken, checks Postgres and Redis, creates the database if missing,
 * migrates and seeds, starts a local mail catcher (unless SMTP_URL is set) and all five services,
 * prints the URLs once the processes THIS run started are ready, and stops everything on Ctrl-C.
 *
 * Quiet by default: Nest's route map and module wiring are debug lines here (production's JSON
 * logs are untouched); `npm start -- --verbose` or LOG_LEVEL=debug shows everything.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './ensure-install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const children = [];
let stopping = false;
let ready = false;

const verbose = process.argv.includes('--verbose') || ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
/** Nest's start-up chatter: one line per route and module, useful only when debugging wiring. */
const DEBUG_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'NestFactory', 'NestApplication']);

function log(msg) {
  console.log(`\x1b[36m[mentor-zero]\x1b[0m ${msg}`);
}

function fail(msg) {
  console.error(`\x1b[31m[mentor-zero]\x1b[0m ${msg}`);
  shutdown(1);
}

// Which ports this run needs, from the environment as given (config is validated after the build;
// a bad value is reported there). PORT_BASE moves the five HTTP ports together.
const intEnv = (name, def) => (/^\d+$/.test(process.env[name] ?? '') ? Number(process.env[name]) : def);
const portBase = intEnv('PORT_BASE', 3000);
const services = ['api', 'inbound', 'scheduler', 'composer', 'mailer'].map((name, i) => [name, portBase + i]);
const runMailCatcher = !process.env.SMTP_URL;
const mailSmtpPort = intEnv('MAILDEV_SMTP_PORT', 1025);
const mailWebPort = intEnv('MAILDEV_WEB_PORT', 1080);
const needed = [
  ...services.map(([name, port]) => ({ port, what: `${name} HTTP`, variable: 'PORT_BASE' })),
  { port: intEnv('INBOUND_SMTP_PORT', 2525), what: 'inbound SMTP', variable: 'INBOUND_SMTP_PORT' },
  ...(runMailCatcher ? [
    { port: mailSmtpPort, what: 'mail catcher SMTP', variable: 'MAILDEV_SMTP_PORT' },
    { port: mailWebPort, what: 'mail catcher web', variable: 'MAILDEV_WEB_PORT' },
  ] : []),
];

/** Whether something already listens on the port (any address: the services bind 0.0.0.0). */
function portBusy(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(false)));
  });
}

const busy = (await Promise.all(needed.map(async (n) => ((await portBusy(n.port)) ? n : null)))).filter(Boolean);
if (busy.length) {
  for (const n of busy) {
    console.error(`port ${n.port} (${n.what}) is in use — is Mentor Zero already running? Stop it, or set ${n.variable} to use another port`);
  }
  process.exit(1);
}

ensureInstalled(root, log);
log('building…');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, QUIET_BUILD: '1' } });

const { parseConfig, ConfigError } = require(join(root, 'dist/libs/contracts/src/config.js'));
const env = { ...process.env };
env.DEFAULT_ADMIN_EMAILS ??= 'admin@mentor.localhost';
if (process.env.PORT_BASE) env.APP_BASE_URL ??= `http://localhost:${portBase}`;
if (runMailCatcher) env.SMTP_URL = `smtp://127.0.0.1:${mailSmtpPort}`;
if (verbose) env.LOG_LEVEL ??= 'debug';
// Every child's /health/ready answers with this run's id: "running" means OUR processes are ready,
// never that some other stack answered on the same ports.
const instanceId = randomUUID();
let config;
try {
  config = parseConfig(env);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}

async function checkPostgres() {
  const { Client } = require('pg');
  const url = new URL(config.DATABASE_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (err) {
    fail(`PostgreSQL is not reachable at ${url.host} (${err.message}). Three ways to get one:
  1. Debian/Ubuntu:  sudo apt-get install -y postgresql && sudo pg_ctlcluster $(ls /etc/postgresql) main start
  2. Docker:         docker run -d --name mz-postgres -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
  3. macOS:          brew install postgresql@16 && brew services start postgresql@16
Or point DATABASE_URL at an existing server (the database itself is created if missing).`);
  }
}

async function checkRedis() {
  const Redis = require('ioredis');
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    redis.disconnect();
  } catch (err) {
    redis.disconnect();
    fail(`Redis is not reachable at ${config.REDIS_URL} (${err.message}). Three ways to get one:
  1. Debian/Ubuntu:  sudo apt-get install -y redis-server && redis-server --daemonize yes
  2. Docker:         docker run -d --name mz-redis -p 6379:6379 redis:7 --maxmemory-policy noeviction
  3. macOS:          brew install redis && brew services start redis
Or point REDIS_URL at an existing server.`);
  }
}

function start(name, args, extraEnv = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `\x1b[35m${name.padEnd(9)}\x1b[0m│ `;
  const relay = (stream, out) => {
    let buf = '';
    stream.on('data', (chunk) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const line of lines) {
        const text = pretty(line);
        if (text !== null) out.write(prefix + text + '\n');
      }
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited unexpectedly (${signal ?? code})`);
  });
  children.push({ name, child });
  return child;
}

/**
 * JSON log lines → "level message" for humans; anything else unchanged. Null hides the line: at the
 * default level, Nest's route map and module wiring (debug chatter logged at info) and the info
 * lines of a service starting up — the "ready" line below says the same thing once.
 */
function pretty(line) {
  try {
    const j = JSON.parse(line);
    if (!verbose && j.level === 'info' && (DEBUG_CONTEXTS.has(j.context) || !ready)) return null;
    const extra = Object.entries(j)
      .filter(([k]) => !['level', 'time', 'service', 'msg', 'context', 'pid', 'hostname'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ');
    return `${j.level ?? ''} ${j.context ? `[${j.context}] ` : ''}${j.msg ?? ''} ${extra}`.trim();
  } catch {
    return line;
  }
}

async function waitReady(name, port, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.status === 200 && (await res.json()).instance === instanceId) {
        log(`${name} ready on :${port}`);
        return;
      }
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!stopping) fail(`${name} did not become ready within ${timeoutMs / 1000}s`);
  await new Promise(() => undefined); // shutting down: never go on to "running"
}

function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  const alive = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  if (!alive.length) process.exit(code);
  log('stopping…');
  let left = alive.length;
  for (const { child } of alive) {
    child.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    child.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const { child } of alive) child.kill('SIGKILL');
    process.exit(code || 1);
  }, 40_000).unref();
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

await checkPostgres();
await checkRedis();
log('database: create if missing, migrate, seed…');
execFileSync(process.execPath, [join(root, 'dist/libs/db/src/cli.js'), 'setup'], { cwd: root, stdio: 'inherit', env });

let mailUi = null;
if (runMailCatcher) {
  start('maildev', [join(root, 'node_modules/maildev/bin/maildev'), '--smtp', String(mailSmtpPort), '--web', String(mailWebPort), '--ip', '127.0.0.1', '--silent']);
  mailUi = `http://localhost:${mailWebPort}`;
}

log('starting the services…');
for (const [name, port] of services) start(name, [join(root, 'dist/apps', name, 'src/main.js')], { PORT: String(port), INSTANCE_ID: instanceId });
await Promise.all(services.map(([name, port]) => waitReady(name, port)));
ready = true;

const base = config.APP_BASE_URL;
console.log(`
  \x1b[1mMentor Zero is running\x1b[0m
  Web console        ${base}            (admin: sign in as ${config.DEFAULT_ADMIN_EMAILS.join(', ')})
  API docs           ${base}/api/docs
  Bull Board         ${base}/admin/queues   (admin session)
  Mail catcher       ${mailUi ?? `(SMTP_URL set: mail goes to ${new URL(config.SMTP_URL).host})`}
  Inbound            SMTP 127.0.0.1:${config.INBOUND_SMTP_PORT}, webhook http://localhost:${services[1][1]}/webhooks/reply
  Metrics            http://localhost:{${services.map(([, p]) => p).join(',')}}/metrics
  Composer           ${config.LLM_BASE_URL ? `LLM at ${config.LLM_BASE_URL} (${config.LLM_MODEL})` : 'offline composer (set LLM_BASE_URL to use an LLM)'}
  Press Ctrl-C to stop.
`);
