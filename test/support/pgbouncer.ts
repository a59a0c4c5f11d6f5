/**
 * A real PgBouncer in transaction mode in front of the test Postgres, for one test file: its own
 * config and port in a temp dir, started as a child process and killed by `stop()`. `restart()`
 * kills it (-9) and starts it again on the same port — the "restart PgBouncer mid-burst" fault.
 * The binary is PGBOUNCER_BIN or /opt/pgbouncer-1.24 (scripts/install-pgbouncer.sh builds it):
 * named prepared statements in transaction mode need PgBouncer >= 1.21.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverUrl } from './pg-admin';

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/opt/pgbouncer-1.24/bin/pgbouncer';

export interface PgBouncerOptions {
  /** 0 turns prepared-statement tracking off (what PgBouncer < 1.21 does). */
  maxPreparedStatements?: number;
  /** Server connections per database/user pair. */
  poolSize?: number;
}

export interface TestPgBouncer {
  port: number;
  /** The running pgbouncer process (its CPU is part of a request's cost through it). */
  readonly pid: number | undefined;
  /** The URL of `database` through PgBouncer (same user and password as the direct URL). */
  urlFor(database: string): string;
  restart(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startPgBouncer(opts: PgBouncerOptions = {}): Promise<TestPgBouncer> {
  if (!existsSync(PGBOUNCER_BIN)) throw new Error(`PgBouncer not found at ${PGBOUNCER_BIN}: run scripts/install-pgbouncer.sh (or set PGBOUNCER_BIN)`);
  const upstream = serverUrl();
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const dir = mkdtempSync(join(tmpdir(), 'mz-pgbouncer-'));
  const port = await freePort();
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  writeFileSync(join(dir, 'users.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  // PgBouncer refuses to run as root; as root (CI containers) it drops to `nobody`, who must
  // own the dir for its log and auth file.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim()));
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'users.txt'), uid, gid);
  }
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    'pool_mode = transaction',
    `max_prepared_statements = ${opts.maxPreparedStatements ?? 200}`,
    `default_pool_size = ${opts.poolSize ?? 8}`,
    'max_client_conn = 1000',
    // node-pg sends no such parameters; TypeORM may. PgBouncer refuses unknown ones otherwise.
    'ignore_startup_parameters = extra_float_digits,options',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
    'log_connections = 0',
    'log_disconnections = 0',
    ...(asRoot ? ['user = nobody'] : []),
    '',
  ].join('\n'));

  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(PGBOUNCER_BIN, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (proc.exitCode !== null) throw new Error(`pgbouncer exited ${proc.exitCode}: ${readLog()}`);
      if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}: ${readLog()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  };
  const readLog = () => {
    try {
      return readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
    } catch {
      return '';
    }
  };

  await start();
  return {
    port,
    get pid() {
      return proc?.pid;
    },
    urlFor(database: string) {
      const u = new URL(upstream.toString());
      u.hostname = '127.0.0.1';
      u.port = String(port);
      u.pathname = `/${database}`;
      return u.toString();
    },
    async restart() {
      await kill();
      await start();
    },
    log: readLog,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
