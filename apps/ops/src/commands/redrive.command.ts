import { DataSource } from 'typeorm';
import { FAILURE_CLASSES, type FailureClass } from '@mz/contracts';
import { type FailedLetterRow, LetterRepository } from '@mz/db';
import { LetterCommandError, LetterCommands, logAdminAction } from '@mz/domain';
import { type OpsCommand, parseOptions, UsageError } from '../command';
import { OPS_ACTOR, requireRedis, withOpsApp } from '../ops-app';
import { countArg, instantArg, topicArg } from './args';

const PAGE = 200;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * `npm run mz -- redrive`: failed letters matching a filter go back to the start of the stage
 * they failed in, one by one through LetterCommands.retryNow — the console's "Retry now", which
 * resets the row through LetterRepository.resetForRetry and queues its job (docs/architecture.md
 * §3, §14) — each audited as the console's retry is. `--dry-run` lists them and changes nothing.
 */
export const redriveCommand: OpsCommand = {
  name: 'redrive',
  summary: 'Re-drive failed letters by topic, error class and time of failure (--dry-run lists them)',
  usage: [
    '--since <iso>           failed at or after (required; e.g. 2026-12-01 or 2026-12-01T08:00:00Z)',
    '--until <iso>           failed before (default: now)',
    '--topic <code>          only this topic',
    `--error <class>         only this error class: ${FAILURE_CLASSES.join(', ')}`,
    '--dry-run               list what would be re-driven; change nothing',
    '--progress-every <n>    a progress line on stderr every n letters (default 100)',
  ],
  async run(args, io) {
    const o = parseOptions(args, { since: 'string', until: 'string', topic: 'string', error: 'string', 'dry-run': 'boolean', 'progress-every': 'string' });
    if (!o.since) throw new UsageError('--since is required (re-driving every failed letter ever is rarely meant)');
    const since = instantArg('--since', o.since as string);
    const until = o.until ? instantArg('--until', o.until as string) : new Date();
    if (until <= since) throw new UsageError('--until must be after --since');
    const topic = o.topic ? topicArg('--topic', o.topic as string) : undefined;
    if (o.error && !(FAILURE_CLASSES as readonly string[]).includes(o.error as string)) throw new UsageError(`--error must be one of ${FAILURE_CLASSES.join(', ')}`);
    const errorType = o.error as FailureClass | undefined;
    const every = o['progress-every'] ? countArg('--progress-every', o['progress-every'] as string, 1_000_000) : 100;
    const dryRun = o['dry-run'] === true;

    return withOpsApp(io, async (app) => {
      if (!dryRun) await requireRedis(app);
      const letters = app.get(LetterRepository);
      const commands = app.get(LetterCommands);
      const ds = app.get(DataSource);
      const describe = (l: FailedLetterRow) => `${l.id}\t${l.topic}\t${l.errorType ?? '-'}\t${l.failedAt.toISOString()}`;
      let seen = 0;
      let redriven = 0;
      const refused: string[] = [];
      if (dryRun) io.out('letter\ttopic\terror\tfailed at');
      for (let after = NIL_UUID; ;) {
        const page = await letters.failedPage({ since, until, topic, errorType }, after, PAGE);
        if (!page.length) break;
        after = page[page.length - 1].id;
        for (const l of page) {
          seen++;
          if (dryRun) io.out(describe(l));
          else {
            try {
              const r = await commands.retryNow(l.id, OPS_ACTOR.id);
              await logAdminAction(ds.manager, OPS_ACTOR, { action: 'letter.retry', letterId: l.id, details: { from: r.previousStatus, to: r.status, stage: r.stage, via: 'redrive' } });
              redriven++;
            } catch (err) {
              // A letter whose subscription or user can no longer receive mail stays failed; the others go on.
              if (!(err instanceof LetterCommandError)) throw err;
              refused.push(`${l.id}: ${err.message}`);
              io.err(`refused ${err.message}`);
            }
          }
          if (seen % every === 0) io.err(`redrive: ${seen} letter(s) ${dryRun ? 'listed' : `processed, ${redriven} re-driven, ${refused.length} refused`}`);
        }
      }
      if (dryRun) io.out(`would re-drive ${seen} failed letter(s)`);
      else io.out(`re-drove ${redriven} of ${seen} failed letter(s)${refused.length ? `; ${refused.length} refused (listed on stderr)` : ''}`);
      return refused.length ? 1 : 0;
    });
  },
};
