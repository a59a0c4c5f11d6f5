/**
 * The maintenance side of the scheduler against real Postgres and Redis: the sweeper rebuilds
 * every kind of lost job from the letter rows after the queues are wiped, the job schedulers
 * come back after Redis loses them, and the cleanup and KPI rollup jobs do their work.
 */
import { randomUUID } from 'node:crypto';
import { type Job, Worker } from 'bullmq';
import type { DataSource } from 'typeorm';
import { JobName, QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { QueueService, type RunningService, startService } from '@mz/platform';
import { createTestEnv, deleteRedisPrefix, type TestEnv } from '../../../test/support/test-env';
import { CleanupExpiredAuthService } from './cleanup-expired-auth.service';
import { MaintenanceSchedulesService } from './maintenance-schedules.service';
import { RollupKpisService } from './rollup-kpis.service';
import { SchedulerLoopService } from './scheduler-loop.service';
import { SchedulerModule } from './scheduler.module';
import { SweepStuckLettersService } from './sweep-stuck-letters.service';

const MIN = 60_000;
const BODY = 'A letter body long enough to be a letter. '.repeat(3);

describe('scheduler maintenance', () => {
  let env: TestEnv;
  let ds: DataSource;
  let svc: RunningService;
  let queues: QueueService;
  let subscriptionId: string;
  let userId: string;
  let topicId: string;

  interface LetterSpec {
    status: string;
    body?: boolean;
    scheduledFor?: Date;
    leaseUntil?: Date | null;
    nextRetryAt?: Date | null;
    sentAt?: Date | null;
    promptVersion?: number | null;
  }

  async function insertLetter(l: LetterSpec): Promise<string> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, body_text, subject,
                           composed_at, lease_until, next_retry_at, sent_at, prompt_version)
       VALUES ($1, $2, $3, $4, 'send_now', $5, $6, '2030-01-15', $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        id, subscriptionId, userId, topicId, l.status, l.scheduledFor ?? new Date(Date.now() - MIN), `<mz.${id}@x>`,
        l.body ? BODY : null, l.body ? 'Subject [mz:resilience]' : null, l.body ? new Date(Date.now() - 5 * MIN) : null,
        l.leaseUntil ?? null, l.nextRetryAt ?? null, l.sentAt ?? null, l.promptVersion ?? null,
      ],
    );
    return id;
  }

  const status = async (id: string) => (await ds.query(`SELECT status, last_error, next_retry_at FROM letter WHERE id = $1`, [id]))[0];
  const job = (queue: QueueName, id: string): Promise<Job | undefined> => queues.queue(queue).getJob(id);
  const state = async (queue: QueueName, id: string) => (await job(queue, id))?.getState();

  /** Waits until the three maintenance jobs a fresh job scheduler runs at once have finished. */
  async function maintenanceSettled(): Promise<void> {
    const q = queues.queue(QueueName.Maintenance);
    for (let i = 0; i < 200; i++) {
      const c = await q.getJobCounts('completed', 'failed', 'waiting', 'active');
      if (c.completed + c.failed >= 3 && c.waiting + c.active === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('maintenance jobs did not settle');
  }

  beforeAll(async () => {
    env = await createTestEnv({ SCHEDULER_TICK_MS: '3600000', SWEEP_INTERVAL_MS: '3600000' });
    ds = createDataSource({ url: env.databaseUrl });
    await ds.initialize();
    await seedDatabase(ds);
    const [user] = await ds.query(`INSERT INTO app_user (email) VALUES ('sweep@example.test') RETURNING id`);
    const [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id) SELECT $1, id FROM topic WHERE code = 'resilience' RETURNING id, topic_id`, [user.id]);
    [userId, subscriptionId, topicId] = [user.id, sub.id, sub.topic_id];
    svc = await startService({ service: 'scheduler', defaultPort: 0, rootModule: (p) => SchedulerModule.register(p) }, { ...env.vars, PORT: '0' });
    queues = svc.app.get(QueueService);
    // The boot tick upserts the job schedulers, whose first jobs run at once: let them finish so
    // the sweeps and cleanups below are the test's own.
    await maintenanceSettled();
  });

  afterAll(async () => {
    await svc?.close();
    if (ds?.isInitialized) await ds.destroy();
    await env?.dispose();
  });

  it('rebuilds every stuck letter\'s job from Postgres after the queues were wiped', async () => {
    const sweeper = svc.app.get(SweepStuckLettersService);
    const sweepAt = new Date(Date.now() + sweeper.graceMs + MIN); // every row is older than the grace
    const later = new Date(Date.now() + 60 * MIN);
    const ids = {
      scheduled: await insertLetter({ status: 'scheduled' }),
      composing: await insertLetter({ status: 'composing', leaseUntil: new Date(Date.now() - MIN) }),
      sending: await insertLetter({ status: 'sending', body: true, leaseUntil: new Date(Date.now() - MIN) }),
      composed: await insertLetter({ status: 'composed', body: true, scheduledFor: later }),
      retryingCompose: await insertLetter({ status: 'retrying', nextRetryAt: new Date(Date.now() - 2 * MIN) }),
      retryingSend: await insertLetter({ status: 'retrying', body: true, nextRetryAt: new Date(Date.now() - 2 * MIN) }),
      // Left alone: a lease still running, a finished letter, a send deliberately re-delayed.
      composingLive: await insertLetter({ status: 'composing', leaseUntil: new Date(sweepAt.getTime() + 10 * MIN) }),
      sent: await insertLetter({ status: 'sent', body: true, sentAt: new Date() }),
      composedDelayed: await insertLetter({ status: 'composed', body: true }),
    };
    // The jobs the pipeline had queued… then Redis loses them.
    for (const id of [ids.scheduled, ids.composing, ids.retryingCompose, ids.composingLive]) {
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id });
    }
    for (const id of [ids.sending, ids.composed, ids.retryingSend]) await queues.enqueue(JobName.SendLetter, { v: 1, letterId: id }, { jobId: id, delay: 5 * MIN });
    await queues.queue(QueueName.LettersCompose).obliterate({ force: true });
    await queues.queue(QueueName.LettersSend).obliterate({ force: true });
    // Re-delayed by the mailer (sending paused) after the wipe: must not be promoted.
    await queues.enqueue(JobName.SendLetter, { v: 1, letterId: ids.composedDelayed }, { jobId: ids.composedDelayed, delay: 30 * MIN });

    const result = await sweeper.sweep(sweepAt);
    expect(result).toEqual({ scheduled: 1, leaseExpired: 2, ambiguous: 1, composed: 1, retrying: 2 });

    expect(await state(QueueName.LettersCompose, ids.scheduled)).toBe('waiting');
    expect(await state(QueueName.LettersCompose, ids.composing)).toBe('waiting');
    expect(await state(QueueName.LettersCompose, ids.retryingCompose)).toBe('waiting');
    expect(await state(QueueName.LettersSend, ids.sending)).toBe('waiting');
    expect(await state(QueueName.LettersSend, ids.retryingSend)).toBe('waiting');
    const composedJob = await job(QueueName.LettersSend, ids.composed);
    expect(await composedJob?.getState()).toBe('delayed');
    // Delayed until scheduled_for, counted from the sweep's clock.
    expect(composedJob!.delay).toBe(later.getTime() - sweepAt.getTime());
    expect(await state(QueueName.LettersSend, ids.composedDelayed)).toBe('delayed');
    expect(await job(QueueName.LettersCompose, ids.composingLive)).toBeUndefined();
    expect(await job(QueueName.LettersSend, ids.sent)).toBeUndefined();
    for (const q of [QueueName.LettersCompose, QueueName.LettersSend]) {
      for (const l of (await queues.queue(q).getJobs(['waiting', 'delayed'])).map((j) => j.data)) expect(l).toEqual({ v: 1, letterId: expect.any(String) });
    }

    // Lost leases went back to `retrying`, body kept, with the reason on the row and in the log.
    expect(await status(ids.composing)).toMatchObject({ status: 'retrying', last_error: 'lease expired while composing: the worker was lost', next_retry_at: sweepAt });
    expect(await status(ids.sending)).toMatchObject({ status: 'retrying', last_error: 'lease expired while sending: the worker was lost' });
    const [{ body_text }] = await ds.query(`SELECT body_text FROM letter WHERE id = $1`, [ids.sending]);
    expect(body_text).toBe(BODY);
    expect(await status(ids.composingLive)).toMatchObject({ status: 'composing' });
    const events = await ds.query(`SELECT letter_id, actor, metadata FROM event_log WHERE type = 'LETTER_RETRY_REQUESTED' AND actor = 'sweeper'`);
    expect(events).toEqual(
      expect.arrayContaining([
        { letter_id: ids.composing, actor: 'sweeper', metadata: { reason: 'lease_expired', from: 'composing' } },
        { letter_id: ids.sending, actor: 'sweeper', metadata: { reason: 'lease_expired', from: 'sending' } },
      ]),
    );
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/mz_ambiguous_resends_total\{service="scheduler"\} 1\b/);

    // A second sweep finds every job in place.
    expect(await sweeper.sweep(sweepAt)).toEqual({ scheduled: 0, leaseExpired: 0, ambiguous: 0, composed: 0, retrying: 0 });
    await ds.query(`UPDATE letter SET status = 'cancelled' WHERE subscription_id = $1 AND status <> 'sent'`, [subscriptionId]);
  });

  it('re-queues at once a job orphaned by a dead worker, but never takes one from a live worker', async () => {
    const sweeper = svc.app.get(SweepStuckLettersService);
    await queues.queue(QueueName.LettersCompose).obliterate({ force: true });
    const hang = () => new Promise<never>(() => undefined);
    const take = async (lockDuration: number) => {
      const id = await insertLetter({ status: 'composing', leaseUntil: new Date(Date.now() - MIN) });
      const worker = new Worker(QueueName.LettersCompose, hang, { connection: { url: env.redisUrl }, prefix: env.queuePrefix, lockDuration, stalledInterval: 3_600_000 });
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id });
      for (let i = 0; i < 100 && (await state(QueueName.LettersCompose, id)) !== 'active'; i++) await new Promise((r) => setTimeout(r, 20));
      return { id, worker };
    };
    // A worker that died: its lock runs out and nobody renews it.
    const dead = await take(300);
    await dead.worker.close(true);
    await new Promise((r) => setTimeout(r, 600));
    const live = await take(30_000);
    try {
      const result = await sweeper.sweep(new Date(Date.now() + sweeper.graceMs + MIN));
      expect(result.leaseExpired).toBe(2);
      expect(await state(QueueName.LettersCompose, dead.id)).toBe('waiting');
      expect(await state(QueueName.LettersCompose, live.id)).toBe('active');
      expect(await status(live.id)).toMatchObject({ status: 'retrying' }); // its worker's claim decides
    } finally {
      await live.worker.close(true);
      await ds.query(`UPDATE letter SET status = 'cancelled' WHERE id = ANY($1::uuid[])`, [[dead.id, live.id]]);
    }
  });

  it('the maintenance worker runs sweep jobs', async () => {
    const id = await insertLetter({ status: 'sending', body: true, leaseUntil: new Date(Date.now() - MIN) });
    const sweep = await queues.enqueue(JobName.SweepStuckLetters, { v: 1 });
    for (let i = 0; i < 100 && !(await sweep.isCompleted()); i++) await new Promise((r) => setTimeout(r, 50));
    const done = await queues.queue(QueueName.Maintenance).getJob(sweep.id!);
    expect(done?.returnvalue).toMatchObject({ leaseExpired: 1, ambiguous: 1 });
    expect(await status(id)).toMatchObject({ status: 'retrying' });
    expect(await state(QueueName.LettersSend, id)).toBe('waiting');
  });

  it('puts the maintenance job schedulers back when Redis lost them', async () => {
    const maintenance = queues.queue(QueueName.Maintenance);
    const names = Object.keys(svc.app.get(MaintenanceSchedulesService).schedules).sort();
    expect((await maintenance.getJobSchedulers()).map((s) => s.key).sort()).toEqual(names);
    await deleteRedisPrefix(env.redisUrl, env.queuePrefix);
    expect(await maintenance.getJobSchedulers()).toEqual([]);
    await svc.app.get(SchedulerLoopService).tick();
    const schedulers = await maintenance.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(names);
    expect(schedulers.find((s) => s.key === JobName.SweepStuckLetters)?.every).toBe(3_600_000);
    await maintenanceSettled();
  });

  it('cleanup-expired-auth deletes login tokens and sessions expired over a day ago', async () => {
    const day = 24 * 60 * MIN;
    const token = (expiresAt: Date) =>
      ds.query(`INSERT INTO login_token (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id`, [userId, randomUUID(), expiresAt]).then((r) => r[0].id);
    const session = (expiresAt: Date, revokedAt: Date | null = null) =>
      ds.query(`INSERT INTO app_session (user_id, token_hash, expires_at, revoked_at) VALUES ($1, $2, $3, $4) RETURNING id`, [userId, randomUUID(), expiresAt, revokedAt]).then((r) => r[0].id);
    const old = await token(new Date(Date.now() - 2 * day));
    const recent = await token(new Date(Date.now() - 60 * MIN));
    const live = await token(new Date(Date.now() + 60 * MIN));
    const oldSession = await session(new Date(Date.now() - 2 * day));
    const revoked = await session(new Date(Date.now() + 20 * day), new Date(Date.now() - 2 * day));
    const liveSession = await session(new Date(Date.now() + 20 * day));

    expect(await svc.app.get(CleanupExpiredAuthService).run()).toEqual({ loginTokens: 1, sessions: 2 });
    const tokens = (await ds.query(`SELECT id FROM login_token`)).map((r: { id: string }) => r.id);
    expect(tokens).toEqual(expect.arrayContaining([recent, live]));
    expect(tokens).not.toContain(old);
    const sessions = (await ds.query(`SELECT id FROM app_session`)).map((r: { id: string }) => r.id);
    expect(sessions).toEqual([liveSession]);
    expect([oldSession, revoked]).not.toContain(liveSession);
  });

  it('rollup-kpis fills kpi_daily for today and yesterday per topic and prompt version', async () => {
    // Every row must fall on one UTC day: the failed letter and the replies are stamped by the
    // database clock, the sends by sent_at. Right before midnight, wait for it; right after it, the
    // slot starts at midnight instead of 10 minutes back (a clean-clone run at 00:02 put the sends
    // on the day before).
    const untilMidnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now();
    if (untilMidnight < 5_000) await new Promise((r) => setTimeout(r, untilMidnight + 50));
    const now = new Date();
    const today = now.toISOString().slice(0, 10);
    await ds.query(`DELETE FROM letter`);
    const scheduledFor = new Date(Math.max(now.getTime() - 10 * MIN, Date.parse(`${today}T00:00:00Z`)));
    const lateness = [1_000, 2_000, 3_000, 60_000];
    const sent = [];
    for (const ms of lateness) {
      sent.push(await insertLetter({ status: 'sent', body: true, scheduledFor, sentAt: new Date(scheduledFor.getTime() + ms), promptVersion: 1 }));
    }
    await insertLetter({ status: 'failed', promptVersion: 1 });
    await insertLetter({ status: 'sent', body: true, scheduledFor, sentAt: new Date(scheduledFor.getTime() + 5_000) }); // offline → version 0
    // Two replies to version-1 letters, one of them "done".
    for (const [i, letterId] of sent.slice(0, 2).entries()) {
      const [msg] = await ds.query(
        `INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_letter_id, matched_user_id, kind, intent)
         VALUES ($1, 'x', 1, 'simulator', $2, $3, 'reply', $4) RETURNING id`,
        [`<r${i}-${randomUUID()}@example.test>`, letterId, userId, i === 0 ? 'done' : 'note'],
      );
      if (i === 0) await ds.query(`INSERT INTO progress (subscription_id, letter_id, inbound_message_id, completed) VALUES ($1, $2, $3, true)`, [subscriptionId, letterId, msg.id]);
    }

    const rollup = svc.app.get(RollupKpisService);
    const result = await rollup.run(now);
    expect(result.days).toHaveLength(2);
    expect(result.days[1]).toBe(today);
    const rows = await ds.query(
      `SELECT day::text AS day, prompt_version, sent, failed, replies, done, lateness_p50_ms, lateness_p99_ms FROM kpi_daily WHERE topic_id = $1 ORDER BY prompt_version`,
      [topicId],
    );
    expect(rows).toEqual([
      { day: today, prompt_version: 0, sent: 1, failed: 0, replies: 0, done: 0, lateness_p50_ms: 5_000, lateness_p99_ms: 5_000 },
      { day: today, prompt_version: 1, sent: 4, failed: 1, replies: 2, done: 1, lateness_p50_ms: 2_500, lateness_p99_ms: 58_290 },
    ]);
    // Idempotent: a rerun converges on the same rows.
    await rollup.run(now);
    expect(await ds.query(`SELECT count(*)::int AS n FROM kpi_daily`)).toEqual([{ n: 2 }]);
  });
});
