/**
 * The built inbound service as a real process (no LLM configured: rules only), with the test's
 * own Dovecot for IMAP and, for the cancellation case, the built mailer against TestSmtpServer.
 *
 * - one reply delivered by all three paths (webhook, SMTP, IMAP) → one inbound row, one effect;
 * - an unclear reply without an LLM → kept as a note;
 * - unsubscribe by reply while the next letter is already composed with a delayed send job: the
 *   row is cancelled, the job removed, and the letter is never sent (even a re-queued job is
 *   refused by the mailer's ledger), while another subscriber's letter goes out;
 * - SIGTERM: the SMTP server closes and the process exits 0.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Queue } from 'bullmq';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { TestSmtpServer } from '../fakes/test-smtp-server';
import { eventually, freePort, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { DovecotTestServer } from './inbound-support/dovecot-test-server';
import { loadContext, loadFixture } from './inbound-support/reply-fixtures';
import { signWebhook } from '../../apps/inbound/src/receive/webhook/webhook-signature';
import { metricValue } from '../support/metrics';

const REPLY_DOMAIN = 'reply.e2e.example';
const WEBHOOK_SECRET = 'e2e-inbound-webhook-secret-0123';

describe('inbound service (built, real processes)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let dovecot: DovecotTestServer;
  let smtpSink: TestSmtpServer;
  let inbound: ServiceProcess;
  let mailer: ServiceProcess;
  let smtpPort: number;
  let vars: Record<string, string>;
  const context = loadContext();

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    [dovecot, smtpSink] = await Promise.all([DovecotTestServer.start(), TestSmtpServer.start()]);
    smtpPort = await freePort();
    vars = {
      ...env.vars,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      REPLY_DOMAIN,
      WEBHOOK_SECRET,
      SMTP_URL: smtpSink.url,
      APP_BASE_URL: 'https://mentor.e2e.example',
      INBOUND_IMAP_POLL_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    [inbound, mailer] = await Promise.all([
      startServiceProcess('inbound', { ...vars, INBOUND_SMTP_PORT: String(smtpPort), INBOUND_IMAP_URL: dovecot.url }, { readyTimeoutMs: 60_000 }),
      startServiceProcess('mailer', vars, { readyTimeoutMs: 60_000 }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([inbound?.stop(), mailer?.stop()]);
    await Promise.all([dovecot?.dispose(), smtpSink?.close()]);
    await ds?.destroy();
    await env?.dispose();
  });

  async function subscriber(topic = 'resilience') {
    const email = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    const [u] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam') RETURNING id`, [email]);
    const [s] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone, next_run_at) SELECT $1, id, 'Europe/Berlin', now() + interval '1 day' FROM topic WHERE code = $2 RETURNING id`, [u.id, topic]);
    const letterId = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'sent', now() - interval '2 hours', current_date - 1, 'Seneca [mz:' || $4 || ']', 'Dear Sam', $2, now() - interval '2 hours'
         FROM subscription s WHERE s.id = $3`,
      [letterId, `<mz.${letterId}@${REPLY_DOMAIN}>`, s.id, topic],
    );
    const values = { ...context.substitutions, '{{SUBSCRIBER}}': email, '{{REPLY_DOMAIN}}': REPLY_DOMAIN, '{{LETTER_MESSAGE_ID}}': `<mz.${letterId}@${REPLY_DOMAIN}>` };
    return { userId: u.id as string, email, subscriptionId: s.id as string, letterId, values };
  }

  /** A composed letter due in `inMs`, with its delayed send job queued the way the composer queues it. */
  async function composedNext(subscriptionId: string, inMs: number): Promise<string> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, body_html, message_id, composed_at, model)
       SELECT $1, s.id, s.user_id, s.topic_id, 'composed', now() + make_interval(secs => $3::float8 / 1000), current_date + 1 + (random() * 1000)::int,
              'The next letter [mz:resilience]', 'Dear Sam, the next one.', '<p>Dear Sam, the next one.</p>', $4, now(), 'offline'
         FROM subscription s WHERE s.id = $2`,
      [id, subscriptionId, inMs, `<mz.${id}@${REPLY_DOMAIN}>`],
    );
    await sendQueue().add('send-letter', { v: 1, letterId: id }, { jobId: id, delay: inMs });
    return id;
  }

  let queue: Queue | null = null;
  const sendQueue = () => (queue ??= new Queue('letters.send', { connection: { url: env.redisUrl }, prefix: env.queuePrefix }));
  afterAll(async () => {
    await queue?.close();
  });

  const rowsFor = (userId: string) => ds.query(`SELECT * FROM inbound_message WHERE matched_user_id = $1 ORDER BY received_at`, [userId]);
  const sign = (body: Buffer) => ({ 'content-type': 'message/rfc822', 'x-mz-signature': signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000)) });
  const smtpSend = async (raw: Buffer, from: string) => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    try {
      return await t.sendMail({ envelope: { from, to: [`reply@${REPLY_DOMAIN}`] }, raw });
    } finally {
      t.close();
    }
  };
  const metric = (name: string, labels: Record<string, string>) => metricValue(inbound.url, name, labels);

  it('one reply delivered by webhook, SMTP and IMAP → one inbound row, one effect', async () => {
    const sam = await subscriber();
    const raw = loadFixture('gmail-done-short.eml', sam.values);

    const res = await fetch(`${inbound.url}/webhooks/reply`, { method: 'POST', headers: sign(raw), body: new Uint8Array(raw) });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, duplicate: false });
    const [row] = await eventually(async () => {
      const r = await rowsFor(sam.userId);
      return r.length && r[0].processed_at ? r : null;
    }, 'webhook copy processed', 20_000);
    expect(row).toMatchObject({ source: 'webhook', kind: 'reply', intent: 'done' });

    const info = await smtpSend(raw, sam.email);
    expect(info.response).toMatch(/^250 .*already received/);

    await dovecot.append(raw);
    await eventually(async () => (await dovecot.messages()).every((m) => m.flags.includes('\\Seen')), 'IMAP copy taken and flagged', 20_000);

    const replay = await fetch(`${inbound.url}/webhooks/reply`, { method: 'POST', headers: sign(raw), body: new Uint8Array(raw) });
    expect(await replay.json()).toEqual({ accepted: true, duplicate: true });

    expect(await rowsFor(sam.userId)).toHaveLength(1);
    expect((await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE message_id = $1`, [row.message_id]))[0].n).toBe(1);
    expect(await ds.query(`SELECT completed, streak_at_time FROM progress WHERE subscription_id = $1`, [sam.subscriptionId])).toEqual([{ completed: true, streak_at_time: 1 }]);
    for (const source of ['webhook', 'smtp', 'imap']) expect(await metric('mz_inbound_received_total', { source })).toBeGreaterThanOrEqual(1);
    for (const source of ['webhook', 'smtp', 'imap']) expect(await metric('mz_inbound_duplicates_total', { source })).toBeGreaterThanOrEqual(1);
  });

  it('without an LLM, a reply the rules cannot settle is kept as a note', async () => {
    const sam = await subscriber();
    await smtpSend(loadFixture('gmail-almost-unsubscribed.eml', sam.values), sam.email);
    const [row] = await eventually(async () => {
      const r = await rowsFor(sam.userId);
      return r.length && r[0].processed_at ? r : null;
    }, 'processed', 20_000);
    expect(row).toMatchObject({ source: 'smtp', kind: 'reply', intent: 'note', needs_review: false });
    expect(row.analysis.source).toBe('unclear');
    expect((await ds.query(`SELECT enabled FROM subscription WHERE id = $1`, [sam.subscriptionId]))[0].enabled).toBe(true);
  });

  it('unsubscribe by reply cancels the already-composed next letter: it is never sent', async () => {
    const sam = await subscriber();
    const control = await subscriber();
    const nextLetter = await composedNext(sam.subscriptionId, 4_000);
    const controlLetter = await composedNext(control.subscriptionId, 4_000);
    expect(await (await sendQueue().getJob(nextLetter))!.getState()).toBe('delayed');

    await smtpSend(loadFixture('gmail-unsubscribe-clear.eml', sam.values), sam.email);
    await eventually(async () => (await ds.query(`SELECT status FROM letter WHERE id = $1`, [nextLetter]))[0].status === 'cancelled', 'next letter cancelled', 20_000);
    const [sub] = await ds.query(`SELECT enabled, next_run_at FROM subscription WHERE id = $1`, [sam.subscriptionId]);
    expect(sub).toEqual({ enabled: false, next_run_at: null });
    expect(await sendQueue().getJob(nextLetter)).toBeUndefined();

    // Even a send job re-queued for it (a straggler, a sweeper) is refused by the ledger.
    await sendQueue().add('send-letter', { v: 1, letterId: nextLetter }, { jobId: `${nextLetter}` });
    await eventually(async () => (await ds.query(`SELECT status FROM letter WHERE id = $1`, [controlLetter]))[0].status === 'sent', 'control letter sent', 30_000);
    await eventually(async () => {
      const job = await sendQueue().getJob(nextLetter);
      return !job || (await job.getState()) === 'completed';
    }, 're-queued job handled', 20_000);
    expect(smtpSink.messages.some((m) => m.envelope.to.includes(control.email))).toBe(true);
    expect(smtpSink.messages.some((m) => m.envelope.to.includes(sam.email))).toBe(false);
    expect((await ds.query(`SELECT status, sent_at FROM letter WHERE id = $1`, [nextLetter]))[0]).toEqual({ status: 'cancelled', sent_at: null });
    const events = (await ds.query(`SELECT type FROM event_log WHERE subscription_id = $1 ORDER BY id`, [sam.subscriptionId])).map((r: { type: string }) => r.type);
    expect(events).toEqual(expect.arrayContaining(['UNSUBSCRIBE', 'LETTER_CANCELLED', 'REPLY_PROCESSED']));
  });

  it('SIGTERM closes the SMTP server and exits 0', async () => {
    expect(await inbound.stop(20_000)).toBe(0);
    const outcome = await new Promise<string>((resolve) => {
      const s = connect(smtpPort, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});
