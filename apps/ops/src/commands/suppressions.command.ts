import { SUPPRESSION_REASONS } from '@mz/contracts';
import { likeEscape, SuppressionRepository } from '@mz/db';
import { AdminCommandError, AdminCommands } from '@mz/domain';
import { type OpsCommand, parseCommandLine, UsageError } from '../command';
import { OPS_ACTOR, withOpsApp } from '../ops-app';
import { countArg, uuidArg } from './args';

/**
 * `npm run mz -- suppressions list|lift`: the console's suppression list (docs/architecture.md §8)
 * — the same SuppressionRepository.list, and the same lift (AdminCommands.liftSuppression: the
 * audit entry and the user's SUPPRESSION_LIFTED event) as the console's button.
 */
export const suppressionsCommand: OpsCommand = {
  name: 'suppressions',
  summary: 'List suppressed addresses (list) or lift one so mail reaches it again (lift <id>)',
  usage: [
    'list [--q <part of address>] [--reason <reason>] [--page <n>] [--page-size <n>] [--json]',
    `                        reasons: ${SUPPRESSION_REASONS.join(', ')}; newest first, 50 a page`,
    'lift <id>               remove the entry with this id (from `list`); audited as the console\'s lift',
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'list') {
      const { options: o } = parseCommandLine(rest, { q: 'string', reason: 'string', page: 'string', 'page-size': 'string', json: 'boolean' });
      if (o.reason && !(SUPPRESSION_REASONS as readonly string[]).includes(o.reason as string)) throw new UsageError(`--reason must be one of ${SUPPRESSION_REASONS.join(', ')}`);
      const q = typeof o.q === 'string' ? o.q.trim().toLowerCase() : '';
      if (q.length > 320) throw new UsageError('--q is at most 320 characters');
      const page = o.page ? countArg('--page', o.page as string, 100_000) : 1;
      const pageSize = o['page-size'] ? countArg('--page-size', o['page-size'] as string, 500) : 50;
      return withOpsApp(io, async (app) => {
        const { items, total } = await app.get(SuppressionRepository).list({ addressLike: q ? likeEscape(q) : undefined, reason: o.reason as string | undefined, page, pageSize });
        if (o.json) io.out(JSON.stringify({ items, page, pageSize, total }, null, 2));
        else {
          io.out('id\taddress\treason\tsuppressed at\tdetail');
          for (const s of items) io.out(`${s.id}\t${s.address}\t${s.reason}\t${s.createdAt.toISOString()}\t${(s.detail ?? '').replace(/\s+/g, ' ').slice(0, 120)}`);
          io.out(`${items.length} of ${total} (page ${page})`);
        }
        return 0;
      });
    }
    if (sub === 'lift') {
      const { positionals: [raw] } = parseCommandLine(rest, {}, 1);
      const id = uuidArg('<id>', raw);
      return withOpsApp(io, async (app) => {
        try {
          const r = await app.get(AdminCommands).liftSuppression(OPS_ACTOR, id);
          io.out(`lifted suppression ${r.id} (${r.reason}, since ${r.suppressedAt.toISOString()})`);
          return 0;
        } catch (err) {
          if (!(err instanceof AdminCommandError)) throw err;
          io.err(`mz suppressions lift: ${err.message}`);
          return 1;
        }
      });
    }
    throw new UsageError(sub ? `unknown subcommand "${sub}" (list, lift)` : 'a subcommand is required: list or lift <id>');
  },
};
