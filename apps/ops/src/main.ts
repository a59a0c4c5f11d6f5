/**
 * The operator CLI: `npm run mz -- <command> [options]` (after `npm run build`). It reads the same
 * environment as the services (validated by the same schema) and never starts a service.
 */
import { runCli } from './run-cli';

/**
 * A one-shot command: once it has finished, nothing may keep the process alive — e.g. a Redis
 * connection opened before Postgres refused us, which no application context exists to close.
 * Normally the process has already exited by then; the grace lets stdout/stderr drain into a pipe.
 */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

// The CLI is not the inbound service: without APP the configuration would hold it to the MX's
// production checks (a TLS certificate it never serves).
runCli(process.argv.slice(2), { env: { APP: 'mz', ...process.env }, out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }).then(
  finish,
  (err: unknown) => {
    process.stderr.write(`mz: ${(err as Error)?.stack ?? err}\n`);
    finish(1);
  },
);
