import { AdminCommands, LetterCommands } from '@mz/domain';
import { type OpsCommand, parseOptions, UsageError } from '../command';
import { OPS_ACTOR, requireRedis, withOpsApp } from '../ops-app';
import { emailArg, topicArg } from './args';

/** `npm run mz -- send-letter --email <addr> --topic <code>`: the subscriber's "send now" (LetterCommands.sendNow). */
export const sendLetterCommand: OpsCommand = {
  name: 'send-letter',
  summary: 'Send a user an extra letter of a topic now, through the normal pipeline (their schedule is unchanged)',
  usage: ['--email <address>       the subscriber', '--topic <code>          a topic they are subscribed to', '--json                  machine-readable output'],
  async run(args, io) {
    const o = parseOptions(args, { email: 'string', topic: 'string', json: 'boolean' });
    if (!o.email || !o.topic) throw new UsageError('--email and --topic are required');
    const email = emailArg('--email', o.email as string);
    const topic = topicArg('--topic', o.topic as string);
    return withOpsApp(io, async (app) => {
      await requireRedis(app);
      const userId = await app.get(AdminCommands).userIdByEmail(email);
      if (!userId) {
        io.err('mz send-letter: no user with that address');
        return 1;
      }
      const r = await app.get(LetterCommands).sendNow(userId, topic, { actor: OPS_ACTOR.id });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else io.out(`letter ${r.letterId} scheduled for ${r.scheduledFor.toISOString()} (local date ${r.localDate})${r.queued ? ', compose job queued' : ''}`);
      if (!r.queued) io.err('warning: the compose job could not be queued; the sweeper will re-drive the letter');
      return 0;
    });
  },
};
