/**
 * The mailer in-process against real Postgres, Redis/BullMQ and a real SMTP server (TestSmtpServer)
 * through its pooled nodemailer transport. Letters are inserted `composed`, as the composer leaves
 * them; jobs are driven the way the pipeline drives them (ensureJob with job id = letter id).
 *
 * A test-only trigger records every UPDATE of a letter's status, so transient states (`retrying`
 * between two attempts) are asserted from what was really written, not caught by polling luck.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { JobName, QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { hashToken, letterMessageId, mailAddressSecret, verifySignedAddress, verifyUnsubscribeToken } from '@mz/domain';
import { QueueService, type RunningService, startService } from '@mz/platform';
import { TestSmtpServer, type CapturedMail } from '../../../test/fakes/test-smtp-server';
import { eventually } from '../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { MailerModule } from './mailer.module';
import { FOOTER_CACHE_MS, SendLetterService } from './send-letter.service';
import { metricValue } from '../../../test/support/metrics';

// Retries and SMTP round trips: longer than Jest's default 5 s (project testTimeout is not applied in multi-project runs).
jest.setTimeout(60_000);

const APP_BASE_URL = 'https://mentor.test';
const REPLY_DOMAIN = 'reply.mentor.test';
const SESSION_SECRET = 'integration-test-session-secret-0123456789';

interface TrailRow { status: string; error_type: string | null; attempts: number; next_retry_at: Date | null; quote_id: string | null }

describe('mailer: letters.send and mail.transactional', () => {
  let env: TestEnv;
  let smtp: TestSmtpServer;
  let ds: DataSource;
  let svc: RunningService;
  let queues: QueueService;

  beforeAll(async () => {
    env = await createTestEnv();
    smtp = await TestSmtpServer.start();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    await ds.query(`
      CREATE TABLE test_letter_trail (seq bigserial PRIMARY KEY, letter_id uuid, status text, error_type text, attempts int, next_retry_at timestamptz, quote_id uuid);
      CREATE FUNCTION test_letter_trail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO test_letter_trail (letter_id, status, error_type, attempts, next_retry_at, quote_id)
          VALUES (NEW.id, NEW.status, NEW.error_type, NEW.attempts, NEW.next_retry_at, NEW.quote_id);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_letter_trail AFTER UPDATE ON letter FOR EACH ROW EXECUTE FUNCTION test_letter_trail();`);
    svc = await startService(
      { service: 'mailer', defaultPort: 3004, rootModule: (platform) => MailerModule.register(platform) },
      {
        ...env.vars, PORT: '0', SMTP_URL: smtp.url, SMTP_POOL_SIZE: '3', RETRY_DELAY_SCALE: '0.01',
        APP_BASE_URL, REPLY_DOMAIN, SESSION_SECRET, MAIL_FROM: 'Mentor Zero <mentor@mentor.test>',
      },
    );
    queues = svc.app.get(QueueService);
  });

  afterAll(async () => {
    await svc?.close();
    await smtp?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  beforeEach(() => smtp.reset());

  // ---- fixtures -------------------------------------------------------------------------------

  async function makeUser(email = `user-${randomUUID().slice(0, 8)}@example.test`, status = 'active'): Promise<{ id: string; email: string }> {
    const [u] = await ds.query(`INSERT INTO app_user (email, status) VALUES ($1, $2) RETURNING id, email`, [email, status]);
    return u;
  }

  async function makeSubscription(userId: string, topicCode = 'focus', enabled = true): Promise<string> {
    const [s] = await ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, timezone, send_time_local) SELECT $1, id, $3, 'Europe/Berlin', '07:30' FROM topic WHERE code = $2 RETURNING id`,
      [userId, topicCode, enabled],
    );
    return s.id;
  }

  let dayOffset = 0;
  async function composedLetter(subscriptionId: string, opts: { scheduledFor?: Date; subject?: string } = {}): Promise<string> {
    const id = randomUUID();
    const localDate = new Date(Date.UTC(2030, 0, 1) + dayOffset++ * 86_400_000).toISOString().slice(0, 10);
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, subject, body_text, body_html, message_id, composed_at, model)
       SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', 'composed', $3, $4, $5, $6, $7, $8, now(), 'offline'
         FROM subscription s WHERE s.id = $2`,
      [id, subscriptionId, opts.scheduledFor ?? new Date(Date.now() - 1000), localDate, opts.subject ?? 'One thing at a time [mz:focus]',
        'Dear friend,\n\nToday, do one thing at a time.', '<p>Dear friend,</p><p>Today, do one thing at a time.</p>', letterMessageId(id, REPLY_DOMAIN)],
    );
    return id;
  }

  const drive = (letterId: string) => queues.ensureJob(JobName.SendLetter, { v: 1, letterId }, letterId);
  const letter = async (id: string) => (await ds.query(`SELECT * FROM letter WHERE id = $1`, [id]))[0];
  const trail = async (id: string): Promise<TrailRow[]> =>
    ds.query(`SELECT status, error_type, attempts, next_retry_at, quote_id FROM test_letter_trail WHERE letter_id = $1 ORDER BY seq`, [id]);
  const events = async (id: string): Promise<string[]> =>
    (await ds.query(`SELECT type FROM event_log WHERE letter_id = $1 ORDER BY id`, [id])).map((r: { type: string }) => r.type);
  const untilStatus = (id: string, status: string, timeoutMs = 15_000) =>
    eventually(async () => ((await letter(id)).status === status ? letter(id) : null), `letter ${id} ${status}`, timeoutMs, 25);

  /** Waits for the job to finish and returns how it ended. */
  async function jobEnd(queue: QueueName, jobId: string): Promise<{ state: string; returnvalue: unknown; attemptsMade: number }> {
    return eventually(async () => {
      const state = await queues.queue(queue).getJobState(jobId);
      if (state !== 'completed' && state !== 'failed') return null;
      // Read the job after its state says finished: a copy read before could predate the script
      // that wrote its return value and its state together.
      const job = await queues.queue(queue).getJob(jobId);
      return job ? { state, returnvalue: job.returnvalue, attemptsMade: job.attemptsMade } : null;
    }, `job ${jobId} finished`, 15_000, 25);
  }

  const metric = (name: string, labels: Record<string, string> = {}) => metricValue(svc.url, name, labels);

  const messagesTo = (email: string): CapturedMail[] => smtp.messages.filter((m) => m.envelope.to.includes(email));

  // ---- tests ----------------------------------------------------------------------------------

  it("fills the footer in the letter's language: German for a German letter, the admin's English one for an unsupported language", async () => {
    const user = await makeUser();
    const subId = await makeSubscription(user.id);
    const de = await composedLetter(subId);
    const it = await composedLetter(subId);
    await ds.query(`UPDATE letter SET language = CASE id WHEN $1::uuid THEN 'de-CH' ELSE 'it' END WHERE id IN ($1, $2)`, [de, it]);
    await drive(de);
    await drive(it);
    await untilStatus(de, 'sent');
    await untilStatus(it, 'sent');
    const [deMail] = messagesTo(user.email).filter((m) => m.messageId === `<mz.${de}@${REPLY_DOMAIN}>`);
    const [itMail] = messagesTo(user.email).filter((m) => m.messageId === `<mz.${it}@${REPLY_DOMAIN}>`);
    expect(deMail.text).toContain('Du erhältst diese E-Mail, weil du Focus bei Mentor Zero abonniert hast.');
    expect(deMail.text).toMatch(/Focus abbestellen: https:\/\/mentor\.test\/u\//);
    expect(deMail.html).toContain('Deine Einstellungen</a>');
    expect(itMail.text).toContain('subscribed to Focus on Mentor Zero');
  });

  it('delivers a composed letter once, with every header, the footer links and the ledger row + event', async () => {
    const user = await makeUser();
    const subId = await makeSubscription(user.id);
    const id = await composedLetter(subId);
    await drive(id);

    const [mail] = await smtp.waitForCount(1);
    const row = await untilStatus(id, 'sent');

    expect(mail.envelope.to).toEqual([user.email]);
    // Envelope sender: the letter's own signed bounce address (VERP); Reply-To: its signed reply address.
    const secret = mailAddressSecret({ SESSION_SECRET });
    expect(verifySignedAddress(mail.envelope.from, REPLY_DOMAIN, secret)).toEqual({ kind: 'bounce_letter', id });
    expect(mail.messageId).toBe(`<mz.${id}@${REPLY_DOMAIN}>`);
    expect(mail.subject).toBe('One thing at a time [mz:focus]');
    expect(verifySignedAddress(mail.parsed?.replyTo?.text ?? '', REPLY_DOMAIN, secret)).toEqual({ kind: 'reply', id });
    expect(mail.rawHeaders.get('feedback-id')).toBe('focus:letter:mentorzero');
    expect(mail.rawHeaders.get('x-mz-topic')).toBe('focus');
    expect(mail.rawHeaders.get('x-mz-letter')).toBe(id);
    expect(mail.rawHeaders.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.rawHeaders.get('auto-submitted')).toBe('auto-generated');
    expect(mail.rawHeaders.get('x-auto-response-suppress')).toBe('OOF, AutoReply');

    // List-Unsubscribe: https first (a token that verifies to this subscription), then the
    // subscription's signed mailto address.
    const lu = /^<https:\/\/mentor\.test\/u\/([^>]+)>, <mailto:([^?>]+)\?subject=unsubscribe>$/.exec(mail.rawHeaders.get('list-unsubscribe') ?? '');
    expect(lu).not.toBeNull();
    expect(verifyUnsubscribeToken(lu![1], SESSION_SECRET)).toBe(subId);
    expect(verifySignedAddress(lu![2], REPLY_DOMAIN, secret)).toEqual({ kind: 'unsubscribe', id: subId });

    // Footer: a one-time login link whose token exists only hashed, for 48 h; the unsubscribe link.
    const login = /https:\/\/mentor\.test\/login\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(login).not.toBeNull();
    const [tokenRow] = await ds.query(`SELECT user_id, purpose, expires_at, used_at FROM login_token WHERE token_hash = $1`, [hashToken(login![1])]);
    expect(tokenRow).toMatchObject({ user_id: user.id, purpose: 'footer_login', used_at: null });
    expect(new Date(tokenRow.expires_at).getTime() - Date.now()).toBeGreaterThan(47.9 * 3_600_000);
    expect(mail.text).toContain(`https://mentor.test/u/${lu![1]}`);
    expect(mail.html).toContain(`href="https://mentor.test/login/${login![1]}"`);
    expect(mail.html).toContain('Today, do one thing at a time.');
    expect(mail.text).toContain('subscribed to Focus on Mentor Zero');

    // The closing quote is the one recorded on the row and in the user's history.
    const [quote] = await ds.query(`SELECT text FROM bottom_quote WHERE id = $1`, [row.quote_id]);
    expect(mail.text).toContain(quote.text);
    expect(await ds.query(`SELECT quote_id FROM quote_history WHERE user_id = $1`, [user.id])).toEqual([{ quote_id: row.quote_id }]);

    expect(row).toMatchObject({ attempts: 1, lease_until: null, next_retry_at: null, error_type: null });
    expect(row.sent_at).toBeInstanceOf(Date);
    expect(row.smtp_response).toMatch(/^250 /);
    expect(row.send_ms).toBeGreaterThanOrEqual(0);
    expect((await trail(id)).map((t) => t.status)).toEqual(['sending', 'sent']);
    expect(await events(id)).toEqual(['LETTER_SENT']);
    expect(await jobEnd(QueueName.LettersSend, id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'sent' } });

    // The ledger, not the queue, prevents a second send: a fresh job for the same letter sends nothing.
    await queues.removeJob(QueueName.LettersSend, id);
    expect(await drive(id)).toBe('added');
    expect(await jobEnd(QueueName.LettersSend, id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'not_claimable' } });
    expect(smtp.count()).toBe(1);
    expect((await letter(id)).attempts).toBe(1);

    expect(await metric('mz_letters_sent_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('mz_smtp_send_duration_seconds_count', { outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(await metric('mz_letter_lateness_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('421 → retrying (rate_limit, next_retry_at set) → sent on the next attempt, with the same quote', async () => {
    const user = await makeUser();
    const id = await composedLetter(await makeSubscription(user.id));
    smtp.script({ kind: 'reject', code: 421 });
    await drive(id);

    const row = await untilStatus(id, 'sent');
    expect(smtp.rejected.map((r) => r.code)).toEqual([421]);
    expect(messagesTo(user.email)).toHaveLength(1);
    const steps = await trail(id);
    expect(steps.map((s) => [s.status, s.error_type, s.attempts])).toEqual([
      ['sending', null, 1], ['retrying', 'rate_limit', 1], ['sending', 'rate_limit', 2], ['sent', 'rate_limit', 2],
    ]);
    expect(steps[1].next_retry_at).toBeInstanceOf(Date);
    expect(steps[1].quote_id).not.toBeNull();
    expect(row.quote_id).toBe(steps[1].quote_id);
    expect(await ds.query(`SELECT count(*)::int AS n FROM quote_history WHERE user_id = $1`, [user.id])).toEqual([{ n: 1 }]);
    expect(row.last_error).toMatch(/^SMTP 421: /);
    expect(row.last_error).not.toContain(user.email);
    expect(await events(id)).toEqual(['LETTER_SENT']);
    expect(await metric('mz_letter_retries_total', { stage: 'send', error_type: 'rate_limit' })).toBeGreaterThanOrEqual(1);
  });

  it('451 → a network retry, then sent', async () => {
    const user = await makeUser();
    const id = await composedLetter(await makeSubscription(user.id));
    smtp.script({ kind: 'reject', code: 451, at: 'rcpt' });
    await drive(id);

    await untilStatus(id, 'sent');
    expect((await trail(id)).map((s) => [s.status, s.error_type])).toEqual([
      ['sending', null], ['retrying', 'network'], ['sending', 'network'], ['sent', 'network'],
    ]);
    expect(messagesTo(user.email)).toHaveLength(1);
  });

  it('550 → failed at once, the address suppressed, LETTER_FAILED; the next letter to it is skipped unsent', async () => {
    const user = await makeUser();
    const subId = await makeSubscription(user.id);
    const id = await composedLetter(subId);
    smtp.script({ kind: 'reject', code: 550, at: 'rcpt', message: '5.1.1 No such user here' });
    await drive(id);

    const row = await untilStatus(id, 'failed');
    expect(row).toMatchObject({ error_type: 'permanent', attempts: 1, next_retry_at: null, lease_until: null });
    expect(row.last_error).toMatch(/^SMTP 550: /);
    expect(await events(id)).toEqual(['SUPPRESSED', 'LETTER_FAILED']);
    expect(await jobEnd(QueueName.LettersSend, id)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    const [sup] = await ds.query(`SELECT address, reason FROM suppression WHERE lower(address) = $1`, [user.email]);
    expect(sup).toEqual({ address: user.email, reason: 'hard_bounce' });
    expect(smtp.count()).toBe(0);

    const next = await composedLetter(subId);
    await drive(next);
    expect(await untilStatus(next, 'skipped')).toMatchObject({ skip_reason: 'suppressed' });
    expect(await events(next)).toEqual(['LETTER_SKIPPED']);
    expect(smtp.count()).toBe(0);
    expect(smtp.rejected).toHaveLength(1);
  });

  it('a suppressed address (any case) is skipped and never sent to', async () => {
    const user = await makeUser();
    await ds.query(`INSERT INTO suppression (address, reason) VALUES ($1, 'complaint')`, [user.email.toUpperCase()]);
    const id = await composedLetter(await makeSubscription(user.id));
    await drive(id);

    expect(await untilStatus(id, 'skipped')).toMatchObject({ skip_reason: 'suppressed', attempts: 0 });
    expect(await jobEnd(QueueName.LettersSend, id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'skipped' } });
    expect(smtp.count()).toBe(0);
    expect(smtp.rejected).toHaveLength(0);
  });

  it('an inactive user or a disabled subscription cancels the letter without sending', async () => {
    const suspended = await makeUser(undefined, 'suspended');
    const a = await composedLetter(await makeSubscription(suspended.id));
    const active = await makeUser();
    const b = await composedLetter(await makeSubscription(active.id, 'focus', false));
    await Promise.all([drive(a), drive(b)]);

    expect(await untilStatus(a, 'cancelled')).toMatchObject({ skip_reason: 'user_inactive' });
    expect(await untilStatus(b, 'cancelled')).toMatchObject({ skip_reason: 'subscription_disabled' });
    expect(await events(a)).toEqual(['LETTER_CANCELLED']);
    expect(smtp.count()).toBe(0);
  });

  it('sending_paused keeps the letter composed (no attempt used) until unpaused, then sends it', async () => {
    const user = await makeUser();
    const id = await composedLetter(await makeSubscription(user.id));
    await ds.query(`UPDATE app_config SET value = 'true'::jsonb WHERE key = 'sending_paused'`);
    try {
      await drive(id);
      // Several re-checks (300 ms apart at this RETRY_DELAY_SCALE) go by.
      await new Promise((r) => setTimeout(r, 1_200));
      expect(await letter(id)).toMatchObject({ status: 'composed', attempts: 0 });
      // Parked between re-checks; a re-check holds it active for the moment of its claim, so a single
      // look can land inside one (it did on a loaded CI machine): look until it is parked again.
      const job = await queues.queue(QueueName.LettersSend).getJob(id);
      await eventually(async () => (await job!.getState()) === 'delayed', `send job ${id} parked as delayed`, 2_000, 20);
      expect(await letter(id)).toMatchObject({ status: 'composed', attempts: 0 });
      expect((await queues.queue(QueueName.LettersSend).getJob(id))!.attemptsMade).toBe(0);
      expect(smtp.count()).toBe(0);
    } finally {
      await ds.query(`UPDATE app_config SET value = 'false'::jsonb WHERE key = 'sending_paused'`);
    }
    expect(await untilStatus(id, 'sent')).toMatchObject({ attempts: 1 });
    expect(messagesTo(user.email)).toHaveLength(1);
  });

  it('waits for scheduled_for when the job arrives early', async () => {
    const user = await makeUser();
    const at = new Date(Date.now() + 2_000);
    const id = await composedLetter(await makeSubscription(user.id), { scheduledFor: at });
    await drive(id);

    const row = await untilStatus(id, 'sent');
    expect(new Date(row.sent_at).getTime()).toBeGreaterThanOrEqual(at.getTime() - 1_000);
    const [mail] = messagesTo(user.email);
    expect(mail.receivedAt).toBeGreaterThanOrEqual(at.getTime() - 1_000);
  });

  it('closing quotes do not repeat across 10 letters for one user, even sent concurrently', async () => {
    const user = await makeUser();
    const subId = await makeSubscription(user.id);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await composedLetter(subId));
    await Promise.all(ids.map(drive));

    await smtp.waitForCount(10);
    for (const id of ids) await untilStatus(id, 'sent');
    const rows = await ds.query(`SELECT l.quote_id, q.text FROM letter l JOIN bottom_quote q ON q.id = l.quote_id WHERE l.id = ANY($1)`, [ids]);
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r: { quote_id: string }) => r.quote_id)).size).toBe(10);
    const mails = messagesTo(user.email);
    expect(mails).toHaveLength(10);
    for (const m of mails) {
      const own = rows.find((r: { text: string }) => m.text?.includes(r.text));
      expect(own).toBeDefined();
    }
  });

  it('when every quote has been used, the least recently used one comes back', async () => {
    const user = await makeUser();
    const quotes: { id: string }[] = await ds.query(`SELECT id FROM bottom_quote WHERE active ORDER BY text LIMIT 3`);
    const others: { id: string }[] = await ds.query(`SELECT id FROM bottom_quote WHERE active AND id <> ALL($1)`, [quotes.map((q) => q.id)]);
    expect(others.length).toBeGreaterThan(10);
    await ds.query(`UPDATE bottom_quote SET active = false WHERE id = ANY($1)`, [others.map((o) => o.id)]);
    try {
      // History: quote 1 used two days ago (the oldest), 0 yesterday, 2 today.
      for (const [i, ago] of [[0, 1], [1, 2], [2, 0]] as const) {
        await ds.query(`INSERT INTO quote_history (user_id, quote_id, used_at) VALUES ($1, $2, now() - make_interval(days => $3))`, [user.id, quotes[i].id, ago]);
      }
      const id = await composedLetter(await makeSubscription(user.id));
      await drive(id);
      expect((await untilStatus(id, 'sent')).quote_id).toBe(quotes[1].id);
    } finally {
      await ds.query(`UPDATE bottom_quote SET active = true WHERE id = ANY($1)`, [others.map((o) => o.id)]);
    }
  });

  it('a quote another letter takes while this one is choosing is given up for the next least recently used', async () => {
    const user = await makeUser();
    const [q1, q2] = (await ds.query(`SELECT id, text FROM bottom_quote WHERE active ORDER BY text LIMIT 2`)) as { id: string; text: string }[];
    const others: { id: string }[] = await ds.query(`SELECT id FROM bottom_quote WHERE active AND id <> ALL($1)`, [[q1.id, q2.id]]);
    await ds.query(`UPDATE bottom_quote SET active = false WHERE id = ANY($1)`, [others.map((o) => o.id)]);
    // Another letter for this user is mid-claim: it has recorded q1 but not committed yet. q2 was used a year ago,
    // so from the claim's snapshot q1 (never used) is the choice.
    await ds.query(`INSERT INTO quote_history (user_id, quote_id, used_at) VALUES ($1, $2, now() - interval '1 year')`, [user.id, q2.id]);
    const other = ds.createQueryRunner();
    try {
      await other.connect();
      await other.startTransaction();
      await other.query(`INSERT INTO quote_history (user_id, quote_id, used_at) VALUES ($1, $2, now())`, [user.id, q1.id]);
      const id = await composedLetter(await makeSubscription(user.id));
      await drive(id);
      // The claim's quote_history upsert waits for the other transaction's row…
      await eventually(async () => {
        const [w] = await ds.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`);
        return w.n > 0 ? true : null;
      }, 'claim waiting on the concurrent quote choice', 10_000, 20);
      // …which commits q1: this letter must not close with it too.
      await other.commitTransaction();
      const row = await untilStatus(id, 'sent');
      expect(row.quote_id).toBe(q2.id);
      expect(messagesTo(user.email)[0].text).toContain(q2.text);
      const history: { quote_id: string; used_at: Date }[] = await ds.query(`SELECT quote_id, used_at FROM quote_history WHERE user_id = $1`, [user.id]);
      expect(history.find((h) => h.quote_id === q2.id)!.used_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
      await ds.query(`UPDATE bottom_quote SET active = true WHERE id = ANY($1)`, [others.map((o) => o.id)]);
    }
  });

  it('reuses the active footer within its cache window, then picks up an edit', async () => {
    const sender = svc.app.get(SendLetterService);
    expect(sender.footerCache.ttlMs).toBe(FOOTER_CACHE_MS);
    const user = await makeUser();
    const subId = await makeSubscription(user.id);
    const [before] = await ds.query(`SELECT id, text_template FROM email_footer WHERE active`);
    const sendOne = async () => {
      const id = await composedLetter(subId);
      await drive(id);
      await untilStatus(id, 'sent');
      return messagesTo(user.email).find((m) => m.rawHeaders.get('x-mz-letter') === id)!.text ?? '';
    };
    try {
      // Window 0: the first letter reads the footer. Then a window no test run outlasts: the
      // next letter reuses that read, even though the footer was edited in between.
      sender.footerCache.ttlMs = 0;
      await sendOne();
      sender.footerCache.ttlMs = 10 * 60_000;
      await ds.query(`UPDATE email_footer SET text_template = $2 WHERE id = $1`, [before.id, `${before.text_template}\nEdited footer {{topic_name}}`]);
      expect(await sendOne()).not.toContain('Edited footer');
      // Once the window has passed, the edit is read.
      sender.footerCache.ttlMs = 0;
      expect(await sendOne()).toContain('Edited footer Focus');
    } finally {
      sender.footerCache.ttlMs = FOOTER_CACHE_MS;
      await ds.query(`UPDATE email_footer SET text_template = $2 WHERE id = $1`, [before.id, before.text_template]);
    }
  });

  it('send-login-link: mints the token at send time and mails it once, however often the job runs', async () => {
    const user = await makeUser();
    const [tok] = await ds.query(
      `INSERT INTO login_token (user_id, purpose, expires_at) VALUES ($1, 'login', now() + interval '15 minutes') RETURNING id`,
      [user.id],
    );
    await queues.ensureJob(JobName.SendLoginLink, { v: 1, loginTokenId: tok.id }, tok.id);
    const [mail] = await smtp.waitForCount(1);
    expect(await jobEnd(QueueName.MailTransactional, tok.id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'sent' } });

    expect(mail.envelope.to).toEqual([user.email]);
    // Transactional mail has a bounce address too: its DSN names this one token's recipient.
    expect(verifySignedAddress(mail.envelope.from, REPLY_DOMAIN, mailAddressSecret({ SESSION_SECRET }))).toEqual({ kind: 'bounce_transactional', id: tok.id });
    expect(mail.messageId).toBe(`<login.${tok.id}@${REPLY_DOMAIN}>`);
    expect(mail.rawHeaders.get('auto-submitted')).toBe('auto-generated');
    expect(mail.rawHeaders.has('reply-to')).toBe(false);
    const link = /https:\/\/mentor\.test\/login\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link).not.toBeNull();
    expect(mail.text).toMatch(/expires in 1[45] minutes/);
    const [row] = await ds.query(`SELECT token_hash, sent_at, used_at FROM login_token WHERE id = $1`, [tok.id]);
    expect(row.token_hash).toBe(hashToken(link![1]));
    expect(row.sent_at).toBeInstanceOf(Date);

    // Again: the job is a no-op by token id, and the minted hash is untouched.
    expect(await queues.ensureJob(JobName.SendLoginLink, { v: 1, loginTokenId: tok.id }, tok.id)).toBe('added');
    expect(await jobEnd(QueueName.MailTransactional, tok.id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'noop' } });
    expect(smtp.count()).toBe(1);
    expect((await ds.query(`SELECT token_hash FROM login_token WHERE id = $1`, [tok.id]))[0].token_hash).toBe(row.token_hash);
  });

  it('send-login-link: an expired token sends nothing', async () => {
    const user = await makeUser();
    const [tok] = await ds.query(
      `INSERT INTO login_token (user_id, purpose, expires_at) VALUES ($1, 'login', now() - interval '1 minute') RETURNING id`,
      [user.id],
    );
    await queues.ensureJob(JobName.SendLoginLink, { v: 1, loginTokenId: tok.id }, tok.id);
    expect(await jobEnd(QueueName.MailTransactional, tok.id)).toMatchObject({ state: 'completed', returnvalue: { outcome: 'noop' } });
    expect(smtp.count()).toBe(0);
    expect((await ds.query(`SELECT token_hash FROM login_token WHERE id = $1`, [tok.id]))[0].token_hash).toBeNull();
  });
});
