import { ConfigError } from '@mz/contracts';
import { DkimKeyError, LetterCommandError } from '@mz/domain';
import { type OpsCommand, OpsFailure, type OpsIo, UsageError } from './command';
import { COMMANDS } from './commands';

function help(io: OpsIo, commands: readonly OpsCommand[], name?: string): number {
  const one = name ? commands.find((c) => c.name === name) : undefined;
  if (one) {
    io.out(`npm run mz -- ${one.name} [options]\n\n${one.summary}\n`);
    for (const line of one.usage) io.out(`  ${line}`);
    return 0;
  }
  io.out('usage: npm run mz -- <command> [options]\n\ncommands:');
  const width = Math.max(...commands.map((c) => c.name.length));
  for (const c of commands) io.out(`  ${c.name.padEnd(width)}  ${c.summary}`);
  io.out('\n`npm run mz -- help <command>` shows its options.');
  return 0;
}

/**
 * Dispatches to a registered command. Exit codes: 0 done, 1 the command failed or was refused,
 * 2 a usage or configuration error (the message, then the command's usage).
 */
export async function runCli(argv: string[], io: OpsIo, commands: readonly OpsCommand[] = COMMANDS): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') return help(io, commands, args[0]);
  if (!name) {
    help({ ...io, out: io.err }, commands);
    return 2;
  }
  const command = commands.find((c) => c.name === name);
  if (command && (args.includes('--help') || args.includes('-h'))) return help(io, commands, name);
  if (!command) {
    io.err(`mz: unknown command "${name}"`);
    help({ ...io, out: io.err }, commands);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof DkimKeyError) {
      io.err(`mz ${name}: ${err.message}`);
      if (err instanceof UsageError) {
        io.err(`usage: npm run mz -- ${name} [options]`);
        for (const line of command.usage) io.err(`  ${line}`);
      }
      return 2;
    }
    // A refusal of a domain command (no such subscription, letter not retryable): a clear message, exit 1.
    if (err instanceof LetterCommandError || err instanceof OpsFailure) {
      io.err(`mz ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
