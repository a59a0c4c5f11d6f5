import { JobName, QueueName } from '@mz/contracts';
import type { QueueService } from '@mz/platform';

/** Which worker a letter waits for: no body yet → the composer, body stored → the mailer. */
export type LetterStage = 'compose' | 'send';

export const letterStage = (hasBody: boolean): LetterStage => (hasBody ? 'send' : 'compose');

export interface DrivableLetter {
  id: string;
  hasBody: boolean;
  scheduledFor: Date;
}

/**
 * Makes sure the job for the letter's current stage is queued (job id = letter id). A send is
 * delayed until `scheduled_for` unless `immediate`. Safe to call any number of times: the row's
 * status, not the queue, decides whether work happens.
 */
export function ensureLetterJob(queues: QueueService, letter: DrivableLetter, now: Date, opts: { immediate?: boolean } = {}): Promise<'added' | 'exists'> {
  const payload = { v: 1 as const, letterId: letter.id };
  if (letterStage(letter.hasBody) === 'compose') return queues.ensureJob(JobName.ComposeLetter, payload, letter.id);
  const delay = opts.immediate ? 0 : Math.max(0, letter.scheduledFor.getTime() - now.getTime());
  return queues.ensureJob(JobName.SendLetter, payload, letter.id, { delay });
}

/** Removes queued compose/send jobs of letters (after their rows were cancelled and committed). */
export async function removeLetterJobs(queues: QueueService, letterIds: readonly string[]): Promise<void> {
  const chunk = 50;
  for (let i = 0; i < letterIds.length; i += chunk) {
    await Promise.all(
      letterIds.slice(i, i + chunk).flatMap((id) => [queues.removeJob(QueueName.LettersCompose, id), queues.removeJob(QueueName.LettersSend, id)]),
    );
  }
}
