/**
 * The round trip through a relay provider, against real components: the built mailer, with
 * MAIL_PROVIDER=sendgrid, sends a letter to the capturing TestSmtpServer (standing in for
 * smtp.sendgrid.net); the event SendGrid would post back is built from what the captured message
 * carries (its X-SMTPAPI unique args — nothing taken from the database), signed with a P-256 key
 * made for this run, and posted to the inbound service (in-process, real Postgres and Redis).
 * A bounce signed with the right key suppresses exactly that letter's recipient; the same event
 * with another key, or replayed, changes nothing; a delivery marks the letter delivered.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { inboundService } from '../../apps/inbound/src/inbound.definition';
import { FakeDnsZone } from '../fakes/fake-dns-zone';
import { type CapturedMail, TestSmtpServer } from '../fakes/test-smtp-server';
import { eventually, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

const REPLY_DOMAIN = 'reply.providers.e2e.example';

describe('through a relay provider: the mailer stamps the letter, the provider\'s signed events find it', () => {
  let env: TestEnv;
  let ds: DataSource;
  let sink: TestSmtpServer;
  let mailer: ServiceProcess;
  let inbound: RunningService;
  let sendQueue: Queue;
  const keys = { good: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), other: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) };

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    sink = await TestSmtpServer.start();
    const vars = { ...env.vars, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', REPLY_DOMAIN, SMTP_URL: sink.url, SHUTDOWN_TIMEOUT_MS: '5000' };
    [mailer, inbound] = await Promise.all([
      startServiceProcess('mailer', { ...vars, MAIL_PROVIDER: 'sendgrid' }, { readyTimeoutMs: 60_000 }),
      startService(inboundService({ resolver: new FakeDnsZone().resolver }), {
        ...vars, PORT: '0', INBOUND_SMTP_PORT: '0', LOG_LEVEL: 'silent',
        SENDGRID_WEBHOOK_PUBLIC_KEY: (keys.good.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
      }),
    ]);
    sendQueue = new Queue('letters.send', { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
  }, 120_000);

  afterAll(async () => {
    await sendQueue?.close();
    await Promise.all([mailer?.stop(), inbound?.close()]);
    await sink?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  async function sentLetter(email: string): Promise<{ letterId: string; mail: CapturedMail }> {
    const [u] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam') RETURNING id`, [email]);
    const [s] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone, next_run_at) SELECT $1, id, 'Europe/Berlin', now() + interval '1 day' FROM topic WHERE code = 'resilience' RETURNING id`, [u.id]);
    const letterId = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, composed_at, model)
       SELECT $1, s.id, s.user_id, s.topic_id, 'composed', now(), current_date, 'Seneca on storms', 'Dear Sam, one storm at a time.', $2, now(), 'offline' FROM subscription s WHERE s.id = $3`,
      [letterId, `<mz.${letterId}@${REPLY_DOMAIN}>`, s.id],
    );
    await sendQueue.add('send-letter', { v: 1, letterId }, { jobId: letterId });
    const mail = await eventually(async () => sink.messages.find((m) => m.envelope.to.includes(email)), `letter to ${email} captured`, 30_000);
    return { letterId, mail };
  }

  /** What SendGrid posts for the message it relayed: its unique args (from X-SMTPAPI) on each event. */
  function eventFor(mail: CapturedMail, event: string, extra: Record<string, unknown> = {}) {
    const smtpapi = JSON.parse(mail.rawHeaders.get('x-smtpapi') ?? '{}');
    return { email: mail.envelope.to[0], timestamp: Math.floor(Date.now() / 1000), 'smtp-id': mail.rawHeaders.get('message-id'), event, sg_event_id: randomBytes(16).toString('base64url'), ...smtpapi.unique_args, ...extra };
  }

  function signed(events: unknown[], key: KeyObject) {
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('base64');
    return { body, headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp } };
  }

  const post = (r: { body: string; headers: Record<string, string> }) => fetch(`${inbound.url}/webhooks/sendgrid/events`, { method: 'POST', body: r.body, headers: r.headers });
  const suppressed = async () => (await ds.query(`SELECT address, reason FROM suppression ORDER BY address`)).map((r: { address: string; reason: string }) => `${r.address}:${r.reason}`);

  it('a signed SendGrid bounce for a real letter suppresses its recipient; with another key or replayed it changes nothing; a delivery marks the letter', async () => {
    const dana = await sentLetter('dana@example.com');
    const olive = await sentLetter('olive@example.com');
    expect(JSON.parse(dana.mail.rawHeaders.get('x-smtpapi') ?? '{}')).toEqual({ unique_args: { mz_letter: dana.letterId } });
    const before = await suppressed();

    const bounce = [eventFor(dana.mail, 'bounce', { type: 'bounce', status: '5.1.1', reason: '550 5.1.1 unknown user' })];
    expect((await post(signed(bounce, keys.other.privateKey))).status).toBe(401);
    const good = signed(bounce, keys.good.privateKey);
    expect((await post(good)).status).toBe(200);
    await eventually(async () => (await suppressed()).length > before.length, 'suppression', 20_000, 50);
    expect(await suppressed()).toEqual([...before, 'dana@example.com:hard_bounce'].sort());
    expect((await post(good)).status).toBe(401);

    expect((await post(signed([eventFor(olive.mail, 'delivered', { response: '250 2.0.0 OK' })], keys.good.privateKey))).status).toBe(200);
    const delivered = await eventually(async () => (await ds.query(`SELECT delivered_by FROM letter WHERE id = $1 AND delivered_at IS NOT NULL`, [olive.letterId]))[0], 'delivered', 20_000, 50);
    expect(delivered).toEqual({ delivered_by: 'sendgrid' });
    expect(await suppressed()).toEqual([...before, 'dana@example.com:hard_bounce'].sort());
  });
});
