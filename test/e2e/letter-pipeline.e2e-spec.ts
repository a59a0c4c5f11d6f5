/**
 * The daily letter end to end, with the built services as real processes: schedulers, composer
 * (the real `openai` client against FakeLlmServer) and mailer (pooled nodemailer against
 * TestSmtpServer), on real Postgres and Redis.
 *
 * - 200 subscriptions in 30 zones, due within seconds, three scheduler replicas → every letter
 *   arrives exactly once with every header, lateness recorded;
 * - kill -9 of composer and mailer mid-batch, then restart → nothing lost, a Message-ID twice
 *   only within the counted ambiguous resends;
 * - every Redis key of the run deleted mid-run → the sweeper rebuilds the jobs from Postgres and
 *   every letter is still sent exactly once.
 *
 * Slots are set directly on `next_run_at` a few seconds ahead (the scheduler treats the cursor
 * as the slot), so the run does not wait for minute boundaries.
 */
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { FakeLlmServer } from '../fakes/fake-llm-server';
import { type CapturedMail, TestSmtpServer } from '../fakes/test-smtp-server';
import { eventually, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, deleteRedisPrefix, type TestEnv } from '../support/test-env';
import { metricValue } from '../support/metrics';

const ZONES = [
  'UTC', 'Europe/London', 'Europe/Paris', 'Europe/Helsinki', 'Europe/Moscow', 'Asia/Dubai', 'Asia/Tehran', 'Asia/Karachi',
  'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Adelaide',
  'Australia/Sydney', 'Pacific/Auckland', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Honolulu', 'America/Anchorage',
  'America/Los_Angeles', 'America/Denver', 'America/Chicago', 'America/New_York', 'America/St_Johns', 'America/Sao_Paulo',
  'Atlantic/Azores', 'Africa/Lagos', 'Africa/Nairobi',
];
const TOPICS = ['resilience', 'curiosity', 'discipline', 'writing', 'persistence', 'focus'];
const REPLY_DOMAIN = 'reply.e2e.example';
const APP_BASE_URL = 'https://mentor.e2e.example';

interface Stack {
  env: TestEnv;
  ds: DataSource;
  llm: FakeLlmServer;
  smtp: TestSmtpServer;
  vars: Record<string, string>;
  schedulers: ServiceProcess[];
  composer: ServiceProcess;
  mailer: ServiceProcess;
  /** Every process started, restarted ones included (for output on failure and for cleanup). */
  all: ServiceProcess[];
}

async function startStack(opts: { schedulers: number; leaseMs: number; llmLatencyMs: number; smtpDelayMs: number }): Promise<Stack> {
  const env = await createTestEnv();
  const ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
  await ds.initialize();
  await seedDatabase(ds);
  const [llm, smtp] = await Promise.all([FakeLlmServer.start({ latencyMs: opts.llmLatencyMs }), TestSmtpServer.start({ acceptDelayMs: opts.smtpDelayMs })]);
  const vars = {
    ...env.vars,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: 'e2e-key',
    LLM_MODEL: 'e2e-model',
    LLM_TIMEOUT_MS: '20000',
    SMTP_URL: smtp.url,
    SMTP_RATE_PER_SEC: '200',
    REPLY_DOMAIN,
    APP_BASE_URL,
    SCHEDULER_TICK_MS: '500',
    SCHEDULER_BATCH_SIZE: '20',
    SWEEP_INTERVAL_MS: '1000',
    LEASE_MS: String(opts.leaseMs),
    COMPOSER_CONCURRENCY: '8',
    MAILER_CONCURRENCY: '10',
    RETRY_DELAY_SCALE: '0.01',
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  const all: ServiceProcess[] = [];
  const start = async (app: 'scheduler' | 'composer' | 'mailer') => {
    const p = await startServiceProcess(app, vars, { readyTimeoutMs: 60_000 });
    all.push(p);
    return p;
  };
  const [composer, mailer, ...schedulers] = await Promise.all([
    start('composer'), start('mailer'), ...Array.from({ length: opts.schedulers }, () => start('scheduler')),
  ]);
  return { env, ds, llm, smtp, vars, schedulers, composer, mailer, all };
}

async function stopStack(s: Stack | undefined, failed: boolean): Promise<void> {
  if (!s) return;
  if (failed) for (const p of s.all) console.log(`--- ${p.app} :${p.port}\n${p.output().slice(-6000)}`);
  await Promise.all(s.all.map((p) => p.kill()));
  await Promise.all([s.llm.close(), s.smtp.close()]);
  if (s.ds.isInitialized) await s.ds.destroy();
  await s.env.dispose();
}

async function restart(s: Stack, which: 'composer' | 'mailer'): Promise<void> {
  const p = await startServiceProcess(which, s.vars, { readyTimeoutMs: 60_000 });
  s.all.push(p);
  s[which] = p;
}

/** Wall-clock 'HH:MM' of an instant in a zone (the subscription's send time for that slot). */
function wallClock(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

/** n users with one subscription each, spread over ZONES and TOPICS, due at `firstAt` + up to `spreadMs`. */
async function seedDueSubscriptions(ds: DataSource, n: number, firstAt: number, spreadMs: number): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) => {
    const at = new Date(firstAt + Math.round((i * spreadMs) / n));
    const tz = ZONES[i % ZONES.length];
    return { email: `e2e-${i}@subscribers.example`, topic: TOPICS[i % TOPICS.length], tz, time: wallClock(at, tz), at: at.toISOString() };
  });
  await ds.query(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS v(email, topic, tz, time, at)
     ), u AS (
       INSERT INTO app_user (email, name) SELECT email, 'Subscriber ' || split_part(email, '@', 1) FROM v RETURNING id, email
     )
     INSERT INTO subscription (user_id, topic_id, timezone, send_time_local, next_run_at)
     SELECT u.id, t.id, v.tz, v.time, v.at FROM v JOIN u ON u.email = v.email JOIN topic t ON t.code = v.topic`,
    [rows.map((r) => r.email), rows.map((r) => r.topic), rows.map((r) => r.tz), rows.map((r) => r.time), rows.map((r) => r.at)],
  );
}

interface LetterRow {
  id: string;
  status: string;
  message_id: string;
  scheduled_for: Date;
  sent_at: Date | null;
  local_date: string;
  model: string | null;
  subject: string | null;
  email: string;
  topic: string;
  timezone: string;
  subscription_id: string;
}

const letters = (ds: DataSource): Promise<LetterRow[]> =>
  ds.query(
    `SELECT l.id, l.status, l.message_id, l.scheduled_for, l.sent_at, l.local_date::text AS local_date, l.model, l.subject,
            u.email, t.code AS topic, s.timezone, l.subscription_id
       FROM letter l JOIN app_user u ON u.id = l.user_id JOIN topic t ON t.id = l.topic_id JOIN subscription s ON s.id = l.subscription_id`,
  );

const countWhere = async (ds: DataSource, where: string): Promise<number> => (await ds.query(`SELECT count(*)::int AS n FROM letter WHERE ${where}`))[0].n;

/** Sum of a counter over processes (restarted processes start from zero, so sum the live ones). */
async function metricSum(procs: ServiceProcess[], name: string): Promise<number> {
  return (await Promise.all(procs.map((p) => metricValue(p.url, name)))).reduce((a, b) => a + b, 0);
}

/** Message-ID → how many times the SMTP server received it. */
function deliveries(mails: CapturedMail[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of mails) seen.set(m.messageId ?? '', (seen.get(m.messageId ?? '') ?? 0) + 1);
  return seen;
}

/** Starts a stack for one test and always tears it down; process output is printed only on failure. */
async function withStack(opts: Parameters<typeof startStack>[0], fn: (s: Stack) => Promise<void>): Promise<void> {
  let stack: Stack | undefined;
  let failed = false;
  try {
    stack = await startStack(opts);
    await fn(stack);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await stopStack(stack, failed);
  }
}

// The three runs are independent (own database, queue prefix, fakes and processes) and mostly
// wait on the clock, so they run concurrently to keep the file near two minutes. Their timeouts
// are twice that: on a loaded 2-core machine starting three stacks at once takes a minute alone,
// and each test's own waits (90 s for the mail) bound it long before a timeout would.
describe('letter pipeline end to end', () => {
  it.concurrent('200 subscriptions in 30 zones, three scheduler replicas: every letter exactly once, with every header', () =>
    withStack({ schedulers: 3, leaseMs: 60_000, llmLatencyMs: 50, smtpDelayMs: 0 }, async (s) => {
      const first = Date.now() + 8_000;
      await seedDueSubscriptions(s.ds, 200, first, 10_000);

      await s.smtp.waitForCount(200, 90_000);
      await eventually(async () => (await countWhere(s.ds, `status = 'sent'`)) === 200, 'all 200 letters marked sent', 20_000);
      await new Promise((r) => setTimeout(r, 1_500)); // would a straggler duplicate show up?

      const rows = await letters(s.ds);
      expect(rows).toHaveLength(200);
      expect(new Set(rows.map((r) => r.subscription_id)).size).toBe(200);
      expect(s.smtp.messages).toHaveLength(200);
      const byMessageId = new Map(rows.map((r) => [r.message_id, r]));
      expect([...deliveries(s.smtp.messages).entries()].filter(([, n]) => n !== 1)).toEqual([]);

      for (const mail of s.smtp.messages) {
        const row = byMessageId.get(mail.messageId ?? '');
        expect(row).toBeDefined();
        const h = mail.rawHeaders;
        expect(mail.envelope.to).toEqual([row!.email]);
        expect(h.get('message-id')).toBe(`<mz.${row!.id}@${REPLY_DOMAIN}>`);
        expect(h.get('x-mz-letter')).toBe(row!.id);
        expect(h.get('x-mz-topic')).toBe(row!.topic);
        // The mailto is the subscription's signed u+ address on the reply domain (issue 11).
        expect(h.get('list-unsubscribe')).toMatch(new RegExp(`^<${APP_BASE_URL.replace(/\./g, '\\.')}/u/[^>]+>, <mailto:u\\+[0-9a-f]{32}\\.[0-9a-f]{20}@${REPLY_DOMAIN.replace(/\./g, '\\.')}\\?subject=unsubscribe>$`));
        expect(h.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
        expect(h.get('reply-to')).toContain(`@${REPLY_DOMAIN}`);
        expect(h.get('auto-submitted')).toBe('auto-generated');
        expect(mail.subject).toContain(`[mz:${row!.topic}]`);
        expect(mail.text?.length).toBeGreaterThan(80);
      }

      // Composed by the LLM through the openai client (not the offline composer).
      expect(rows.every((r) => r.model && r.model !== 'offline')).toBe(true);
      const letterRequests = s.llm.requests.filter((r) => r.body?.response_format?.type === 'json_schema');
      expect(letterRequests.length).toBeGreaterThanOrEqual(200);
      expect(letterRequests.every((r) => String(r.headers.authorization) === 'Bearer e2e-key')).toBe(true);

      // On time (never early), in the subscriber's local date, lateness recorded.
      for (const r of rows) {
        expect(r.sent_at!.getTime()).toBeGreaterThanOrEqual(r.scheduled_for.getTime() - 1_000);
        expect(r.local_date).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: r.timezone }).format(r.scheduled_for));
      }
      expect(new Set(rows.map((r) => r.timezone)).size).toBe(ZONES.length);
      expect(await metricSum([s.mailer], 'mz_letter_lateness_seconds_count')).toBe(200);
      expect(await metricSum(s.schedulers, 'mz_letters_scheduled_total')).toBe(200);
      expect(await metricSum(s.schedulers, 'mz_ambiguous_resends_total')).toBe(0);
    }), 240_000);

  it.concurrent('kill -9 of composer and mailer mid-batch, then restart: nothing lost, duplicates only as counted ambiguous resends', () =>
    // A slow model (at most 8 letters/s) keeps composition going while the first slots are sent.
    withStack({ schedulers: 1, leaseMs: 4_000, llmLatencyMs: 1_000, smtpDelayMs: 250 }, async (s) => {
      const N = 120;
      await seedDueSubscriptions(s.ds, N, Date.now() + 8_000, 4_000);

      // Both die at once, in the middle of composing and of sending (one stalled-job window for both).
      // The composer works in waves (eight LLM calls of 1 s that end together); between a wave's
      // marks and the next wave's claims no row is `composing` for a few ms, and a kill landing
      // there left nothing for the sweeper to re-drive from composing (seen once on a loaded
      // clean-clone run). So the kill waits until rows are in both stages: a composing row stays so
      // for the second of its LLM call, far longer than the few ms to the kill.
      await s.smtp.waitForCount(10, 90_000);
      await eventually(async () => (await countWhere(s.ds, `status = 'composing'`)) > 0 && (await countWhere(s.ds, `status = 'sending'`)) > 0, 'letters being composed and sent', 30_000, 10);
      await Promise.all([s.composer.kill(), s.mailer.kill()]);
      expect(s.smtp.count()).toBeLessThan(N);
      expect(await countWhere(s.ds, `body_text IS NULL`)).toBeGreaterThan(0);
      await Promise.all([restart(s, 'composer'), restart(s, 'mailer')]);

      await eventually(async () => (await countWhere(s.ds, `status = 'sent'`)) === N, `all ${N} letters sent after the crashes`, 110_000, 250);
      await new Promise((r) => setTimeout(r, 1_500));

      const rows = await letters(s.ds);
      expect(rows).toHaveLength(N);
      const seen = deliveries(s.smtp.messages);
      // Nothing lost: every letter reached the SMTP server…
      for (const r of rows) expect(seen.get(r.message_id) ?? 0).toBeGreaterThanOrEqual(1);
      expect([...seen.keys()].every((id) => rows.some((r) => r.message_id === id))).toBe(true);
      // …and a second delivery happened only for a send the sweeper re-drove and counted as ambiguous.
      const twice = [...seen.values()].filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0);
      const ambiguous = await metricSum(s.schedulers, 'mz_ambiguous_resends_total');
      expect(twice).toBeLessThanOrEqual(ambiguous);
      // The crashes really left leases behind, in both stages.
      const reDriven: { was: string; n: number }[] = await s.ds.query(
        `SELECT metadata->>'from' AS was, count(*)::int AS n FROM event_log WHERE actor = 'sweeper' AND metadata->>'reason' = 'lease_expired' GROUP BY 1 ORDER BY 1`,
      );
      expect(reDriven.map((r) => r.was)).toEqual(['composing', 'sending']);
      expect(ambiguous).toBe(reDriven.find((r) => r.was === 'sending')!.n);
    }), 270_000);

  it.concurrent('every Redis key of the run deleted mid-run: the sweeper rebuilds the jobs from Postgres, every letter still sent once', () =>
    withStack({ schedulers: 1, leaseMs: 60_000, llmLatencyMs: 200, smtpDelayMs: 0 }, async (s) => {
      const N = 120;
      await seedDueSubscriptions(s.ds, N, Date.now() + 10_000, 3_000);

      await eventually(async () => (await countWhere(s.ds, `body_text IS NOT NULL`)) >= 20, 'composition under way', 60_000, 20);
      await deleteRedisPrefix(s.env.redisUrl, s.env.queuePrefix);
      const lostAt = await countWhere(s.ds, `status = 'scheduled'`);
      expect(lostAt).toBeGreaterThan(0); // compose jobs were lost, not only send jobs

      await eventually(async () => (await countWhere(s.ds, `status = 'sent'`)) === N, `all ${N} letters sent after the wipe`, 90_000, 250);
      await new Promise((r) => setTimeout(r, 1_500));

      const rows = await letters(s.ds);
      const seen = deliveries(s.smtp.messages);
      expect(s.smtp.messages).toHaveLength(N);
      for (const r of rows) expect(seen.get(r.message_id)).toBe(1);
      expect(await metricSum(s.schedulers, 'mz_sweeper_jobs_rebuilt_total')).toBeGreaterThan(0);
      expect(await metricSum(s.schedulers, 'mz_ambiguous_resends_total')).toBe(0);
    }), 240_000);
});
