/**
 * LetterCommands against real Postgres and Redis, hosted the way apps host it (platform module +
 * DomainModule): send-now, retry-now per stage, cancelling pending letters with their queued
 * jobs, and recomputing the schedule after a settings change.
 */
import { Module } from '@nestjs/common';
import { UnrecoverableError, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { JobName, QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { QueueService, type RunningService, startService } from '@mz/platform';
import { localDateOf, nextRun } from '@mz/schedule';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { DomainModule } from './domain.module';
import { LetterNotFoundError, LetterNotRetryableError, SubscriptionDisabledError, SubscriptionNotFoundError } from './letter-command.errors';
import { LetterCommands } from './letter-commands.service';

const MIN = 60_000;
const BODY = 'A letter body long enough to be a letter. '.repeat(3);

@Module({ imports: [DomainModule] })
class Host {}

describe('LetterCommands', () => {
  let env: TestEnv;
  let ds: DataSource;
  let svc: RunningService;
  let commands: LetterCommands;
  let queues: QueueService;

  async function createSubscription(o: { enabled?: boolean; timezone?: string; topicCode?: string } = {}) {
    const [user] = await ds.query(`INSERT INTO app_user (email) VALUES ($1) RETURNING id`, [`u-${randomUUID()}@example.test`]);
    const [sub] = await ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, timezone, send_time_local, next_run_at, last_scheduled_local_date)
       SELECT $1, id, $2, $3, '07:30', '2030-01-16T06:30:00Z', '2030-01-15' FROM topic WHERE code = $4 RETURNING id`,
      [user.id, o.enabled ?? true, o.timezone ?? 'Europe/Paris', o.topicCode ?? 'curiosity'],
    );
    return { userId: user.id as string, subscriptionId: sub.id as string };
  }

  async function insertLetter(subscriptionId: string, status: string, o: { body?: boolean } = {}): Promise<string> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, body_text,
                           error_type, last_error, next_retry_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'send_now', $3, now() - interval '1 minute', '2030-01-15', $4, $5,
              CASE WHEN $3 IN ('failed', 'retrying') THEN 'network' END, CASE WHEN $3 IN ('failed', 'retrying') THEN 'ECONNRESET' END,
              CASE WHEN $3 = 'retrying' THEN now() + interval '10 minutes' END
         FROM subscription s WHERE s.id = $2`,
      [id, subscriptionId, status, `<mz.${id}@x>`, o.body ? BODY : null],
    );
    return id;
  }

  const letter = async (id: string) =>
    (await ds.query(`SELECT status, kind, error_type, last_error, next_retry_at, skip_reason, local_date::text AS local_date, scheduled_for FROM letter WHERE id = $1`, [id]))[0];
  const jobState = async (queue: QueueName, id: string) => (await queues.queue(queue).getJob(id))?.getState();
  const subscription = async (id: string) =>
    (await ds.query(`SELECT next_run_at, last_scheduled_local_date::text AS last_date FROM subscription WHERE id = $1`, [id]))[0];

  beforeAll(async () => {
    env = await createTestEnv({ REPLY_DOMAIN: 'reply.test.example' });
    ds = createDataSource({ url: env.databaseUrl });
    await ds.initialize();
    await seedDatabase(ds);
    svc = await startService({ service: 'api', defaultPort: 0, rootModule: (platform) => ({ module: Host, imports: [platform, DomainModule] }) }, { ...env.vars, PORT: '0' });
    commands = svc.app.get(LetterCommands);
    queues = svc.app.get(QueueService);
  });

  afterAll(async () => {
    await svc?.close();
    if (ds?.isInitialized) await ds.destroy();
    await env?.dispose();
  });

  describe('sendNow', () => {
    it('creates a send_now letter for today in the subscriber\'s zone and queues its composition; the schedule stays put', async () => {
      const { userId, subscriptionId } = await createSubscription({ timezone: 'Pacific/Kiritimati' });
      const before = await subscription(subscriptionId);
      const started = Date.now();
      const result = await commands.sendNow(userId, 'curiosity');
      expect(result.queued).toBe(true);
      expect(result.messageId).toBe(`<mz.${result.letterId}@reply.test.example>`);
      const row = await letter(result.letterId);
      expect(row).toMatchObject({ kind: 'send_now', status: 'scheduled', local_date: localDateOf(row.scheduled_for, 'Pacific/Kiritimati') });
      expect(row.scheduled_for.getTime()).toBeGreaterThanOrEqual(started - 1000);
      expect(await subscription(subscriptionId)).toEqual(before);
      const job = await queues.queue(QueueName.LettersCompose).getJob(result.letterId);
      expect(job?.name).toBe(JobName.ComposeLetter);
      expect(job?.data).toEqual({ v: 1, letterId: result.letterId });
      const [event] = await ds.query(`SELECT type, actor, metadata FROM event_log WHERE letter_id = $1`, [result.letterId]);
      expect(event).toMatchObject({ type: 'LETTER_SCHEDULED', actor: `user:${userId}`, metadata: { kind: 'send_now' } });
      // Twice in a day is allowed: send-now letters are extra.
      const again = await commands.sendNow(userId, 'curiosity', { actor: 'admin:someone' });
      expect(again.letterId).not.toBe(result.letterId);
    });

    it('refuses a missing subscription (not_found) and a disabled one (conflict)', async () => {
      const { userId } = await createSubscription({ enabled: false });
      await expect(commands.sendNow(userId, 'curiosity')).rejects.toBeInstanceOf(SubscriptionDisabledError);
      await expect(commands.sendNow(userId, 'curiosity')).rejects.toMatchObject({ kind: 'conflict', reason: 'subscription_disabled' });
      await expect(commands.sendNow(userId, 'focus')).rejects.toBeInstanceOf(SubscriptionNotFoundError);
      await expect(commands.sendNow(randomUUID(), 'curiosity')).rejects.toMatchObject({ kind: 'not_found' });
      await expect(commands.sendNow('not-a-uuid', 'curiosity')).rejects.toBeInstanceOf(SubscriptionNotFoundError);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM letter WHERE user_id = $1`, [userId]);
      expect(n).toBe(0);
    });
  });

  describe('retryNow', () => {
    it('a failed letter without a body goes back to scheduled and is composed again', async () => {
      const { subscriptionId } = await createSubscription();
      const id = await insertLetter(subscriptionId, 'failed');
      // BullMQ still holds the failed job under the letter's id (a worker failed it for good).
      const worker = new Worker(QueueName.LettersCompose, async () => {
        throw new UnrecoverableError('permanent');
      }, { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id });
      for (let i = 0; i < 100 && (await jobState(QueueName.LettersCompose, id)) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
      await worker.close();
      expect(await jobState(QueueName.LettersCompose, id)).toBe('failed');

      expect(await commands.retryNow(id, 'admin:ops')).toEqual({ letterId: id, stage: 'compose', status: 'scheduled', previousStatus: 'failed' });
      expect(await letter(id)).toMatchObject({ status: 'scheduled', error_type: null, last_error: null, next_retry_at: null });
      expect(await jobState(QueueName.LettersCompose, id)).toBe('waiting');
      const [event] = await ds.query(`SELECT actor, metadata FROM event_log WHERE letter_id = $1 AND type = 'LETTER_RETRY_REQUESTED'`, [id]);
      expect(event).toEqual({ actor: 'admin:ops', metadata: { from: 'failed', stage: 'compose' } });
    });

    it('a failed letter with a body goes back to composed and is sent now', async () => {
      const { subscriptionId } = await createSubscription();
      const id = await insertLetter(subscriptionId, 'failed', { body: true });
      expect(await commands.retryNow(id, 'admin:ops')).toMatchObject({ stage: 'send', status: 'composed' });
      expect(await letter(id)).toMatchObject({ status: 'composed', error_type: null });
      expect(await jobState(QueueName.LettersSend, id)).toBe('waiting');
    });

    it('a retrying letter waiting on a backoff is promoted, not duplicated', async () => {
      const { subscriptionId } = await createSubscription();
      const id = await insertLetter(subscriptionId, 'retrying', { body: true });
      await queues.enqueue(JobName.SendLetter, { v: 1, letterId: id }, { jobId: id, delay: 10 * MIN });
      expect(await commands.retryNow(id, 'admin:ops')).toMatchObject({ stage: 'send', status: 'composed', previousStatus: 'retrying' });
      expect(await jobState(QueueName.LettersSend, id)).toBe('waiting');
      expect(await queues.queue(QueueName.LettersSend).getJobCounts('waiting', 'delayed')).toMatchObject({ delayed: 0 });
    });

    it('refuses letters that are not failed/retrying, unknown ids and disabled subscriptions', async () => {
      const { subscriptionId } = await createSubscription();
      for (const status of ['sent', 'scheduled', 'composed', 'sending', 'cancelled']) {
        const id = await insertLetter(subscriptionId, status, { body: true });
        await expect(commands.retryNow(id, 'admin:ops')).rejects.toBeInstanceOf(LetterNotRetryableError);
        expect((await letter(id)).status).toBe(status);
      }
      await expect(commands.retryNow(randomUUID(), 'admin:ops')).rejects.toBeInstanceOf(LetterNotFoundError);
      await expect(commands.retryNow('nope', 'admin:ops')).rejects.toMatchObject({ kind: 'not_found' });
      const off = await createSubscription({ enabled: false });
      const failed = await insertLetter(off.subscriptionId, 'failed', { body: true });
      await expect(commands.retryNow(failed, 'admin:ops')).rejects.toMatchObject({ kind: 'conflict', reason: 'subscription is disabled' });
    });
  });

  describe('cancelPending / removeQueuedJobs', () => {
    it('cancels letters still on their way inside the caller\'s transaction and removes their jobs after commit', async () => {
      const { subscriptionId } = await createSubscription();
      const other = await createSubscription();
      const scheduled = await insertLetter(subscriptionId, 'scheduled');
      const composed = await insertLetter(subscriptionId, 'composed', { body: true });
      const retrying = await insertLetter(subscriptionId, 'retrying', { body: true });
      const sending = await insertLetter(subscriptionId, 'sending', { body: true });
      const sent = await insertLetter(subscriptionId, 'sent', { body: true });
      const elsewhere = await insertLetter(other.subscriptionId, 'scheduled');
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: scheduled }, { jobId: scheduled });
      await queues.enqueue(JobName.SendLetter, { v: 1, letterId: composed }, { jobId: composed, delay: 5 * MIN });
      await queues.enqueue(JobName.SendLetter, { v: 1, letterId: retrying }, { jobId: retrying, delay: 5 * MIN });
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: elsewhere }, { jobId: elsewhere });

      // A rolled-back transaction cancels nothing.
      await expect(
        ds.transaction(async (m) => {
          await commands.cancelPending(m, subscriptionId, 'unsubscribed');
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect((await letter(scheduled)).status).toBe('scheduled');

      const ids = await ds.transaction((m) => commands.cancelPending(m, subscriptionId, 'unsubscribed', 'user:x'));
      expect(ids.sort()).toEqual([scheduled, composed, retrying].sort());
      await commands.removeQueuedJobs(ids);

      for (const id of ids) expect(await letter(id)).toMatchObject({ status: 'cancelled', skip_reason: 'unsubscribed', next_retry_at: null });
      expect((await letter(sending)).status).toBe('sending');
      expect((await letter(sent)).status).toBe('sent');
      expect((await letter(elsewhere)).status).toBe('scheduled');
      expect(await jobState(QueueName.LettersCompose, scheduled)).toBeUndefined();
      expect(await jobState(QueueName.LettersSend, composed)).toBeUndefined();
      expect(await jobState(QueueName.LettersSend, retrying)).toBeUndefined();
      expect(await jobState(QueueName.LettersCompose, elsewhere)).toBe('waiting');
      const events = await ds.query(`SELECT letter_id, actor, metadata FROM event_log WHERE type = 'LETTER_CANCELLED' AND subscription_id = $1`, [subscriptionId]);
      expect(events).toHaveLength(3);
      expect(events[0]).toMatchObject({ actor: 'user:x', metadata: { reason: 'unsubscribed' } });
    });
  });

  describe('applySubscriptionChange', () => {
    it('disabling clears the cursor and cancels pending letters; re-enabling recomputes from now, never for a date already scheduled', async () => {
      const { subscriptionId } = await createSubscription({ timezone: 'Europe/Paris' });
      const pending = await insertLetter(subscriptionId, 'scheduled');
      const off = await ds.transaction(async (m) => {
        await m.query(`UPDATE subscription SET enabled = false WHERE id = $1`, [subscriptionId]);
        return commands.applySubscriptionChange(m, subscriptionId);
      });
      expect(off).toEqual({ nextRunAt: null, nextLocalDate: null, cancelledLetterIds: [pending] });
      expect((await subscription(subscriptionId)).next_run_at).toBeNull();
      expect(await letter(pending)).toMatchObject({ status: 'cancelled', skip_reason: 'subscription_disabled' });

      // Re-enabled at 06:00 Paris on the 15th, which already had its letter → the 16th.
      const now = new Date('2030-01-15T05:00:00Z');
      const on = await ds.transaction(async (m) => {
        await m.query(`UPDATE subscription SET enabled = true WHERE id = $1`, [subscriptionId]);
        return commands.applySubscriptionChange(m, subscriptionId, now);
      });
      expect(on).toEqual({ nextRunAt: new Date('2030-01-16T06:30:00Z'), nextLocalDate: '2030-01-16', cancelledLetterIds: [] });
      expect((await subscription(subscriptionId)).next_run_at).toEqual(on.nextRunAt);
    });

    it('a pause moves the next run past paused_until; a zone change follows the new zone', async () => {
      const { subscriptionId } = await createSubscription({ timezone: 'Europe/Paris' });
      const now = new Date('2030-01-20T12:00:00Z');
      const paused = await ds.transaction(async (m) => {
        await m.query(`UPDATE subscription SET paused_until = '2030-01-25T00:00:00Z' WHERE id = $1`, [subscriptionId]);
        return commands.applySubscriptionChange(m, subscriptionId, now);
      });
      expect(paused.nextRunAt).toEqual(new Date('2030-01-25T06:30:00Z'));
      const moved = await ds.transaction(async (m) => {
        await m.query(`UPDATE subscription SET paused_until = NULL, timezone = 'Asia/Tokyo' WHERE id = $1`, [subscriptionId]);
        return commands.applySubscriptionChange(m, subscriptionId, now);
      });
      expect(moved.nextRunAt).toEqual(nextRun({ timezone: 'Asia/Tokyo', sendTimeLocal: '07:30', now, lastScheduledLocalDate: '2030-01-15' }).at);
      expect(moved.nextRunAt).toEqual(new Date('2030-01-20T22:30:00Z'));
      await expect(ds.transaction((m) => commands.applySubscriptionChange(m, randomUUID()))).rejects.toBeInstanceOf(SubscriptionNotFoundError);
    });

    it('a letter created long ahead (batch lead) and not yet composed moves to the new time on its local date; a composed one, or one whose new time passed, keeps its slot', async () => {
      const { subscriptionId } = await createSubscription({ timezone: 'Europe/Paris' });
      const now = new Date('2030-01-20T12:00:00Z'); // 13:00 in Paris
      const add = async (localDate: string, at: string, status: string) => {
        const id = randomUUID();
        await ds.query(
          `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, body_text, next_retry_at)
           SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', $2, $3, $4, $5, $6, $7 FROM subscription s WHERE s.id = $8`,
          [id, status, at, localDate, `<mz.${id}@x>`, status === 'composed' ? BODY : null, status === 'scheduled' ? '2030-01-21T04:30:00Z' : null, subscriptionId],
        );
        return id;
      };
      const today = await add('2030-01-20', '2030-01-20T19:00:00Z', 'scheduled'); // 20:00 today, not yet composed
      const tomorrow = await add('2030-01-21', '2030-01-21T06:30:00Z', 'scheduled'); // waiting for its batch
      const composed = await add('2030-01-22', '2030-01-22T06:30:00Z', 'composed');
      await ds.transaction(async (m) => {
        await m.query(`UPDATE subscription SET send_time_local = '09:00' WHERE id = $1`, [subscriptionId]);
        return commands.applySubscriptionChange(m, subscriptionId, now);
      });
      // 09:00 today has passed: today's letter keeps 20:00 (one letter per local date).
      expect((await letter(today)).scheduled_for).toEqual(new Date('2030-01-20T19:00:00Z'));
      // Tomorrow's moves to 09:00 Paris, and its batch deadline is cleared so the sweeper re-parks its job.
      expect(await letter(tomorrow)).toMatchObject({ scheduled_for: new Date('2030-01-21T08:00:00Z'), next_retry_at: null, status: 'scheduled' });
      expect((await letter(composed)).scheduled_for).toEqual(new Date('2030-01-22T06:30:00Z'));
    });
  });
});
