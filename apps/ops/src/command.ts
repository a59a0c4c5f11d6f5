import { parseArgs } from 'node:util';

/**
 * One operator command of `npm run mz -- <command> [options]`. Commands are plain objects in a
 * registry (commands/index.ts): adding one is adding a file and a line there.
 */
export interface OpsIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface OpsCommand {
  name: string;
  /** One line for `mz help`. */
  summary: string;
  /** Options, one per line, for `mz help <command>`. */
  usage: string[];
  /** Resolves to the process exit code. */
  run(args: string[], io: OpsIo): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not do its work (a dependency is down); the message is for the operator. Exit 1. */
export class OpsFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsFailure';
  }
}

export type OptionSpec = Record<string, 'string' | 'boolean'>;

/**
 * `--name value` / `--name=value` / `--flag` options and positional arguments, parsed by
 * node:util parseArgs (strict); anything it refuses is a UsageError naming the argument.
 * `positionals`: how many positional arguments the command takes (exactly).
 */
export function parseCommandLine(args: string[], spec: OptionSpec, positionals = 0): { options: Record<string, string | boolean>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args, strict: true, allowPositionals: positionals > 0,
      options: Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }])),
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    const arg = /'(-[^'\s]*)/.exec(e.message)?.[1] ?? '';
    const name = arg.replace(/^-+/, '');
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${arg}`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument ${/'([^']*)'/.exec(e.message)?.[1] ?? ''}`.trim());
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(spec[name] === 'boolean' ? `--${name} takes no value` : `--${name} needs a value`);
    }
    throw new UsageError(e.message);
  }
  const options: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(parsed.values)) if (typeof v === 'string' || typeof v === 'boolean') options[k] = v;
  for (const [k, v] of Object.entries(options)) {
    // `--email --topic x` would make "--topic" the email: a value never starts with "--".
    if (typeof v === 'string' && v.startsWith('--')) throw new UsageError(`--${k} needs a value`);
    if (typeof v === 'string' && v === '' && spec[k] === 'string') throw new UsageError(`--${k} needs a value`);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${parsed.positionals[positionals]}`);
  if (parsed.positionals.length < positionals) throw new UsageError('missing argument');
  return { options, positionals: parsed.positionals };
}

/** Options only (no positional arguments). */
export function parseOptions(args: string[], spec: OptionSpec): Record<string, string | boolean> {
  return parseCommandLine(args, spec).options;
}
