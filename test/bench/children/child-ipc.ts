/** The child side of the harness's IPC protocol (see bench-processes.ts `startChild`). */

export type Handlers = Record<string, (args: any) => unknown>;

export function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

/** Answers {id, cmd, args} requests with {id, result} or {id, error}; announces 'ready'. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('run me with child_process.fork (an IPC channel is required)');
  process.on('message', (msg: { id: number; cmd: string; args?: unknown }) => {
    const handler = handlers[msg.cmd];
    if (!handler) return send({ id: msg.id, error: `unknown command "${msg.cmd}"` });
    Promise.resolve()
      .then(() => handler(msg.args))
      .then(
        (result) => send({ id: msg.id, result: result ?? null }),
        (err: unknown) => send({ id: msg.id, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
      );
  });
  // The parent's SIGTERM ends us; so does losing the parent.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}
