import { AdminCommandError, AdminCommands } from '@mz/domain';
import { type OpsCommand, parseCommandLine, UsageError } from '../command';
import { OPS_ACTOR, withOpsApp } from '../ops-app';
import { emailArg } from './args';

/**
 * `npm run mz -- admin create|demote`: who may use the console. The first admin of a fresh
 * install is made here (docs/operations.md); each change is an ADMIN_ACTION in the console's
 * audit log (AdminCommands, libs/domain/src/admin), actor `ops-cli`.
 */
export const adminCommand: OpsCommand = {
  name: 'admin',
  summary: 'Make an address an admin (create <email> [--name <name>]) or a subscriber again (demote <email>)',
  usage: [
    'create <email> [--name <name>]   a new admin, or an existing active user promoted; they sign in with a link',
    'demote <email>                   admin → subscriber; the last active admin cannot be demoted',
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'create' && sub !== 'demote') {
      throw new UsageError(sub ? `unknown subcommand "${sub}" (create, demote)` : 'a subcommand is required: create <email> or demote <email>');
    }
    const { options: o, positionals: [raw] } = parseCommandLine(rest, sub === 'create' ? { name: 'string' } : {}, 1);
    const email = emailArg('<email>', raw);
    const name = typeof o.name === 'string' ? o.name.trim() : null;
    if (name !== null && (!name || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name))) throw new UsageError('--name must be 1-200 printable characters');
    return withOpsApp(io, async (app) => {
      const commands = app.get(AdminCommands);
      try {
        if (sub === 'create') {
          const r = await commands.grantAdmin(OPS_ACTOR, email, name);
          io.out(r.created ? `created admin ${r.userId}` : r.changed ? `promoted user ${r.userId} to admin` : `user ${r.userId} is already an admin`);
        } else {
          const r = await commands.demoteAdmin(OPS_ACTOR, email);
          io.out(r.changed ? `demoted user ${r.userId} to subscriber` : `user ${r.userId} is not an admin`);
        }
        return 0;
      } catch (err) {
        if (!(err instanceof AdminCommandError)) throw err;
        io.err(`mz admin ${sub}: ${err.message}`);
        return 1;
      }
    });
  },
};
