/**
 * The mail providers' native webhooks, in-process against real Postgres and Redis. Every payload
 * is built from the provider's documented shape and signed here, at test time, the way the
 * provider signs: Mailgun with an HMAC key, SendGrid with a P-256 key pair made for this run,
 * Postmark and SendGrid inbound with HTTP Basic, SES through SNS with a certificate from a test CA
 * served by a local HTTPS server (allowed by the test-only host pattern; nothing reaches AWS).
 * Accepted when signed; 401 when forged, stale or replayed — and then nothing changes; the effect
 * (stored reply, suppression, delivered letter) is checked in the database.
 */
import { createHmac, createSign, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { FakeDnsZone } from '../../../../test/fakes/fake-dns-zone';
import { metricValue } from '../../../../test/support/metrics';
import { eventually } from '../../../../test/support/services';
import { createTestCa, type TestCa } from '../../../../test/support/test-ca';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { inboundService } from '../inbound.definition';
import { InboundRedrive } from '../receive/inbound-redrive.service';

jest.setTimeout(90_000);

const REPLY_DOMAIN = 'reply.providers.test';
const MAILGUN_KEY = 'mailgun-int-spec-signing-key-0123456789';
const SENDGRID_USER = 'sendgrid-parse';
const SENDGRID_PASSWORD = 'sendgrid-int-spec-password-0123';
const POSTMARK_USER = 'postmark-hooks';
const POSTMARK_PASSWORD = 'postmark-int-spec-password-0123';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:mz-ses-notifications';

/** Requests a minute per client IP and provider (low enough for the last test to reach). */
const RATE_LIMIT = 60;

const now = () => Math.floor(Date.now() / 1000);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('provider webhooks: Mailgun, SendGrid, Postmark, SES (SNS)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let svc: RunningService;
  let ca: TestCa;
  let https: Server;
  let certUrl: string;
  let snsKey: string;
  const confirmations: string[] = [];
  let sendgrid: { privateKey: KeyObject; publicKey: string };

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);

    // The SNS side: a signing certificate from the test CA, served over https by "sns" on localhost.
    ca = createTestCa('mz-sns-ca');
    const leaf = ca.issue('localhost', 'sns');
    snsKey = readFileSync(leaf.keyFile, 'utf8');
    const certPem = readFileSync(leaf.certFile, 'utf8');
    https = createServer({ key: snsKey, cert: certPem }, (req, res) => {
      if (req.url?.startsWith('/SimpleNotificationService-test.pem')) return void res.end(certPem);
      if (req.url?.startsWith('/confirm')) {
        confirmations.push(req.url);
        return void res.end('<ConfirmSubscriptionResponse/>');
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    certUrl = `https://localhost:${(https.address() as AddressInfo).port}/SimpleNotificationService-test.pem`;

    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    sendgrid = { privateKey: pair.privateKey, publicKey: (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64') };

    svc = await startService(
      inboundService({ resolver: new FakeDnsZone().resolver, snsHostPattern: /^localhost$/, snsCa: ca.caPem, providerWebhookRequestsPerMinute: RATE_LIMIT }),
      {
        ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', LOG_LEVEL: 'silent', REPLY_DOMAIN,
        MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
        SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey, SENDGRID_INBOUND_USER: SENDGRID_USER, SENDGRID_INBOUND_PASSWORD: SENDGRID_PASSWORD,
        POSTMARK_WEBHOOK_USER: POSTMARK_USER, POSTMARK_WEBHOOK_PASSWORD: POSTMARK_PASSWORD,
        SES_SNS_TOPIC_ARNS: TOPIC_ARN,
      },
    );
  });

  afterAll(async () => {
    await svc?.close();
    await new Promise((resolve) => https?.close(resolve));
    ca?.dispose();
    await ds?.destroy();
    await env?.dispose();
  });

  // ------------------------------------------------------------------ fixtures

  interface Sent { userId: string; email: string; subscriptionId: string; letterId: string; messageId: string }

  /** A subscriber with a letter that was sent (through the provider). */
  async function letterTo(email: string): Promise<Sent> {
    const [u] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam') RETURNING id`, [email]);
    const [s] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone, next_run_at) SELECT $1, id, 'Europe/Berlin', now() + interval '1 day' FROM topic WHERE code = 'focus' RETURNING id`, [u.id]);
    const letterId = randomUUID();
    const messageId = `<mz.${letterId}@${REPLY_DOMAIN}>`;
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'sent', now() - interval '1 hour', current_date, 'One thing at a time [mz:focus]', 'Dear Sam, one thing at a time.', $2, now() FROM subscription s WHERE s.id = $3`,
      [letterId, messageId, s.id],
    );
    return { userId: u.id, email, subscriptionId: s.id, letterId, messageId };
  }

  function reply(to: Sent, text: string): { raw: string; messageId: string } {
    const messageId = `<${randomUUID()}@mail.example.com>`;
    const raw = [
      `From: Sam <${to.email}>`, `To: reply@${REPLY_DOMAIN}`, 'Subject: Re: One thing at a time [mz:focus]', `Date: ${new Date().toUTCString()}`,
      `Message-ID: ${messageId}`, `In-Reply-To: ${to.messageId}`, `References: ${to.messageId}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
      '', text, '',
    ].join('\r\n');
    return { raw, messageId };
  }

  const post = (path: string, body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${svc.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });

  const processedReply = (messageId: string) =>
    eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE message_id = $1 AND processed_at IS NOT NULL`, [messageId]))[0], `${messageId} processed`, 30_000, 50);
  const processedEvent = (provider: string, key: string) =>
    eventually(async () => (await ds.query(`SELECT * FROM provider_event WHERE provider = $1 AND event_key = $2 AND processed_at IS NOT NULL`, [provider, key]))[0], `${provider} event ${key} processed`, 30_000, 50);
  const suppression = async (email: string) => (await ds.query(`SELECT reason, detail FROM suppression WHERE lower(address) = lower($1)`, [email]))[0] ?? null;
  const storedEvents = async () => Number((await ds.query(`SELECT count(*)::int AS n FROM provider_event`))[0].n);
  const letter = async (id: string) => (await ds.query(`SELECT delivered_at, delivered_by FROM letter WHERE id = $1`, [id]))[0];

  function multipart(fields: Record<string, string>): { body: Buffer; contentType: string } {
    const boundary = `----mz${randomBytes(8).toString('hex')}`;
    const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
  }

  // ------------------------------------------------------------------ Mailgun

  function mailgunSignature(timestamp = now(), key = MAILGUN_KEY) {
    const token = randomBytes(25).toString('hex');
    return { timestamp: String(timestamp), token, signature: createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex') };
  }

  /** Mailgun's event webhook body (docs: "Webhooks" → payload): a signature object and the event data. */
  function mailgunEvent(event: string, to: Sent, extra: Record<string, unknown> = {}, signature = mailgunSignature()) {
    return {
      signature,
      'event-data': {
        event, id: randomBytes(11).toString('base64url'), timestamp: Date.now() / 1000, recipient: to.email, 'log-level': 'error',
        message: { headers: { 'message-id': `${randomUUID()}@mg.providers.test`, to: to.email, from: 'mentor@providers.test', subject: 'One thing at a time' } },
        'user-variables': { mz_letter: to.letterId },
        ...extra,
      },
    };
  }

  it('Mailgun: a signed body-mime reply is stored and processed like an SMTP reply; its replay, a forged and a stale signature are refused', async () => {
    const sam = await letterTo('sam.mailgun@example.com');
    const r = reply(sam, 'Done — I did the one thing this morning.');
    const sig = mailgunSignature();
    const form = multipart({ recipient: `reply@${REPLY_DOMAIN}`, sender: sam.email, from: sam.email, subject: 'Re: One thing at a time', 'body-mime': r.raw, ...sig });
    const res = await post('/webhooks/mailgun/inbound', form.body, { 'content-type': form.contentType });
    expect(res.status).toBe(200);
    const row = await processedReply(r.messageId);
    expect(row).toMatchObject({ source: 'mailgun', kind: 'reply', intent: 'done', matched_letter_id: sam.letterId, matched_user_id: sam.userId });
    expect(row.raw.toString('utf8')).toBe(r.raw);

    // The same request again (also under the route's "…/mime" name): its token was used.
    expect((await post('/webhooks/mailgun/inbound', form.body, { 'content-type': form.contentType })).status).toBe(401);
    expect((await post('/webhooks/mailgun/inbound/mime', form.body, { 'content-type': form.contentType })).status).toBe(401);
    // Another reply, signed with another key, or an hour ago: refused and not stored.
    for (const bad of [mailgunSignature(now(), 'another-signing-key-0123456789'), mailgunSignature(now() - 3600)]) {
      const other = reply(sam, 'Done again.');
      const f = multipart({ 'body-mime': other.raw, ...bad });
      expect((await post('/webhooks/mailgun/inbound', f.body, { 'content-type': f.contentType })).status).toBe(401);
      expect(await ds.query(`SELECT 1 FROM inbound_message WHERE message_id = $1`, [other.messageId])).toEqual([]);
    }
    expect(await metricValue(svc.url, 'mz_provider_webhook_requests_total', { provider: 'mailgun', endpoint: 'inbound', outcome: 'unverified_replayed' })).toBe(2);
  });

  it('Mailgun: a permanent failure for a real letter suppresses its recipient; a wrong signature or a replayed token changes nothing', async () => {
    const dana = await letterTo('dana.mailgun@example.com');
    const before = await storedEvents();

    const forged = mailgunEvent('failed', dana, { severity: 'permanent', reason: 'bounce', 'delivery-status': { code: 550, description: 'No such user' } }, mailgunSignature(now(), 'not-the-signing-key-0123456789'));
    expect((await post('/webhooks/mailgun/events', JSON.stringify(forged), { 'content-type': 'application/json' })).status).toBe(401);
    const stale = mailgunEvent('failed', dana, { severity: 'permanent' }, mailgunSignature(now() - 600));
    expect((await post('/webhooks/mailgun/events', JSON.stringify(stale), { 'content-type': 'application/json' })).status).toBe(401);
    expect(await storedEvents()).toBe(before);
    expect(await suppression(dana.email)).toBeNull();

    const real = mailgunEvent('failed', dana, { severity: 'permanent', reason: 'bounce', 'delivery-status': { code: 550, description: 'No such user' } });
    expect((await post('/webhooks/mailgun/events', JSON.stringify(real), { 'content-type': 'application/json' })).status).toBe(200);
    expect(await processedEvent('mailgun', real['event-data'].id)).toMatchObject({ type: 'bounce', permanent: true, outcome: 'suppressed', letter_id: dana.letterId });
    expect(await suppression(dana.email)).toMatchObject({ reason: 'hard_bounce' });
    const [ev] = await ds.query(`SELECT metadata FROM event_log WHERE type = 'SUPPRESSED' AND letter_id = $1`, [dana.letterId]);
    expect(ev.metadata).toMatchObject({ reason: 'hard_bounce', provider: 'mailgun' });

    // The same signed request again (its token is spent): refused; a new event with a spent token too.
    expect((await post('/webhooks/mailgun/events', JSON.stringify(real), { 'content-type': 'application/json' })).status).toBe(401);
    const reused = mailgunEvent('delivered', dana, {}, real.signature);
    expect((await post('/webhooks/mailgun/events', JSON.stringify(reused), { 'content-type': 'application/json' })).status).toBe(401);
    expect(await storedEvents()).toBe(before + 1);
  });

  it('Mailgun: a temporary failure is counted, a delivery marks the letter, an event naming someone else changes nothing', async () => {
    const eve = await letterTo('eve.mailgun@example.com');
    const bystander = await letterTo('bystander.mailgun@example.com');
    const temporary = mailgunEvent('failed', eve, { severity: 'temporary', 'delivery-status': { code: 452, description: 'mailbox full' } });
    const delivered = mailgunEvent('delivered', eve);
    const misdirected = mailgunEvent('failed', eve, { severity: 'permanent', recipient: bystander.email });
    for (const e of [temporary, delivered, misdirected]) expect((await post('/webhooks/mailgun/events', JSON.stringify(e), { 'content-type': 'application/json' })).status).toBe(200);
    expect(await processedEvent('mailgun', temporary['event-data'].id)).toMatchObject({ outcome: 'counted' });
    expect(await processedEvent('mailgun', delivered['event-data'].id)).toMatchObject({ outcome: 'delivered' });
    expect(await processedEvent('mailgun', misdirected['event-data'].id)).toMatchObject({ outcome: 'unmatched' });
    expect(await suppression(eve.email)).toBeNull();
    expect(await suppression(bystander.email)).toBeNull();
    expect(await letter(eve.letterId)).toMatchObject({ delivered_by: 'mailgun' });
    expect((await letter(eve.letterId)).delivered_at).not.toBeNull();
    // The letter's history (the console's letter view) says which provider said what.
    const events = await ds.query(`SELECT actor, metadata->>'type' AS type, metadata->>'outcome' AS outcome, metadata->'said'->>'event' AS said FROM event_log WHERE type = 'PROVIDER_EVENT' AND letter_id = $1`, [eve.letterId]);
    expect(events).toEqual(expect.arrayContaining([
      { actor: 'provider:mailgun', type: 'bounce', outcome: 'counted', said: 'failed' }, { actor: 'provider:mailgun', type: 'delivery', outcome: 'delivered', said: 'delivered' },
    ]));
  });

  // ------------------------------------------------------------------ SendGrid

  function sendgridHeaders(body: string, opts: { timestamp?: number; key?: KeyObject } = {}) {
    const timestamp = String(opts.timestamp ?? now());
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), opts.key ?? sendgrid.privateKey).toString('base64');
    return { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp };
  }

  /** SendGrid's event webhook: an array; unique args (X-SMTPAPI) are top-level fields of each event. */
  function sendgridEvent(event: string, to: Sent, extra: Record<string, unknown> = {}) {
    return {
      email: to.email, timestamp: now(), 'smtp-id': to.messageId, event, category: ['focus'], sg_event_id: randomBytes(16).toString('base64url'),
      sg_message_id: `${randomBytes(8).toString('hex')}.filter0001`, mz_letter: to.letterId, ...extra,
    };
  }

  it('SendGrid: a signed bounce for a real letter suppresses its recipient; a forged, stale or replayed request changes nothing', async () => {
    const finn = await letterTo('finn.sendgrid@example.com');
    const before = await storedEvents();
    const bounce = [sendgridEvent('bounce', finn, { type: 'bounce', status: '5.1.1', reason: '550 5.1.1 The email account does not exist', bounce_classification: 'Invalid Address' })];
    const body = JSON.stringify(bounce);

    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    expect((await post('/webhooks/sendgrid/events', body, sendgridHeaders(body, { key: otherKey }))).status).toBe(401);
    expect((await post('/webhooks/sendgrid/events', body, sendgridHeaders(body, { timestamp: now() - 900 }))).status).toBe(401);
    // A signature over another body.
    const signedOther = sendgridHeaders(JSON.stringify([sendgridEvent('delivered', finn)]));
    expect((await post('/webhooks/sendgrid/events', body, signedOther)).status).toBe(401);
    expect((await post('/webhooks/sendgrid/events', body, { 'content-type': 'application/json' })).status).toBe(401);
    expect(await storedEvents()).toBe(before);

    const headers = sendgridHeaders(body);
    expect((await post('/webhooks/sendgrid/events', body, headers)).status).toBe(200);
    expect(await processedEvent('sendgrid', bounce[0].sg_event_id)).toMatchObject({ type: 'bounce', permanent: true, outcome: 'suppressed', letter_id: finn.letterId });
    expect(await suppression(finn.email)).toMatchObject({ reason: 'hard_bounce' });
    expect((await post('/webhooks/sendgrid/events', body, headers)).status).toBe(401);
    expect(await storedEvents()).toBe(before + 1);
  });

  it('SendGrid: a spam report suppresses the address and turns its subscription off; delivered marks the letter; blocked is only counted', async () => {
    const gail = await letterTo('gail.sendgrid@example.com');
    const hal = await letterTo('hal.sendgrid@example.com');
    const events = [sendgridEvent('spamreport', gail), sendgridEvent('delivered', hal, { response: '250 OK' }), sendgridEvent('bounce', hal, { type: 'blocked', status: '4.0.0' })];
    const body = JSON.stringify(events);
    expect((await post('/webhooks/sendgrid/events', body, sendgridHeaders(body))).status).toBe(200);
    expect(await processedEvent('sendgrid', events[0].sg_event_id)).toMatchObject({ type: 'complaint', outcome: 'suppressed' });
    expect(await processedEvent('sendgrid', events[1].sg_event_id)).toMatchObject({ outcome: 'delivered' });
    expect(await processedEvent('sendgrid', events[2].sg_event_id)).toMatchObject({ outcome: 'counted', permanent: false });
    expect(await suppression(gail.email)).toMatchObject({ reason: 'complaint' });
    expect((await ds.query(`SELECT enabled FROM subscription WHERE id = $1`, [gail.subscriptionId]))[0].enabled).toBe(false);
    expect(await suppression(hal.email)).toBeNull();
    expect(await letter(hal.letterId)).toMatchObject({ delivered_by: 'sendgrid' });
  });

  it('SendGrid: a raw Inbound Parse reply with the right credentials is processed like an SMTP reply; wrong or missing credentials are refused', async () => {
    const ivy = await letterTo('ivy.sendgrid@example.com');
    const r = reply(ivy, 'Done, thank you.');
    const form = multipart({ dkim: '{@example.com : pass}', email: r.raw, to: `reply@${REPLY_DOMAIN}`, from: ivy.email, subject: 'Re: One thing at a time', envelope: JSON.stringify({ to: [`reply@${REPLY_DOMAIN}`], from: ivy.email }), charsets: '{"to":"UTF-8"}', SPF: 'pass' });
    for (const authorization of [basic(SENDGRID_USER, 'not-the-password-0123456'), basic('someone', SENDGRID_PASSWORD), undefined]) {
      const res = await post('/webhooks/sendgrid/inbound', form.body, { 'content-type': form.contentType, ...(authorization ? { authorization } : {}) });
      expect(res.status).toBe(401);
    }
    expect(await ds.query(`SELECT 1 FROM inbound_message WHERE message_id = $1`, [r.messageId])).toEqual([]);
    const res = await post('/webhooks/sendgrid/inbound', form.body, { 'content-type': form.contentType, authorization: basic(SENDGRID_USER, SENDGRID_PASSWORD) });
    expect(res.status).toBe(200);
    expect(await processedReply(r.messageId)).toMatchObject({ source: 'sendgrid', kind: 'reply', intent: 'done', matched_letter_id: ivy.letterId });
    // The same mail again (a provider retry, or the same reply by SMTP): stored once, one effect.
    expect(await (await post('/webhooks/sendgrid/inbound', form.body, { 'content-type': form.contentType, authorization: basic(SENDGRID_USER, SENDGRID_PASSWORD) })).json()).toEqual({ accepted: true, duplicate: true });
    expect(Number((await ds.query(`SELECT count(*)::int AS n FROM progress WHERE letter_id = $1`, [ivy.letterId]))[0].n)).toBe(1);
  });

  // ------------------------------------------------------------------ Postmark

  it('Postmark: an inbound reply with the right credentials is processed, with wrong ones refused; a stream without raw content gets a clear 400', async () => {
    const jo = await letterTo('jo.postmark@example.com');
    const r = reply(jo, 'Done!');
    // Postmark's inbound JSON (abridged), with "Include raw email content" on.
    const payload = {
      From: jo.email, FromFull: { Email: jo.email, Name: 'Jo' }, To: `reply@${REPLY_DOMAIN}`, Subject: 'Re: One thing at a time', MessageID: randomUUID(),
      Date: new Date().toUTCString(), TextBody: 'Done!', Headers: [{ Name: 'Message-ID', Value: r.messageId }], RawEmail: r.raw,
    };
    expect((await post('/webhooks/postmark/inbound', JSON.stringify(payload), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, 'wrong-password-0123456789') })).status).toBe(401);
    expect((await post('/webhooks/postmark/inbound', JSON.stringify(payload), { 'content-type': 'application/json' })).status).toBe(401);
    expect(await ds.query(`SELECT 1 FROM inbound_message WHERE message_id = $1`, [r.messageId])).toEqual([]);
    expect((await post('/webhooks/postmark/inbound', JSON.stringify(payload), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) })).status).toBe(200);
    expect(await processedReply(r.messageId)).toMatchObject({ source: 'postmark', kind: 'reply', intent: 'done', matched_letter_id: jo.letterId });
    // The same mail through another provider as well: stored once, one effect, whichever path came first.
    const form = multipart({ email: r.raw });
    expect(await (await post('/webhooks/sendgrid/inbound', form.body, { 'content-type': form.contentType, authorization: basic(SENDGRID_USER, SENDGRID_PASSWORD) })).json()).toEqual({ accepted: true, duplicate: true });
    expect(Number((await ds.query(`SELECT count(*)::int AS n FROM progress WHERE letter_id = $1`, [jo.letterId]))[0].n)).toBe(1);

    const { RawEmail: _omitted, ...withoutRaw } = payload;
    const res = await post('/webhooks/postmark/inbound', JSON.stringify(withoutRaw), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/Include raw email content/);
  });

  it('Postmark: a hard bounce suppresses the letter\'s recipient, a delivery marks the letter; wrong credentials change nothing', async () => {
    const kim = await letterTo('kim.postmark@example.com');
    const lee = await letterTo('lee.postmark@example.com');
    const bounce = {
      RecordType: 'Bounce', MessageStream: 'outbound', ID: Math.floor(Math.random() * 1e12), Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', Tag: 'letter',
      MessageID: randomUUID(), ServerID: 23, Description: 'The server was unable to deliver your message', Details: 'smtp;550 5.1.1 user unknown',
      Email: kim.email, From: 'mentor@providers.test', BouncedAt: new Date().toISOString(), DumpAvailable: false, Inactive: true, CanActivate: true,
      Subject: 'One thing at a time', Metadata: { letter: kim.letterId },
    };
    const delivery = {
      RecordType: 'Delivery', ServerID: 23, MessageStream: 'outbound', MessageID: randomUUID(), Recipient: lee.email, Tag: 'letter',
      DeliveredAt: new Date().toISOString(), Details: 'Test delivery webhook details', Metadata: { letter: lee.letterId },
    };
    const before = await storedEvents();
    expect((await post('/webhooks/postmark/events', JSON.stringify(bounce), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, 'wrong-password-0123456789') })).status).toBe(401);
    expect(await storedEvents()).toBe(before);
    for (const e of [bounce, delivery]) {
      expect((await post('/webhooks/postmark/events', JSON.stringify(e), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) })).status).toBe(200);
    }
    expect(await processedEvent('postmark', `Bounce:${bounce.ID}`)).toMatchObject({ outcome: 'suppressed', letter_id: kim.letterId });
    expect(await suppression(kim.email)).toMatchObject({ reason: 'hard_bounce' });
    expect(await processedEvent('postmark', `Delivery:${delivery.MessageID}:${lee.email}`)).toMatchObject({ outcome: 'delivered' });
    expect(await letter(lee.letterId)).toMatchObject({ delivered_by: 'postmark' });
    // Malformed: 400, nothing stored.
    expect((await post('/webhooks/postmark/events', JSON.stringify({ RecordType: 'Bounce' }), { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) })).status).toBe(400);
    expect((await post('/webhooks/postmark/events', '{not json', { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) })).status).toBe(400);
  });

  // ------------------------------------------------------------------ Amazon SES through SNS

  /** The canonical string, written from the AWS documentation independently of the code under test. */
  function snsSign(m: Record<string, string>, version: '1' | '2' = '2'): Record<string, string> {
    const fields = m.Type === 'Notification'
      ? ['Message', 'MessageId', ...('Subject' in m ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(fields.map((f) => `${f}\n${m[f]}\n`).join(''));
    return { ...m, SignatureVersion: version, Signature: signer.sign(snsKey, 'base64'), SigningCertURL: m.SigningCertURL ?? certUrl };
  }

  function snsNotification(message: unknown, opts: { topicArn?: string; timestamp?: Date; certUrl?: string } = {}): Record<string, string> {
    return {
      Type: 'Notification', MessageId: randomUUID(), TopicArn: opts.topicArn ?? TOPIC_ARN, Message: JSON.stringify(message),
      Timestamp: (opts.timestamp ?? new Date()).toISOString(), UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe', ...(opts.certUrl ? { SigningCertURL: opts.certUrl } : {}),
    };
  }

  /** An SES notification's `mail` object with the original headers (X-MZ-Letter, our Message-ID). */
  const sesMail = (to: Sent) => ({
    timestamp: new Date().toISOString(), source: `b+x@${REPLY_DOMAIN}`, messageId: `0100018c${randomBytes(8).toString('hex')}-000000`, destination: [to.email], headersTruncated: false,
    headers: [{ name: 'Message-ID', value: to.messageId }, { name: 'X-MZ-Letter', value: to.letterId }, { name: 'To', value: to.email }],
    commonHeaders: { messageId: to.messageId, to: [to.email], subject: 'One thing at a time' },
  });

  const postSns = (m: Record<string, string>) => post('/webhooks/ses', JSON.stringify(m), { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': m.Type });

  it('SES: the subscription is confirmed through its SubscribeURL; a bounce (signature v2) and a complaint (v1) suppress, a delivery marks the letter', async () => {
    const port = (https.address() as AddressInfo).port;
    const confirmation = snsSign({
      Type: 'SubscriptionConfirmation', MessageId: randomUUID(), Token: randomBytes(32).toString('hex'), TopicArn: TOPIC_ARN,
      Message: `You have chosen to subscribe to the topic ${TOPIC_ARN}.`, SubscribeURL: `https://localhost:${port}/confirm?Action=ConfirmSubscription&Token=abc`, Timestamp: new Date().toISOString(),
    });
    expect((await postSns(confirmation)).status).toBe(200);
    expect(confirmations).toEqual(['/confirm?Action=ConfirmSubscription&Token=abc']);

    const max = await letterTo('max.ses@example.com');
    const nia = await letterTo('nia.ses@example.com');
    const olu = await letterTo('olu.ses@example.com');
    const bounce = snsSign(snsNotification({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: max.email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }], timestamp: new Date().toISOString(), feedbackId: 'x' }, mail: sesMail(max) }));
    const complaint = snsSign(snsNotification({ notificationType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: nia.email }], timestamp: new Date().toISOString(), feedbackId: 'y', complaintFeedbackType: 'abuse' }, mail: sesMail(nia) }), '1');
    const delivery = snsSign(snsNotification({ eventType: 'Delivery', delivery: { timestamp: new Date().toISOString(), recipients: [olu.email], smtpResponse: '250 ok', processingTimeMillis: 500 }, mail: sesMail(olu) }));
    for (const m of [bounce, complaint, delivery]) expect((await postSns(m)).status).toBe(200);
    expect(await processedEvent('ses', `${bounce.MessageId}:0`)).toMatchObject({ outcome: 'suppressed', letter_id: max.letterId });
    expect(await processedEvent('ses', `${complaint.MessageId}:0`)).toMatchObject({ type: 'complaint', outcome: 'suppressed' });
    expect(await processedEvent('ses', `${delivery.MessageId}:0`)).toMatchObject({ outcome: 'delivered' });
    expect(await suppression(max.email)).toMatchObject({ reason: 'hard_bounce' });
    expect(await suppression(nia.email)).toMatchObject({ reason: 'complaint' });
    expect(await letter(olu.letterId)).toMatchObject({ delivered_by: 'ses' });
    // SNS delivering the same message again: refused as replayed, nothing new.
    expect((await postSns(bounce)).status).toBe(401);
  });

  it('SES: a received reply is stored and processed; forged, stale, foreign-topic and foreign-certificate notifications change nothing', async () => {
    const pia = await letterTo('pia.ses@example.com');
    const r = reply(pia, 'Done — thanks.');
    const received = (content: string) => ({ notificationType: 'Received', mail: { messageId: randomUUID(), source: pia.email, destination: [`reply@${REPLY_DOMAIN}`] }, receipt: { action: { type: 'SNS', encoding: 'BASE64' } }, content });
    const before = await storedEvents();

    const other = reply(pia, 'Done (forged).');
    const forged = { ...snsSign(snsNotification(received(Buffer.from(other.raw).toString('base64')))), Message: JSON.stringify(received(Buffer.from(reply(pia, 'x').raw).toString('base64'))) };
    const stale = snsSign(snsNotification(received(Buffer.from(other.raw).toString('base64')), { timestamp: new Date(Date.now() - 3 * 3600_000) }));
    const foreignTopic = snsSign(snsNotification(received(Buffer.from(other.raw).toString('base64')), { topicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else' }));
    const foreignCert = snsSign(snsNotification(received(Buffer.from(other.raw).toString('base64')), { certUrl: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem' }));
    const plainHttp = snsSign(snsNotification(received(Buffer.from(other.raw).toString('base64')), { certUrl: certUrl.replace('https:', 'http:') }));
    for (const m of [forged, stale, foreignTopic, foreignCert, plainHttp]) expect((await postSns(m)).status).toBe(401);
    expect(await ds.query(`SELECT 1 FROM inbound_message WHERE message_id = $1`, [other.messageId])).toEqual([]);
    expect(await storedEvents()).toBe(before);

    const good = snsSign(snsNotification(received(Buffer.from(r.raw).toString('base64'))));
    expect((await postSns(good)).status).toBe(200);
    expect(await processedReply(r.messageId)).toMatchObject({ source: 'ses', kind: 'reply', intent: 'done', matched_letter_id: pia.letterId });
    expect(await metricValue(svc.url, 'mz_provider_webhook_requests_total', { provider: 'ses', outcome: 'unverified_topic' })).toBe(1);
    expect(await metricValue(svc.url, 'mz_provider_webhook_requests_total', { provider: 'ses', outcome: 'unverified_cert' })).toBe(2);
  });

  it('malformed requests get 400 and oversized ones 413, before anything is stored', async () => {
    const before = await storedEvents();
    expect((await post('/webhooks/ses', '{"Type":"Notification"}', { 'content-type': 'text/plain' })).status).toBe(400);
    const body = '[]';
    expect((await post('/webhooks/sendgrid/events', body, sendgridHeaders(body))).status).toBe(400);
    const big = Buffer.alloc(20 * 1024 * 1024, 'a');
    expect((await post('/webhooks/mailgun/events', big, { 'content-type': 'application/json' })).status).toBe(413);
    expect(await storedEvents()).toBe(before);
  });

  it('an event stored but never queued (Redis lost the job) is queued again from its row and takes effect', async () => {
    const uma = await letterTo('uma.redrive@example.com');
    const [row] = await ds.query(
      `INSERT INTO provider_event (provider, event_key, type, recipient, letter_id, received_at) VALUES ('postmark', $1, 'delivery', $2, $3, now() - interval '10 minutes') RETURNING id`,
      [`Delivery:${randomUUID()}`, uma.email, uma.letterId],
    );
    expect((await svc.app.get(InboundRedrive).redrive()).providerEvents).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await ds.query(`SELECT outcome FROM provider_event WHERE id = $1 AND processed_at IS NOT NULL`, [row.id]))[0], 'redriven event processed', 30_000, 50);
    expect(await letter(uma.letterId)).toMatchObject({ delivered_by: 'postmark' });
  });

  it('is rate-limited per client and provider: 429 with Retry-After, other providers unaffected', async () => {
    let limited: Response | undefined;
    for (let i = 0; i <= RATE_LIMIT && !limited; i++) {
      const res = await post('/webhooks/postmark/events', '{}', { 'content-type': 'application/json' });
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post('/webhooks/postmark/inbound', '{}', { 'content-type': 'application/json', authorization: basic(POSTMARK_USER, POSTMARK_PASSWORD) })).status).toBe(429);
    expect((await post('/webhooks/mailgun/events', '{}', { 'content-type': 'application/json' })).status).toBe(401);
    expect(await metricValue(svc.url, 'mz_provider_webhook_requests_total', { provider: 'postmark', outcome: 'rate_limited' })).toBeGreaterThanOrEqual(2);
  });
});
