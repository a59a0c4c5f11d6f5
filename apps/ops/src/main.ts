/**
 * The operator CLI: `npm run mz -- <command> [options]` (after `npm run build`). It reads the same
 * environment as the services (validated by the same schema) and never starts a service.
 */
import { runCli } from './run-cli';

runCli(process.argv.slice(2), { env: process.env, out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mz: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
