/**
 * Starts built services (dist/) as real child processes for cross-app tests and waits until
 * `/health/ready` answers 200. Output is kept in memory and printed only when a start fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type AppName = 'api' | 'scheduler' | 'composer' | 'mailer' | 'inbound';
const ROOT = join(__dirname, '..', '..');

export interface ServiceProcess {
  app: AppName;
  port: number;
  url: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL (crash simulation). */
  kill(): Promise<void>;
}

/** The kernel's ephemeral port range (Linux's file; its usual default elsewhere). */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/**
 * A random first port of `span` consecutive ports, all in [`from`, the ephemeral range). Ports a
 * test chooses itself come from below that range: every outgoing connection (to Postgres, Redis…)
 * takes its local port from inside it, so a port chosen there can be taken between a check and a
 * bind, or between a stop and a restart on the same port.
 */
export function portBelowEphemeral(span = 1, from = 15_000): number {
  const [low] = ephemeralPortRange();
  const top = low - span;
  if (top <= from) throw new Error(`no room for ${span} ports between ${from} and the ephemeral range (${low})`);
  return from + Math.floor(Math.random() * (top - from));
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

export async function startServiceProcess(app: AppName, env: Record<string, string>, opts: { readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
  const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  const extra: Record<string, string> = {};
  if (app === 'inbound' && !env.INBOUND_SMTP_PORT) extra.INBOUND_SMTP_PORT = String(await freePort());
  const proc = spawn(process.execPath, [join(ROOT, 'dist/apps', app, 'src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, ...extra, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const svc: ServiceProcess = {
    app, port, url, proc, exited,
    output: () => out,
    async stop(timeoutMs = 30_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${app} exited with ${proc.exitCode} before ready:\n${out.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) return svc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await svc.kill();
  throw new Error(`${app} not ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${out.slice(-4000)}`);
}

/** Polls until `fn` returns a truthy value; rejects with `what` on timeout. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
