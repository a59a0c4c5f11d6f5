/**
 * Processes the benchmark drives: the built services (`node dist/apps/<app>/src/main.js`) and
 * the harness's own child scripts (baselines, fakes host, probes), all compiled JavaScript.
 * Service output goes straight to a log file (no harness CPU spent relaying it).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export type ServiceApp = 'scheduler' | 'composer' | 'mailer' | 'inbound';

export interface ServiceHandle {
  app: ServiceApp;
  pid: number;
  url: string;
  logFile: string;
  /** SIGTERM and wait for a graceful exit (workers drain, a --cpu-prof profile is written). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Fetches /metrics as text. */
  metrics(): Promise<string>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function exitOf(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

async function stopProcess(proc: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  const exited = exitOf(proc);
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

const tail = (file: string) => {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
};

/** `dist` is the run's snapshot of dist/ (a rebuild by someone else mid-run cannot change the code under test). */
export async function startService(
  root: string,
  dist: string,
  app: ServiceApp,
  env: Record<string, string>,
  opts: { logFile: string; nodeArgs?: string[]; readyTimeoutMs?: number },
): Promise<ServiceHandle> {
  const port = await freePort();
  const fd = openSync(opts.logFile, 'a');
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(dist, 'apps', app, 'src/main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const handle: ServiceHandle = {
    app,
    pid: proc.pid ?? -1,
    url,
    logFile: opts.logFile,
    stop: (timeoutMs = 60_000) => stopProcess(proc, timeoutMs),
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${app} exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${tail(opts.logFile)}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(proc, 5_000);
  throw new Error(`${app} not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail(opts.logFile)}`);
}

/** A child script speaking a tiny request/response protocol over IPC: {id, cmd, args} → {id, result | error}. */
export interface ChildHandle {
  pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Resolves with the next message of this `type` the child sends on its own (e.g. 'done'). */
  next<T = unknown>(type: string, timeoutMs?: number): Promise<T>;
  stop(timeoutMs?: number): Promise<number | null>;
}

interface Reply {
  id?: number;
  type?: string;
  result?: unknown;
  error?: string;
  [k: string]: unknown;
}

export async function startChild(script: string, env: Record<string, string>, opts: { logFile: string; readyTimeoutMs?: number }): Promise<ChildHandle> {
  const fd = openSync(opts.logFile, 'a');
  const proc = fork(script, [], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', fd, fd, 'ipc'] });
  closeSync(fd);
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }[]>();
  const inbox = new Map<string, Reply[]>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    for (const list of waiters.values()) for (const w of list) w.reject(err);
    waiters.clear();
  };
  proc.on('message', (msg: Reply) => {
    if (typeof msg.id === 'number' && pending.has(msg.id)) {
      const p = pending.get(msg.id)!;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
      return;
    }
    if (typeof msg.type === 'string') {
      const list = waiters.get(msg.type);
      if (list?.length) list.shift()!.resolve(msg);
      else inbox.set(msg.type, [...(inbox.get(msg.type) ?? []), msg]);
    }
  });
  proc.on('exit', (code, signal) => failAll(new Error(`${script} exited (${code ?? signal}):\n${tail(opts.logFile)}`)));

  const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      p.then(
        (v) => (clearTimeout(t), resolve(v)),
        (e) => (clearTimeout(t), reject(e)),
      );
    });

  const handle: ChildHandle = {
    pid: proc.pid ?? -1,
    call: <T>(cmd: string, args?: unknown, timeoutMs = 600_000) => {
      const id = ++seq;
      const p = new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
      proc.send({ id, cmd, args });
      return withTimeout(p, timeoutMs, `${cmd} on ${script}`);
    },
    next: <T>(type: string, timeoutMs = 600_000) => {
      const queued = inbox.get(type);
      if (queued?.length) return Promise.resolve(queued.shift() as T);
      const p = new Promise<T>((resolve, reject) => waiters.set(type, [...(waiters.get(type) ?? []), { resolve: resolve as (v: unknown) => void, reject }]));
      return withTimeout(p, timeoutMs, `waiting for "${type}" from ${script}`);
    },
    stop: (timeoutMs = 30_000) => stopProcess(proc, timeoutMs),
  };
  await handle.next('ready', opts.readyTimeoutMs ?? 60_000);
  return handle;
}
