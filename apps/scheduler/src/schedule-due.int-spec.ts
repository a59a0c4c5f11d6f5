/**
 * The scheduler tick against real Postgres and Redis: due subscriptions become letters and
 * compose jobs exactly once, however many ticks and replicas race; the database itself refuses a
 * second scheduled letter for a local date; catch-up, pause and same-day schedule changes.
 */
import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, connect } from 'node:net';
import type { DataSource } from 'typeorm';
import { JobName, QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { DomainModule, LetterCommands } from '@mz/domain';
import { QueueService, type RunningService, startService } from '@mz/platform';
import { localDateOf, nextRun } from '@mz/schedule';
import { eventually } from '../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { ScheduleDueService } from '@mz/domain';
import { SchedulerLoopService } from './scheduler-loop.service';
import { SchedulerModule } from './scheduler.module';
import { SweepStuckLettersService } from './sweep-stuck-letters.service';

const MIN = 60_000;
const HOUR = 60 * MIN;
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Australia/Adelaide', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham'];

@Module({ imports: [DomainModule] })
class WithDomain {}

function startScheduler(env: TestEnv, vars: Record<string, string> = {}): Promise<RunningService> {
  return startService(
    {
      service: 'scheduler',
      defaultPort: 0,
      rootModule: (platform) => ({ module: WithDomain, imports: [SchedulerModule.register(platform), DomainModule] }),
    },
    { ...env.vars, PORT: '0', ...vars },
  );
}

/**
 * A TCP relay in front of the real Redis whose client→server direction can be held: commands
 * sent meanwhile wait in the relay (as on a congested link) and are delivered on release.
 */
class HoldableRelay {
  private held = false;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(target: string): Promise<HoldableRelay> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    const relay = new HoldableRelay(server);
    server.on('connection', (client) => {
      const upstream = connect(Number(port || 6379), hostname);
      for (const s of [client, upstream]) {
        relay.sockets.add(s);
        s.on('close', () => relay.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk) => (relay.held ? relay.waiting.push(() => upstream.write(chunk)) : upstream.write(chunk)));
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('relay not listening');
    return `redis://127.0.0.1:${address.port}`;
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const send of this.waiting.splice(0)) send();
  }

  async close(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Wall-clock 'HH:MM' of an instant in a zone. */
function wallClock(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

interface SubOptions {
  timezone?: string;
  /** The slot: send_time_local is its wall clock in the zone, next_run_at the slot itself. */
  slot?: Date | null;
  sendTimeLocal?: string;
  enabled?: boolean;
  lastScheduledLocalDate?: string | null;
  pausedUntil?: Date | null;
  topicCode?: string;
  userStatus?: 'active' | 'suspended';
}

describe('scheduler tick', () => {
  let env: TestEnv;
  let ds: DataSource;
  let a: RunningService;
  let b: RunningService;

  async function createSubscription(o: SubOptions = {}): Promise<{ userId: string; subscriptionId: string }> {
    const timezone = o.timezone ?? 'UTC';
    const sendTimeLocal = o.sendTimeLocal ?? (o.slot ? wallClock(o.slot, timezone) : '07:30');
    const [user] = await ds.query(`INSERT INTO app_user (email, status) VALUES ($1, $2) RETURNING id`, [`u-${randomUUID()}@example.test`, o.userStatus ?? 'active']);
    const [sub] = await ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, send_time_local, timezone, next_run_at, last_scheduled_local_date, paused_until)
       SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM topic WHERE code = $8 RETURNING id`,
      [user.id, o.enabled ?? true, sendTimeLocal, timezone, o.slot === undefined ? null : o.slot, o.lastScheduledLocalDate ?? null, o.pausedUntil ?? null, o.topicCode ?? 'resilience'],
    );
    return { userId: user.id, subscriptionId: sub.id };
  }

  /** A minute-aligned slot `ms` from now (send times have minute precision). */
  const slotIn = (ms: number) => new Date(Math.ceil((Date.now() + ms) / MIN) * MIN);

  const lettersOf = (subscriptionId: string) =>
    ds.query(`SELECT id, kind, status, scheduled_for, local_date::text AS local_date, message_id, skip_reason FROM letter WHERE subscription_id = $1 ORDER BY created_at`, [subscriptionId]);
  const subscription = async (id: string) =>
    (await ds.query(`SELECT next_run_at, last_scheduled_local_date::text AS last_date FROM subscription WHERE id = $1`, [id]))[0];
  const composeJob = (svc: RunningService, letterId: string) => svc.app.get(QueueService).queue(QueueName.LettersCompose).getJob(letterId);

  beforeAll(async () => {
    // Ticks are driven by the tests; the loop's own tick runs once at boot on an empty table.
    env = await createTestEnv({ SCHEDULER_TICK_MS: '3600000', SWEEP_INTERVAL_MS: '3600000', SCHEDULER_BATCH_SIZE: '25', REPLY_DOMAIN: 'reply.test.example' });
    ds = createDataSource({ url: env.databaseUrl });
    await ds.initialize();
    await seedDatabase(ds);
    [a, b] = await Promise.all([startScheduler(env), startScheduler(env)]);
    // Let each instance's boot tick finish, so the ticks below are the only ones.
    for (const svc of [a, b]) {
      for (let i = 0; i < 100 && !/mz_scheduler_tick_duration_seconds_count\{service="scheduler"\} [1-9]/.test(await (await fetch(`${svc.url}/metrics`)).text()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    if (ds?.isInitialized) await ds.destroy();
    await env?.dispose();
  });

  it('turns due subscriptions into one letter and one compose job each, exactly once', async () => {
    const due = await Promise.all(ZONES.flatMap((timezone) => [1, 2, 3, 4].map((m) => createSubscription({ timezone, slot: slotIn(m * MIN) }))));
    const later = await createSubscription({ slot: slotIn(2 * HOUR) });
    const disabled = await createSubscription({ slot: slotIn(MIN), enabled: false });
    const suspended = await createSubscription({ slot: slotIn(MIN), userStatus: 'suspended' });

    const first = await a.app.get(ScheduleDueService).scheduleDue();
    expect(first.scheduled).toBe(due.length);
    expect(first.batches).toBeGreaterThan(1); // batch size 25

    for (const { subscriptionId, userId } of due) {
      const letters = await lettersOf(subscriptionId);
      expect(letters).toHaveLength(1);
      const [l] = letters;
      expect(l).toMatchObject({ kind: 'scheduled', status: 'scheduled', message_id: `<mz.${l.id}@reply.test.example>`, skip_reason: null });
      const [sub] = await ds.query(`SELECT timezone, send_time_local FROM subscription WHERE id = $1`, [subscriptionId]);
      expect(l.local_date).toBe(localDateOf(l.scheduled_for, sub.timezone));
      expect(wallClock(l.scheduled_for, sub.timezone)).toBe(sub.send_time_local);
      const cursor = await subscription(subscriptionId);
      expect(cursor.last_date).toBe(l.local_date);
      expect(cursor.next_run_at).toEqual(nextRun({ timezone: sub.timezone, sendTimeLocal: sub.send_time_local, now: l.scheduled_for, lastScheduledLocalDate: l.local_date }).at);
      const job = await composeJob(a, l.id);
      expect(job?.name).toBe(JobName.ComposeLetter);
      expect(job?.data).toEqual({ v: 1, letterId: l.id });
      const events = await ds.query(`SELECT type, actor, user_id, subscription_id FROM event_log WHERE letter_id = $1`, [l.id]);
      expect(events).toEqual([{ type: 'LETTER_SCHEDULED', actor: 'scheduler', user_id: userId, subscription_id: subscriptionId }]);
    }
    for (const s of [later, disabled, suspended]) expect(await lettersOf(s.subscriptionId)).toHaveLength(0);

    const again = await Promise.all([a.app.get(ScheduleDueService).scheduleDue(), b.app.get(ScheduleDueService).scheduleDue()]);
    expect(again.map((r) => r.scheduled)).toEqual([0, 0]);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM letter WHERE subscription_id = ANY($1::uuid[])`, [due.map((d) => d.subscriptionId)]);
    expect(n).toBe(due.length);
  });

  it('two scheduler instances and overlapping ticks never create a duplicate', async () => {
    const subs = await Promise.all(Array.from({ length: 200 }, (_, i) => createSubscription({ timezone: ZONES[i % ZONES.length], slot: slotIn(((i % 5) + 1) * MIN) })));
    const services = [a, b, a, b, a].map((s) => s.app.get(ScheduleDueService));
    const results = await Promise.all(services.map((s) => s.scheduleDue()));
    expect(results.reduce((sum, r) => sum + r.scheduled, 0)).toBe(200);
    expect(results.filter((r) => r.scheduled > 0).length).toBeGreaterThan(1); // the work really was shared

    const rows: { subscription_id: string; n: number }[] = await ds.query(
      `SELECT subscription_id, count(*)::int AS n FROM letter WHERE subscription_id = ANY($1::uuid[]) GROUP BY subscription_id`,
      [subs.map((s) => s.subscriptionId)],
    );
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const ids: { id: string }[] = await ds.query(`SELECT id FROM letter WHERE subscription_id = ANY($1::uuid[])`, [subs.map((s) => s.subscriptionId)]);
    const jobs = await Promise.all(ids.map((l) => composeJob(a, l.id)));
    expect(jobs.every((j) => j?.data.letterId)).toBe(true);
  });

  it('a tick runs SCHEDULER_CONCURRENCY passes at once, and they share the due rows exactly once', async () => {
    const subs = await Promise.all(Array.from({ length: 120 }, (_, i) => createSubscription({ timezone: ZONES[i % ZONES.length], slot: slotIn(((i % 3) + 1) * MIN) })));
    const passes = jest.spyOn(a.app.get(ScheduleDueService), 'scheduleDue');
    try {
      await a.app.get(SchedulerLoopService).tick();
      expect(passes).toHaveBeenCalledTimes(2); // the default
      const results = await Promise.all(passes.mock.results.map((r) => r.value as Promise<{ scheduled: number }>));
      expect(results.reduce((sum, r) => sum + r.scheduled, 0)).toBe(120);
    } finally {
      passes.mockRestore();
    }
    const [{ n, distinct }] = await ds.query(
      `SELECT count(*)::int AS n, count(DISTINCT subscription_id)::int AS distinct FROM letter WHERE subscription_id = ANY($1::uuid[])`,
      [subs.map((s) => s.subscriptionId)],
    );
    expect({ n, distinct }).toEqual({ n: 120, distinct: 120 });
  });

  it('the database refuses a second scheduled letter for a (subscription, local date); send-now letters are extra', async () => {
    const { userId, subscriptionId } = await createSubscription();
    const insert = (kind: string) =>
      ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, scheduled_for, local_date, message_id)
         SELECT $1, s.id, s.user_id, s.topic_id, $3, now(), '2030-01-15', $4 FROM subscription s WHERE s.id = $2`,
        [randomUUID(), subscriptionId, kind, `<mz.${randomUUID()}@x>`],
      );
    await insert('scheduled');
    await expect(insert('scheduled')).rejects.toMatchObject({ code: '23505' });
    await insert('send_now');
    await insert('send_now');
    expect(await lettersOf(subscriptionId)).toHaveLength(3);
    expect(userId).toBeDefined();
  });

  it('a time or zone change the same day gives no second letter that local date', async () => {
    const tz = 'Europe/Paris';
    const now = new Date('2030-01-15T06:20:00Z'); // 07:20 in Paris
    const { subscriptionId } = await createSubscription({ timezone: tz, sendTimeLocal: '07:30', slot: new Date('2030-01-15T06:30:00Z') });
    const scheduler = a.app.get(ScheduleDueService);
    expect((await scheduler.scheduleDue(now)).scheduled).toBeGreaterThanOrEqual(1);
    expect(await lettersOf(subscriptionId)).toMatchObject([{ local_date: '2030-01-15' }]);

    // The subscriber moves the time to 20:00 the same day: the settings change recomputes the
    // cursor from the last scheduled date — tomorrow, not tonight.
    const commands = a.app.get(LetterCommands);
    const change = await ds.transaction(async (m) => {
      await m.query(`UPDATE subscription SET send_time_local = '20:00' WHERE id = $1`, [subscriptionId]);
      return commands.applySubscriptionChange(m, subscriptionId, new Date('2030-01-15T09:00:00Z'));
    });
    expect(change).toEqual({ nextRunAt: new Date('2030-01-16T19:00:00Z'), nextLocalDate: '2030-01-16', cancelledLetterIds: [] });

    // Even a cursor forced back onto tonight (a writer that ignored the last date) yields no letter…
    await ds.query(`UPDATE subscription SET next_run_at = '2030-01-15T19:00:00Z' WHERE id = $1`, [subscriptionId]);
    const evening = new Date('2030-01-15T18:50:00Z');
    await scheduler.scheduleDue(evening);
    expect(await lettersOf(subscriptionId)).toHaveLength(1);
    expect((await subscription(subscriptionId)).next_run_at).toEqual(new Date('2030-01-16T19:00:00Z'));

    // …and with the last date wiped too, and the zone moved west where it is still the 15th, the
    // unique index still stops it; the cursor moves on.
    await ds.query(
      `UPDATE subscription SET timezone = 'America/New_York', send_time_local = '14:00', next_run_at = '2030-01-15T19:00:00Z', last_scheduled_local_date = NULL WHERE id = $1`,
      [subscriptionId],
    );
    await scheduler.scheduleDue(evening);
    expect(await lettersOf(subscriptionId)).toHaveLength(1);
    const cursor = await subscription(subscriptionId);
    expect(cursor).toEqual({ next_run_at: new Date('2030-01-16T19:00:00Z'), last_date: '2030-01-15' });
  });

  it('skips a slot older than the catch-up window (recorded, not composed) and resumes', async () => {
    const { subscriptionId } = await createSubscription({ timezone: 'Asia/Tokyo', slot: slotIn(-7 * HOUR) });
    const result = await a.app.get(ScheduleDueService).scheduleDue();
    expect(result.skipped).toBeGreaterThanOrEqual(1);
    const [letter] = await lettersOf(subscriptionId);
    expect(letter).toMatchObject({ status: 'skipped', skip_reason: 'missed_catch_up_window' });
    expect(await composeJob(a, letter.id)).toBeUndefined();
    const [event] = await ds.query(`SELECT type, metadata FROM event_log WHERE letter_id = $1`, [letter.id]);
    expect(event).toMatchObject({ type: 'LETTER_SKIPPED', metadata: { reason: 'missed_catch_up_window' } });
    expect((await subscription(subscriptionId)).next_run_at.getTime()).toBeGreaterThan(Date.now());
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/mz_letters_skipped_total\{reason="missed_catch_up_window",service="scheduler"\} [1-9]/);
  });

  it('a paused subscription gets no letter; its next run is the first slot after the pause', async () => {
    const pausedUntil = new Date(Date.now() + 3 * 24 * HOUR);
    const { subscriptionId } = await createSubscription({ timezone: 'America/New_York', slot: slotIn(MIN), pausedUntil });
    await a.app.get(ScheduleDueService).scheduleDue();
    expect(await lettersOf(subscriptionId)).toHaveLength(0);
    const [sub] = await ds.query(`SELECT send_time_local FROM subscription WHERE id = $1`, [subscriptionId]);
    const cursor = await subscription(subscriptionId);
    expect(cursor.next_run_at).toEqual(nextRun({ timezone: 'America/New_York', sendTimeLocal: sub.send_time_local, now: pausedUntil }).at);
    expect(cursor.last_date).toBeNull();
  });

  it('gives new and re-enabled subscriptions (next_run_at NULL) their next run from now', async () => {
    // A send time hours away: one inside the compose lead would be scheduled in the same pass and
    // its cursor moved on to the next day (this test failed daily when 09:15 Kolkata was that close).
    const sendTimeLocal = wallClock(new Date(Date.now() + 3 * HOUR), 'Asia/Kolkata');
    const { subscriptionId } = await createSubscription({ timezone: 'Asia/Kolkata', sendTimeLocal, slot: null });
    const before = new Date();
    const result = await b.app.get(ScheduleDueService).scheduleDue();
    expect(result.initialised).toBeGreaterThanOrEqual(1);
    const cursor = await subscription(subscriptionId);
    expect(cursor.next_run_at).toEqual(nextRun({ timezone: 'Asia/Kolkata', sendTimeLocal, now: before }).at);
  });

  it('leaves a row with an invalid stored schedule alone and schedules the others', async () => {
    const bad = await createSubscription({ slot: slotIn(MIN) });
    await ds.query(`UPDATE subscription SET timezone = 'Mars/Olympus_Mons' WHERE id = $1`, [bad.subscriptionId]);
    const good = await createSubscription({ slot: slotIn(MIN) });
    const result = await a.app.get(ScheduleDueService).scheduleDue();
    expect(result.invalid).toBe(1);
    expect(await lettersOf(bad.subscriptionId)).toHaveLength(0);
    expect(await lettersOf(good.subscriptionId)).toHaveLength(1);
    await ds.query(`UPDATE subscription SET enabled = false WHERE id = $1`, [bad.subscriptionId]);
  });

  it('send-now adds a letter without moving the schedule; the day still gets its scheduled letter', async () => {
    const tz = 'Australia/Adelaide';
    const slot = slotIn(3 * MIN);
    const { userId, subscriptionId } = await createSubscription({ timezone: tz, slot });
    const before = await subscription(subscriptionId);
    const sent = await a.app.get(LetterCommands).sendNow(userId, 'resilience');
    expect(sent.queued).toBe(true);
    expect(await subscription(subscriptionId)).toEqual(before);
    expect((await composeJob(a, sent.letterId))?.data).toEqual({ v: 1, letterId: sent.letterId });

    await a.app.get(ScheduleDueService).scheduleDue();
    const letters = await lettersOf(subscriptionId);
    expect(letters.map((l: { kind: string }) => l.kind)).toEqual(['send_now', 'scheduled']);
    expect(letters[0].local_date).toBe(letters[1].local_date);
    expect(letters[1].scheduled_for).toEqual(slot);
  });

  it('serves the pipeline gauges on /metrics', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${b.url}/metrics`)).text();
      return { text, value: (re: RegExp) => Number(re.exec(text)?.[1]) };
    };
    const STUCK = /mz_letters_stuck_sending\{service="scheduler"\} (\d+)/;
    const DUE = /mz_letters_due_unsent\{service="scheduler"\} (\d+)/;
    const COMPOSED = /mz_letters_by_status\{status="composed",service="scheduler"\} (\d+)/;
    const before = await scrape();
    expect(before.value(STUCK)).toBe(0);
    // An overdue composed letter and a sending one whose worker died.
    const { subscriptionId } = await createSubscription();
    for (const [status, lease] of [['composed', null], ['sending', new Date(Date.now() - MIN)]] as const) {
      const id = randomUUID();
      await ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, lease_until)
         SELECT $1, s.id, s.user_id, s.topic_id, 'send_now', $3, now() - interval '10 minutes', current_date, $4, $5 FROM subscription s WHERE s.id = $2`,
        [id, subscriptionId, status, `<mz.${id}@x>`, lease],
      );
    }
    const { text, value } = await scrape();
    expect(value(STUCK)).toBe(1);
    expect(value(DUE)).toBe(before.value(DUE) + 2);
    expect(value(COMPOSED)).toBe(before.value(COMPOSED) + 1);
    const [{ n: scheduled }] = await ds.query(`SELECT count(*)::int AS n FROM letter WHERE status = 'scheduled'`);
    expect(value(/mz_letters_by_status\{status="scheduled",service="scheduler"\} (\d+)/)).toBe(scheduled);
    expect(text).not.toMatch(/mz_letters_by_status\{status="sent"/);
    const waiting = await a.app.get(QueueService).queue(QueueName.LettersCompose).getWaitingCount();
    expect(value(/mz_queue_depth\{queue="letters\.compose",state="waiting",service="scheduler"\} (\d+)/)).toBe(waiting);
    for (const q of ['letters.send', 'mail.transactional', 'replies.process', 'maintenance']) expect(text).toContain(`mz_queue_depth{queue="${q}",state="delayed"`);
    expect(value(/mz_queue_oldest_waiting_age_seconds\{queue="letters\.compose",service="scheduler"\} ([\d.]+)/)).toBeGreaterThan(0);
    expect(text).toMatch(/mz_letters_scheduled_total\{kind="scheduled",service="scheduler"\} \d+/);
  });

  it('one batch with every outcome: the letters, cursors and events written, and nothing for a taken local date', async () => {
    const slot = slotIn(MIN);
    const late = slotIn(-7 * HOUR);
    const scheduled = await createSubscription({ timezone: 'Asia/Tokyo', slot });
    const skipped = await createSubscription({ timezone: 'America/St_Johns', slot: late });
    const paused = await createSubscription({ timezone: 'Europe/Paris', slot, pausedUntil: new Date(Date.now() + 2 * 24 * HOUR) });
    // Its cursor does not know the local date already has its scheduled letter (a writer that
    // ignored the last date): the unique index passes the new one over, the cursor still moves.
    const taken = await createSubscription({ timezone: 'Pacific/Chatham', slot });
    const takenDate = localDateOf(slot, 'Pacific/Chatham');
    const existing = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, scheduled_for, local_date, message_id)
       SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', $3, $4, $5 FROM subscription s WHERE s.id = $2`,
      [existing, taken.subscriptionId, slot, takenDate, `<mz.${existing}@reply.test.example>`],
    );
    const eventsOf = (subscriptionId: string) =>
      ds.query(`SELECT type, actor, user_id, letter_id, metadata FROM event_log WHERE subscription_id = $1 ORDER BY id`, [subscriptionId]);

    const result = await a.app.get(ScheduleDueService).scheduleDue();
    expect(result.scheduled).toBeGreaterThanOrEqual(1);
    expect(result.skipped).toBeGreaterThanOrEqual(1);
    expect(result.advanced).toBeGreaterThanOrEqual(1);

    const [s] = await lettersOf(scheduled.subscriptionId);
    expect(s).toMatchObject({ status: 'scheduled', scheduled_for: slot, local_date: localDateOf(slot, 'Asia/Tokyo'), skip_reason: null });
    expect(await eventsOf(scheduled.subscriptionId)).toEqual([
      { type: 'LETTER_SCHEDULED', actor: 'scheduler', user_id: scheduled.userId, letter_id: s.id, metadata: { kind: 'scheduled', local_date: s.local_date, scheduled_for: slot.toISOString() } },
    ]);
    expect((await composeJob(a, s.id))?.data).toEqual({ v: 1, letterId: s.id });

    const [k] = await lettersOf(skipped.subscriptionId);
    expect(k).toMatchObject({ status: 'skipped', scheduled_for: late, local_date: localDateOf(late, 'America/St_Johns'), skip_reason: 'missed_catch_up_window' });
    expect(await eventsOf(skipped.subscriptionId)).toEqual([
      { type: 'LETTER_SKIPPED', actor: 'scheduler', user_id: skipped.userId, letter_id: k.id, metadata: { reason: 'missed_catch_up_window', local_date: k.local_date, scheduled_for: late.toISOString() } },
    ]);
    expect(await composeJob(a, k.id)).toBeUndefined();

    expect(await lettersOf(paused.subscriptionId)).toHaveLength(0);
    expect(await eventsOf(paused.subscriptionId)).toEqual([]);
    expect((await subscription(paused.subscriptionId)).next_run_at.getTime()).toBeGreaterThan(Date.now() + 24 * HOUR);

    expect((await lettersOf(taken.subscriptionId)).map((l: { id: string }) => l.id)).toEqual([existing]);
    expect(await eventsOf(taken.subscriptionId)).toEqual([]);
    const cursor = await subscription(taken.subscriptionId);
    expect(cursor.last_date).toBe(takenDate);
    expect(cursor.next_run_at.getTime()).toBeGreaterThan(slot.getTime());

    for (const sub of [scheduled, skipped]) {
      const [l] = await lettersOf(sub.subscriptionId);
      expect((await subscription(sub.subscriptionId)).last_date).toBe(l.local_date);
    }
  });

  describe('compose jobs of a batch are queued after its commit, while the next batch is claimed', () => {
    let relay: HoldableRelay;
    let c: RunningService;
    const idsOf = async (subs: { subscriptionId: string }[]): Promise<string[]> =>
      (await ds.query(`SELECT id FROM letter WHERE subscription_id = ANY($1::uuid[])`, [subs.map((x) => x.subscriptionId)])).map((r: { id: string }) => r.id);
    /** Compose jobs seen directly in Redis (through instance a, not the relay). */
    const jobsOf = async (letterIds: string[]) => (await Promise.all(letterIds.map((id) => composeJob(a, id)))).filter((j) => j !== undefined);
    const subsAt = (n: number, at: Date) => Promise.all(Array.from({ length: n }, (_, i) => createSubscription({ timezone: ZONES[i % ZONES.length], slot: at })));

    beforeAll(async () => {
      relay = await HoldableRelay.start(env.redisUrl);
      c = await startScheduler(env, { REDIS_URL: relay.url });
      for (let i = 0; i < 100 && !/mz_scheduler_tick_duration_seconds_count\{service="scheduler"\} [1-9]/.test(await (await fetch(`${c.url}/metrics`)).text()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    afterAll(async () => {
      relay?.release();
      await c?.close();
      await relay?.close();
    });

    it('claims and commits the next batch while the previous enqueue is in flight, never more than one ahead', async () => {
      // Batch size 25: the slots put these in three batches, in this order.
      const first = await subsAt(25, slotIn(MIN));
      const second = await subsAt(25, slotIn(3 * MIN));
      const third = await subsAt(5, slotIn(5 * MIN));

      relay.hold(); // c's Redis commands (batch 1's addBulk) wait in transit
      const run = c.app.get(ScheduleDueService).scheduleDue();
      try {
        await eventually(async () => (await idsOf(second)).length === second.length, 'batch 2 committed while batch 1 is being queued', 10_000, 20);
        expect(await idsOf(first)).toHaveLength(first.length);
        // Batch 2's jobs may only be queued after batch 1's, so batch 3 is not claimed yet.
        await new Promise((r) => setTimeout(r, 300));
        expect(await idsOf(third)).toHaveLength(0);
        expect(await jobsOf([...(await idsOf(first)), ...(await idsOf(second))])).toHaveLength(0);
      } finally {
        relay.release();
        await run.catch(() => undefined); // a failed expectation above leaves no tick running into the next test
      }
      const result = await run;
      expect(result).toMatchObject({ batches: 3, scheduled: 55, skipped: 0, enqueueFailed: 0 });

      const all = [...first, ...second, ...third];
      const letters = await idsOf(all);
      expect(letters).toHaveLength(all.length); // one letter per subscription
      const jobs = await jobsOf(letters);
      expect(jobs.map((j) => j.data.letterId).sort()).toEqual([...letters].sort());
      expect(jobs.every((j) => j.name === JobName.ComposeLetter)).toBe(true);
    });

    it('an enqueue failure mid-run loses no letter: its rows stay scheduled, jobless until the sweeper queues them', async () => {
      const first = await subsAt(25, slotIn(MIN));
      const second = await subsAt(10, slotIn(3 * MIN));
      const compose = a.app.get(QueueService).queue(QueueName.LettersCompose);
      const redis = await compose.client;

      // Holding one of batch 2's readers FOR UPDATE stops batch 2 inside its transaction (the
      // letter's foreign key check waits for that row), after batch 1 has committed.
      const locker = ds.createQueryRunner();
      await locker.connect();
      await locker.startTransaction();
      const waitingBefore = await compose.getWaitingCount();
      let run: Promise<Awaited<ReturnType<ScheduleDueService['scheduleDue']>>> | undefined;
      try {
        await locker.query(`SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE`, [second[0].userId]);
        run = c.app.get(ScheduleDueService).scheduleDue();
        await eventually(async () => {
          const ids = await idsOf(first);
          return ids.length === first.length && (await jobsOf(ids)).length === first.length;
        }, 'batch 1 committed and queued', 10_000, 20);
        await eventually(
          async () => (await ds.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).length > 0,
          'batch 2 waiting inside its transaction',
          10_000,
          20,
        );
        // Batch 2's letters are written but not committed: none is visible and none has a job.
        expect(await idsOf(second)).toHaveLength(0);
        expect(await compose.getWaitingCount()).toBe(waitingBefore + first.length);
        // From now on Redis refuses new jobs in this queue: its job id counter is not a number.
        await redis.set(compose.keys.id, 'not-a-number');
        await locker.commitTransaction();
      } finally {
        if (locker.isTransactionActive) await locker.rollbackTransaction();
        await locker.release();
      }
      const result = await run!;
      await redis.del(compose.keys.id);
      expect(result).toMatchObject({ scheduled: 35, enqueueFailed: 10 });

      const stranded = await idsOf(second);
      expect(stranded).toHaveLength(10);
      expect(await jobsOf(stranded)).toHaveLength(0);
      const rows = await ds.query(`SELECT DISTINCT status FROM letter WHERE id = ANY($1::uuid[])`, [stranded]);
      expect(rows).toEqual([{ status: 'scheduled' }]);

      const sweeper = a.app.get(SweepStuckLettersService);
      const swept = await sweeper.sweep(new Date(Date.now() + sweeper.graceMs + 1_000));
      expect(swept.scheduled).toBeGreaterThanOrEqual(10);
      const jobs = await jobsOf(stranded);
      expect(jobs.map((j) => j.data.letterId).sort()).toEqual([...stranded].sort());
    });

    it('a claim stuck behind a lock, then failing: the batch committed before it is queued all the same', async () => {
      const first = await subsAt(25, slotIn(MIN));
      const second = await subsAt(5, slotIn(3 * MIN));
      // X stops batch 1 inside its write (as above); Y then queues for an exclusive lock on topic,
      // which it gets as batch 1 commits, so batch 2's claim waits behind it and is terminated.
      const x = ds.createQueryRunner();
      const y = ds.createQueryRunner();
      await Promise.all([x.connect(), y.connect()]);
      const waitingOn = (pattern: string) =>
        ds.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`,
          [pattern],
        );
      let run: Promise<unknown> | undefined;
      let locking: Promise<unknown> | undefined;
      try {
        await x.startTransaction();
        await x.query(`SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE`, [first[3].userId]);
        run = c.app.get(ScheduleDueService).scheduleDue();
        run.catch(() => undefined);
        await eventually(async () => (await waitingOn('%INSERT INTO letter%')).length > 0, 'batch 1 waiting in its write', 10_000, 20);
        await y.startTransaction();
        locking = y.query(`LOCK TABLE topic IN ACCESS EXCLUSIVE MODE`);
        await eventually(async () => (await waitingOn('LOCK TABLE topic%')).length > 0, 'the exclusive lock queued', 10_000, 20);
        await x.commitTransaction();
        await locking;
        const [claim] = await eventually(async () => {
          const pids = await waitingOn('%FOR UPDATE OF s SKIP LOCKED%');
          return pids.length > 0 && pids;
        }, 'batch 2 claim waiting', 10_000, 20);
        // A claim stuck behind a lock does not hold back the jobs of the batch committed before it.
        await eventually(async () => (await jobsOf(await idsOf(first))).length === first.length, 'batch 1 queued while batch 2 waits', 5_000, 20);
        await ds.query(`SELECT pg_terminate_backend($1)`, [claim.pid]);
        await expect(run).rejects.toThrow();
      } finally {
        if (x.isTransactionActive) await x.rollbackTransaction();
        await locking?.catch(() => undefined);
        if (y.isTransactionActive) await y.rollbackTransaction();
        await Promise.all([x.release(), y.release()]);
        await run?.catch(() => undefined);
      }
      const letters = await idsOf(first);
      expect(letters).toHaveLength(first.length);
      expect((await jobsOf(letters)).map((j) => j.data.letterId).sort()).toEqual([...letters].sort());
      expect(await idsOf(second)).toHaveLength(0); // rolled back with the claim; the next tick takes them
      expect((await c.app.get(ScheduleDueService).scheduleDue()).scheduled).toBe(second.length);
    });

    it('shutdown during a tick waits for the enqueue in flight: every committed letter has its job when close resolves', async () => {
      const relay2 = await HoldableRelay.start(env.redisUrl);
      const d = await startScheduler(env, { REDIS_URL: relay2.url, SCHEDULER_TICK_MS: '100' });
      const x = ds.createQueryRunner();
      await x.connect();
      let closing: Promise<void> | undefined;
      try {
        // Not enabled yet, so the running loop does not take them before the lock below is held.
        const first = await Promise.all(Array.from({ length: 25 }, () => createSubscription({ slot: slotIn(MIN), enabled: false })));
        const second = await Promise.all(Array.from({ length: 25 }, () => createSubscription({ slot: slotIn(3 * MIN), enabled: false })));
        await x.startTransaction();
        await x.query(`SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE`, [first[0].userId]);
        await ds.query(`UPDATE subscription SET enabled = true WHERE id = ANY($1::uuid[])`, [[...first, ...second].map((x) => x.subscriptionId)]);
        await eventually(
          async () => (await ds.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO letter%'`)).length > 0,
          "the loop's tick waiting in batch 1's write",
          10_000,
          20,
        );
        relay2.hold();
        await x.commitTransaction();
        // Batch 2 commits while batch 1's jobs are held in transit; then the tick waits for them.
        await eventually(async () => (await idsOf(second)).length === second.length, 'batch 2 committed', 10_000, 20);
        let closed = false;
        closing = d.close().then(() => {
          closed = true;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(closed).toBe(false);
        relay2.release();
        await closing;
        const letters = await idsOf([...first, ...second]);
        expect(letters).toHaveLength(50);
        expect((await jobsOf(letters)).map((j) => j.data.letterId).sort()).toEqual([...letters].sort());
      } finally {
        relay2.release();
        if (x.isTransactionActive) await x.rollbackTransaction();
        await x.release();
        await (closing ?? d.close());
        await relay2.close();
      }
    });
  });
});
