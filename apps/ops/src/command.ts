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

/** `--name value` / `--name=value` / `--flag` options; anything else is a usage error. */
export function parseOptions(args: string[], spec: Record<string, 'string' | 'boolean'>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(args[i]);
    if (!m || !(m[1] in spec)) throw new UsageError(`unknown option ${args[i]}`);
    if (spec[m[1]] === 'boolean') {
      if (m[2] !== undefined) throw new UsageError(`--${m[1]} takes no value`);
      out[m[1]] = true;
    } else {
      const value = m[2] ?? args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${m[1]} needs a value`);
      out[m[1]] = value;
    }
  }
  return out;
}
