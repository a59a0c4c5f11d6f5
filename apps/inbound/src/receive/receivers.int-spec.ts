/**
 * The SMTP server and the signed webhook, in-process against real Postgres and Redis: driven by
 * nodemailer and a bare socket over loopback, and by fetch with good, bad, stale, future,
 * replayed and re-serialised signatures. Both feed the same store, so a message is stored once
 * and has one effect however often it arrives.
 */
import { FakeDnsZone } from '../../../../test/fakes/fake-dns-zone';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { SmtpDialogue } from '../../../../test/e2e/inbound-support/smtp-dialogue';
import { eventually } from '../../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { inboundService } from '../inbound.definition';
import { InboundSmtpServer } from './smtp-inbound.server';
import { InboundRedrive } from './inbound-redrive.service';
import { InboundStore } from './inbound-store.service';
import { signWebhook } from './webhook/webhook-signature';
import { metricValue } from '../../../../test/support/metrics';

jest.setTimeout(60_000);

const REPLY_DOMAIN = 'reply.mentor.test';
const SECRET = 'receivers-int-spec-webhook-secret';
const MAX = 64 * 1024;

function mime(opts: { from: string; inReplyTo?: string; text: string; messageId?: string | null; subject?: string; extraHeaders?: string }): Buffer {
  const headers = [
    `From: Sam <${opts.from}>`,
    `To: reply@${REPLY_DOMAIN}`,
    `Subject: ${opts.subject ?? 'Re: One thing at a time [mz:focus]'}`,
    `Date: ${new Date().toUTCString()}`,
    ...(opts.messageId === null ? [] : [`Message-ID: ${opts.messageId ?? `<${randomUUID()}@mail.example.com>`}`]),
    ...(opts.inReplyTo ? [`In-Reply-To: ${opts.inReplyTo}`, `References: ${opts.inReplyTo}`] : []),
    ...(opts.extraHeaders ? [opts.extraHeaders] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${opts.text}\r\n`);
}

describe('inbound receivers: SMTP and signed webhook', () => {
  let env: TestEnv;
  let ds: DataSource;
  let svc: RunningService;
  let smtpPort: number;
  let user: { id: string; email: string };
  let subscriptionId: string;
  let letterMessageId: string;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    svc = await startService(inboundService({ resolver: new FakeDnsZone().resolver }), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, WEBHOOK_SECRET: SECRET, INBOUND_SMTP_MAX_BYTES: String(MAX),
    });
    smtpPort = svc.app.get(InboundSmtpServer).port!;
    [user] = await ds.query(`INSERT INTO app_user (email) VALUES ('sam@example.com') RETURNING id, email`);
    [{ id: subscriptionId }] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) SELECT $1, id, 'Europe/Berlin' FROM topic WHERE code = 'focus' RETURNING id`, [user.id]);
    const letterId = randomUUID();
    letterMessageId = `<mz.${letterId}@${REPLY_DOMAIN}>`;
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'sent', now() - interval '1 hour', current_date, 'One thing at a time [mz:focus]', 'Dear Sam', $2, now() FROM subscription s WHERE s.id = $3`,
      [letterId, letterMessageId, subscriptionId],
    );
  });

  afterAll(async () => {
    await svc?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  const rowByMessageId = async (messageId: string) => (await ds.query(`SELECT * FROM inbound_message WHERE message_id = $1`, [messageId]))[0];
  const processed = (messageId: string) =>
    eventually(async () => {
      const r = await rowByMessageId(messageId);
      return r?.processed_at ? r : null;
    }, `${messageId} processed`, 20_000, 50);
  const progressOf = async (inboundId: string) => ds.query(`SELECT * FROM progress WHERE inbound_message_id = $1`, [inboundId]);
  const countRows = async () => (await ds.query(`SELECT count(*)::int AS n FROM inbound_message`))[0].n as number;

  const metric = (name: string, labels: Record<string, string> = {}) => metricValue(svc.url, name, labels);

  // ---- SMTP -----------------------------------------------------------------------------------

  describe('SMTP', () => {
    const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });

    it('accepts a reply for the reply domain from nodemailer, stores it once and processes it', async () => {
      const messageId = `<${randomUUID()}@mail.example.com>`;
      const t = transport();
      const info = await t.sendMail({ envelope: { from: 'Sam@Example.com', to: [`reply@${REPLY_DOMAIN.toUpperCase()}`] }, raw: mime({ from: user.email, inReplyTo: letterMessageId, text: 'Done', messageId }) });
      t.close();
      expect(info.accepted).toHaveLength(1);
      expect(info.rejected).toEqual([]);
      expect(info.response).toMatch(/^250 /);
      const row = await processed(messageId);
      expect(row).toMatchObject({ source: 'smtp', envelope_from: 'sam@example.com', kind: 'reply', intent: 'done', matched_user_id: user.id, raw_truncated: false });
      expect(await progressOf(row.id)).toHaveLength(1);
      expect(await metric('mz_inbound_received_total', { source: 'smtp' })).toBeGreaterThanOrEqual(1);
    });

    it('refuses to relay: 550 for any other domain, nothing stored', async () => {
      const before = await countRows();
      const t = transport();
      const err = await t.sendMail({ envelope: { from: user.email, to: ['someone@example.org'] }, raw: mime({ from: user.email, text: 'relay me' }) }).catch((e: unknown) => e);
      t.close();
      expect(err).toMatchObject({ responseCode: 550 });
      const { smtp } = await SmtpDialogue.open(smtpPort);
      await smtp.command('EHLO client.example');
      expect((await smtp.command('MAIL FROM:<a@example.com>')).code).toBe(250);
      for (const rcpt of ['<x@evil.example>', `<x@sub.${REPLY_DOMAIN}>`, `<x@${REPLY_DOMAIN}.evil.example>`, `<x@${REPLY_DOMAIN.replace(".", "-")}>`]) {
        expect((await smtp.command(`RCPT TO:${rcpt}`)).code).toBe(550);
      }
      // A quoted local part naming our domain is refused too (smtp-server rejects the syntax).
      expect((await smtp.command(`RCPT TO:<"x@${REPLY_DOMAIN}"@evil.example>`)).code).toBeGreaterThanOrEqual(500);
      expect((await smtp.command(`RCPT TO:<reply@${REPLY_DOMAIN}>`)).code).toBe(250);
      smtp.close();
      expect(await countRows()).toBe(before);
    });

    it('announces SIZE, offers neither AUTH nor STARTTLS', async () => {
      const { smtp, greeting } = await SmtpDialogue.open(smtpPort);
      expect(greeting.code).toBe(220);
      const ehlo = await smtp.command('EHLO client.example');
      expect(ehlo.code).toBe(250);
      expect(ehlo.lines).toContain(`SIZE ${MAX}`);
      expect(ehlo.lines.join('\n')).not.toMatch(/AUTH|STARTTLS/);
      expect((await smtp.command('AUTH PLAIN AGFAAGI=')).code).toBeGreaterThanOrEqual(500);
      expect((await smtp.command('STARTTLS')).code).toBeGreaterThanOrEqual(500);
      smtp.close();
    });

    it('answers 552 to an oversized message, declared or streamed, and stores nothing', async () => {
      const before = await countRows();
      const big = mime({ from: user.email, text: 'x'.repeat(MAX + 10_000).replace(/(.{70})/g, '$1\r\n') });
      const t = transport();
      const err = await t.sendMail({ envelope: { from: user.email, to: [`reply@${REPLY_DOMAIN}`] }, raw: big }).catch((e: unknown) => e);
      t.close();
      expect(err).toMatchObject({ responseCode: 552 });

      const { smtp } = await SmtpDialogue.open(smtpPort);
      await smtp.command('EHLO client.example');
      expect((await smtp.command(`MAIL FROM:<${user.email}> SIZE=${MAX + 1}`)).code).toBe(552);
      expect((await smtp.command(`MAIL FROM:<${user.email}>`)).code).toBe(250);
      expect((await smtp.command(`RCPT TO:<reply@${REPLY_DOMAIN}>`)).code).toBe(250);
      expect((await smtp.command('DATA')).code).toBe(354);
      expect((await smtp.data(big)).code).toBe(552);
      // The session goes on: a normal message right after is accepted.
      const messageId = `<${randomUUID()}@mail.example.com>`;
      expect((await smtp.command(`MAIL FROM:<${user.email}>`)).code).toBe(250);
      expect((await smtp.command(`RCPT TO:<reply@${REPLY_DOMAIN}>`)).code).toBe(250);
      expect((await smtp.command('DATA')).code).toBe(354);
      expect((await smtp.data(mime({ from: user.email, text: 'small one', messageId }))).code).toBe(250);
      expect((await smtp.command('QUIT')).code).toBe(221);
      smtp.close();
      expect(await countRows()).toBe(before + 1);
      expect(await rowByMessageId(messageId)).toBeTruthy();
      expect(await metric('mz_inbound_smtp_rejected_total', { reason: 'too_large' })).toBeGreaterThanOrEqual(2);
    });

    it('stores a message for several of our addresses once', async () => {
      const messageId = `<${randomUUID()}@mail.example.com>`;
      const t = transport();
      await t.sendMail({ envelope: { from: user.email, to: [`reply@${REPLY_DOMAIN}`, `bounces@${REPLY_DOMAIN}`] }, raw: mime({ from: user.email, text: 'Hello both', messageId }) });
      t.close();
      await processed(messageId);
      expect((await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE message_id = $1`, [messageId]))[0].n).toBe(1);
    });
  });

  // ---- webhook --------------------------------------------------------------------------------

  describe('POST /webhooks/reply', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(`${svc.url}/webhooks/reply`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
    const signed = (body: Buffer, contentType = 'message/rfc822', t = now()) => ({ 'content-type': contentType, 'x-mz-signature': signWebhook(SECRET, body, t) });

    it('stores a signed message/rfc822 body (202) and processes it', async () => {
      const messageId = `<${randomUUID()}@mail.example.com>`;
      const body = mime({ from: user.email, inReplyTo: letterMessageId, text: 'It rained all day and I still went for the walk.', messageId });
      const res = await post(body, signed(body));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: true, duplicate: false });
      const row = await processed(messageId);
      expect(row).toMatchObject({ source: 'webhook', kind: 'reply', intent: 'note' });
      expect(Buffer.compare(row.raw, body)).toBe(0);
    });

    it('replaying the same signed request stores nothing new and has no second effect', async () => {
      const messageId = `<${randomUUID()}@mail.example.com>`;
      const body = mime({ from: user.email, inReplyTo: letterMessageId, text: 'Done', messageId });
      const headers = signed(body);
      expect((await post(body, headers)).status).toBe(202);
      const row = await processed(messageId);
      const replay = await post(body, headers);
      expect(replay.status).toBe(202);
      expect(await replay.json()).toEqual({ accepted: true, duplicate: true });
      await new Promise((r) => setTimeout(r, 300));
      expect((await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE message_id = $1`, [messageId]))[0].n).toBe(1);
      expect(await progressOf(row.id)).toHaveLength(1);
      expect(await metric('mz_inbound_duplicates_total', { source: 'webhook' })).toBeGreaterThanOrEqual(1);
    });

    it('refuses bad, missing, stale and future signatures with 401 and stores nothing', async () => {
      const before = await countRows();
      const body = mime({ from: user.email, text: 'Done' });
      const cases: Record<string, string>[] = [
        { 'content-type': 'message/rfc822' },
        { 'content-type': 'message/rfc822', 'x-mz-signature': signWebhook('not-the-secret-0123456789', body, now()) },
        { 'content-type': 'message/rfc822', 'x-mz-signature': 'garbage' },
        signed(body, 'message/rfc822', now() - 330),
        signed(body, 'message/rfc822', now() + 330),
        signed(Buffer.concat([body, Buffer.from('tampered')])),
      ];
      for (const headers of cases) {
        const res = await post(body, headers);
        expect(res.status).toBe(401);
      }
      // Inside the window either way is fine.
      for (const skew of [-240, 240]) {
        const b = mime({ from: user.email, text: 'window' });
        expect((await post(b, signed(b, 'message/rfc822', now() + skew))).status).toBe(202);
      }
      expect(await countRows()).toBe(before + 2);
      expect(await metric('mz_inbound_webhook_rejected_total', { reason: 'signature_stale' })).toBeGreaterThanOrEqual(1);
      expect(await metric('mz_inbound_webhook_rejected_total', { reason: 'signature_future' })).toBeGreaterThanOrEqual(1);
    });

    it('accepts an SES Received notification, and refuses the same JSON re-serialised under the original signature', async () => {
      const messageId = `<${randomUUID()}@mail.example.com>`;
      const raw = mime({ from: user.email, inReplyTo: letterMessageId, text: 'Done', messageId });
      const original = `{"notificationType":"Received","mail":{"source":"sam@example.com"},"content":${JSON.stringify(raw.toString('base64'))}}`;
      const headers = signed(Buffer.from(original), 'application/json');
      const reserialised = JSON.stringify(JSON.parse(original), null, 2);
      expect((await post(reserialised, headers)).status).toBe(401);
      expect(await rowByMessageId(messageId)).toBeUndefined();
      const res = await post(original, headers);
      expect(res.status).toBe(202);
      const row = await processed(messageId);
      expect(Buffer.compare(row.raw, raw)).toBe(0);
      expect(row.intent).toBe('done');
    });

    it('answers 415 for other media types, 400 for unreadable bodies, 413 over the cap (after the signature)', async () => {
      const text = Buffer.from('hello');
      expect((await post(text, signed(text, 'text/plain'))).status).toBe(415);
      const badJson = Buffer.from('{"notificationType":');
      expect((await post(badJson, signed(badJson, 'application/json'))).status).toBe(400);
      const wrongType = Buffer.from('{"notificationType":"Bounce","content":"x"}');
      expect((await post(wrongType, signed(wrongType, 'application/json'))).status).toBe(400);
      const big = mime({ from: user.email, text: 'y'.repeat(MAX + 1) });
      expect((await post(big, signed(big))).status).toBe(413);
      // Past what a base64 envelope of a message at the cap could be: refused while reading.
      for (const size of [MAX * 2, MAX * 3]) {
        const huge = Buffer.alloc(size, 0x61);
        const res = await post(huge, signed(huge));
        expect(res.status).toBe(413);
      }
      // Unsigned garbage never reaches the parser.
      expect((await post(text, { 'content-type': 'text/plain' })).status).toBe(401);
    });
  });

  // ---- the worker under hostile MIME --------------------------------------------------------------

  describe('oversized, malformed and deeply nested MIME', () => {
    function nested(depth: number): Buffer {
      let body = 'Content-Type: text/plain\r\n\r\ndeep\r\n';
      for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
      return Buffer.from(`From: ${user.email}\r\nMessage-ID: <deep-${randomUUID()}@example.com>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`);
    }
    function manyParts(n: number): Buffer {
      const parts = Array.from({ length: n }, (_, i) => `--m\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
      return Buffer.from(`From: ${user.email}\r\nMessage-ID: <many-${randomUUID()}@example.com>\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n${parts}--m--\r\n`);
    }

    it('records each with a clear error (or as unmatched) and keeps processing good mail', async () => {
      const store = svc.app.get(InboundStore);
      const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
      const oversized = Buffer.concat([mime({ from: user.email, text: 'z', messageId: `<big-${randomUUID()}@example.com>` }), Buffer.alloc(MAX, 0x7a)]);
      const hostile = [
        { raw: nested(60), expect: /^too_deep: / },
        { raw: manyParts(400), expect: /^too_many_parts: / },
        { raw: oversized, expect: /^too_large: .*stored truncated/ },
        { raw: garbage, expect: null },
      ];
      const ids: string[] = [];
      for (const h of hostile) ids.push((await store.store({ raw: h.raw, source: 'webhook' })).id);
      const goodId = `<${randomUUID()}@mail.example.com>`;
      await store.store({ raw: mime({ from: user.email, inReplyTo: letterMessageId, text: 'Done', messageId: goodId }), source: 'webhook' });
      const good = await processed(goodId);
      expect(good).toMatchObject({ kind: 'reply', intent: 'done', error: null });

      for (const [i, id] of ids.entries()) {
        const row = await eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE id = $1 AND processed_at IS NOT NULL`, [id]))[0], `hostile ${i} recorded`, 20_000, 50);
        if (hostile[i].expect) {
          expect(row.error).toMatch(hostile[i].expect!);
          expect(row.kind).toBeNull();
        } else {
          expect(row.error === null ? row.kind : 'error').toMatch(/^(unmatched|error)$/);
        }
      }
      const oversizedRow = (await ds.query(`SELECT raw_truncated, raw_size, length(raw) AS stored FROM inbound_message WHERE id = $1`, [ids[2]]))[0];
      expect(oversizedRow).toMatchObject({ raw_truncated: true, raw_size: oversized.length, stored: MAX });
      expect(await metric('mz_inbound_parse_failures_total')).toBeGreaterThanOrEqual(3);
      expect(await metric('mz_inbound_processed_total', { kind: 'error' })).toBeGreaterThanOrEqual(3);
    });
  });

  it('re-queues a row stored without its job (Redis lost it between commit and enqueue)', async () => {
    const messageId = `<${randomUUID()}@mail.example.com>`;
    const raw = mime({ from: user.email, inReplyTo: letterMessageId, text: 'Done', messageId });
    // As if the insert committed and the process died before queueing: a row and no job.
    const [{ id }] = await ds.query(
      `INSERT INTO inbound_message (message_id, raw, raw_size, source, received_at) VALUES ($1, $2, $3, 'smtp', now() - interval '5 minutes') RETURNING id`,
      [messageId, raw, raw.length],
    );
    const fresh = `<${randomUUID()}@mail.example.com>`;
    await ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source) VALUES ($1, $2, $3, 'smtp')`, [fresh, mime({ from: user.email, text: 'x', messageId: fresh }), 10]);
    expect((await svc.app.get(InboundRedrive).redrive()).messages).toBe(1); // the fresh row is within the grace: its job may still come
    const row = await processed(messageId);
    expect(row.id).toBe(id);
    expect(row.intent).toBe('done');
    expect(await progressOf(id)).toHaveLength(1);
    await ds.query(`DELETE FROM inbound_message WHERE message_id = $1`, [fresh]);
  });

  // ---- rate limit and shutdown ----------------------------------------------------------------------

  it('rate-limits per client IP and closes cleanly on shutdown', async () => {
    const limited = await startService(inboundService({ smtpMessagesPerMinute: 2, smtpConnectionsPerMinute: 3, resolver: new FakeDnsZone().resolver }), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, WEBHOOK_SECRET: SECRET,
    });
    const port = limited.app.get(InboundSmtpServer).port!;
    try {
      const { smtp } = await SmtpDialogue.open(port);
      await smtp.command('EHLO client.example');
      expect((await smtp.command('MAIL FROM:<a@example.com>')).code).toBe(250);
      expect((await smtp.command('RSET')).code).toBe(250);
      expect((await smtp.command('MAIL FROM:<a@example.com>')).code).toBe(250);
      expect((await smtp.command('RSET')).code).toBe(250);
      expect((await smtp.command('MAIL FROM:<a@example.com>')).code).toBe(450);
      smtp.close();
      const second = await SmtpDialogue.open(port);
      expect(second.greeting.code).toBe(220);
      second.smtp.close();
      const third = await SmtpDialogue.open(port);
      expect(third.greeting.code).toBe(220);
      third.smtp.close();
      const fourth = await SmtpDialogue.open(port);
      expect(fourth.greeting.code).toBe(421);
      fourth.smtp.close();
    } finally {
      await limited.close();
    }
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
