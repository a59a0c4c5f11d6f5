/**
 * Trusted mail, both ways (issue 11), against real components: the built mailer as a process
 * sending through its pooled nodemailer transport to the capturing TestSmtpServer, the built
 * operator CLI printing the DNS records, and the inbound service (in-process, so that its DNS
 * resolver can be the fake zone — nothing here reaches the internet) receiving over real SMTP and
 * the signed webhook, processing on real Postgres and Redis.
 *
 * - a captured letter (and a sign-in mail) verifies with mailauth against the key the DNS command
 *   printed; it carries its signed reply, bounce and unsubscribe addresses and a Feedback-ID;
 * - a DSN sent back to a letter's bounce address suppresses exactly its recipient; a DSN there
 *   naming someone else, or a hand-written DSN to another address, changes nothing;
 * - a reply to the signed reply address from its recipient takes effect; the public tag with a
 *   spoofed From, a reply to another user's letter, and a From whose domain's DMARC fails under
 *   p=reject change nothing (kept for review where they claim a subscription);
 * - the mailto unsubscribe works; an altered one is refused at RCPT;
 * - an ARF report with 500 recipients suppresses only the identified one; a forged ARF nothing;
 * - webhook/IMAP: a forged Authentication-Results is not believed, the provider's topmost one is;
 * - a DNS failure is temperror, never pass.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { authenticate, dkimVerify } from 'mailauth';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { inboundService } from '../../apps/inbound/src/inbound.definition';
import { InboundSmtpServer } from '../../apps/inbound/src/receive/smtp-inbound.server';
import { InboundStore } from '../../apps/inbound/src/receive/inbound-store.service';
import { signWebhook } from '../../apps/inbound/src/receive/webhook/webhook-signature';
import { FakeDnsZone } from '../fakes/fake-dns-zone';
import { type CapturedMail, TestSmtpServer } from '../fakes/test-smtp-server';
import { eventually, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const REPLY_DOMAIN = 'reply.mentor.e2e.example';
const DKIM_DOMAIN = 'mentor.e2e.example';
const WEBHOOK_SECRET = 'mail-trust-e2e-webhook-secret-0123';
const MAIL_ADDRESS_SECRET = 'mail-trust-e2e-mail-address-secret-0123456789';
const PROVIDER = 'mx.provider.example';

describe('trusted mail, both ways (built mailer + CLI, inbound on a fake DNS zone)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let sink: TestSmtpServer;
  let mailer: ServiceProcess;
  let inbound: RunningService;
  let smtpPort: number;
  let vars: Record<string, string>;
  let zoneLines: string[];
  const zone = new FakeDnsZone();
  let sendQueue: Queue;
  let loginQueue: Queue;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    sink = await TestSmtpServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'mz-dkim-'));
    const key = (name: string) => {
      const file = join(dir, name);
      writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      return file;
    };
    vars = {
      ...env.vars,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      REPLY_DOMAIN,
      MAIL_FROM: `Mentor Zero <mentor@${DKIM_DOMAIN}>`,
      SMTP_URL: sink.url,
      APP_BASE_URL: 'https://mentor.e2e.example',
      WEBHOOK_SECRET,
      MAIL_ADDRESS_SECRET,
      DKIM_DOMAIN,
      DKIM_SELECTOR: 'mz2026a',
      DKIM_PRIVATE_KEY: key('current.pem'),
      DKIM_NEXT_SELECTOR: 'mz2026b',
      DKIM_NEXT_PRIVATE_KEY: key('next.pem'),
      INBOUND_TRUSTED_AUTHSERV_IDS: PROVIDER,
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    // What the operator publishes: the CLI's own output, from dist.
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/apps/ops/src/main.js'), 'dns-records', '--spf', 'ip4:127.0.0.1'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...vars } });
    zoneLines = stdout.split('\n');
    zone.load(zoneLines);
    // The subscribers' domains: one whose SPF lets this host send and DMARC rejects failures,
    // one that rejects failures and does not let this host send, one whose DNS is down.
    zone.txt('pass.example', 'v=spf1 ip4:127.0.0.1 ip6:::1 -all').txt('_dmarc.pass.example', 'v=DMARC1; p=reject');
    zone.txt('reject.example', 'v=spf1 ip4:192.0.2.1 -all').txt('_dmarc.reject.example', 'v=DMARC1; p=reject');
    zone.fail('broken.example');

    [mailer, inbound] = await Promise.all([
      startServiceProcess('mailer', vars, { readyTimeoutMs: 60_000 }),
      startService(inboundService({ resolver: zone.resolver }), { ...vars, PORT: '0', INBOUND_SMTP_PORT: '0', LOG_LEVEL: 'silent' }),
    ]);
    smtpPort = inbound.app.get(InboundSmtpServer).port!;
    sendQueue = new Queue('letters.send', { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
    loginQueue = new Queue('mail.transactional', { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([sendQueue?.close(), loginQueue?.close()]);
    await Promise.all([mailer?.stop(), inbound?.close()]);
    await sink?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  interface Sent {
    userId: string;
    email: string;
    subscriptionId: string;
    letterId: string;
    mail: CapturedMail;
    replyTo: string;
    bounce: string;
    unsubscribe: string;
  }

  /** A subscriber with a composed letter, sent by the real mailer; what the sink captured. */
  async function letterTo(email: string, topic = 'resilience'): Promise<Sent> {
    const [u] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam') RETURNING id`, [email]);
    const [s] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone, next_run_at) SELECT $1, id, 'Europe/Berlin', now() + interval '1 day' FROM topic WHERE code = $2 RETURNING id`, [u.id, topic]);
    const letterId = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, body_html, message_id, composed_at, model)
       SELECT $1, s.id, s.user_id, s.topic_id, 'composed', now(), current_date, 'Seneca on storms [mz:' || $4 || ']', 'Dear Sam, one storm at a time.', '<p>Dear Sam, one storm at a time.</p>', $2, now(), 'offline'
         FROM subscription s WHERE s.id = $3`,
      [letterId, `<mz.${letterId}@${REPLY_DOMAIN}>`, s.id, topic],
    );
    await sendQueue.add('send-letter', { v: 1, letterId }, { jobId: letterId });
    const mail = await eventually(async () => sink.messages.find((m) => m.envelope.to.includes(email)), `letter to ${email} captured`, 30_000);
    const header = (name: string) => mail.rawHeaders.get(name) ?? '';
    const unsubscribe = /<mailto:([^?>]+)\?subject=unsubscribe>/.exec(header('list-unsubscribe'))?.[1] ?? '';
    return { userId: u.id, email, subscriptionId: s.id, letterId, mail, replyTo: /[^<\s]+@[^>\s]+/.exec(header('reply-to'))![0], bounce: mail.envelope.from, unsubscribe };
  }

  async function smtpSend(raw: string, from: string, to: string, helo = 'mail.example.com') {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, name: helo });
    try {
      return await t.sendMail({ envelope: { from, to: [to] }, raw: Buffer.from(raw) });
    } finally {
      t.close();
    }
  }

  const message = (h: Record<string, string>, body: string) =>
    `${Object.entries({ Date: new Date().toUTCString(), 'Message-ID': `<${randomUUID()}@mail.example>`, 'MIME-Version': '1.0', 'Content-Type': 'text/plain; charset=utf-8', ...h })
      .map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}\r\n`;

  const processedRow = (messageId: string) =>
    eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE message_id = $1 AND processed_at IS NOT NULL`, [messageId]))[0], `${messageId} processed`, 20_000, 50);
  const subscription = async (id: string) => (await ds.query(`SELECT enabled, paused_until FROM subscription WHERE id = $1`, [id]))[0];
  const suppressed = async () => (await ds.query(`SELECT address, reason FROM suppression ORDER BY address`)).map((r: { address: string; reason: string }) => `${r.address}:${r.reason}`);

  function dsn(opts: { to: string; finalRecipient: string; status: string; original: string }): { raw: string; messageId: string } {
    const messageId = `<dsn.${randomUUID()}@mx.receiver.example>`;
    const b = `dsn-${randomUUID()}`;
    const raw = [
      `From: Mail Delivery System <MAILER-DAEMON@mx.receiver.example>`, `To: ${opts.to}`, `Subject: Undelivered Mail Returned to Sender`,
      `Date: ${new Date().toUTCString()}`, `Message-ID: ${messageId}`, 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`, '',
      `--${b}`, 'Content-Type: text/plain; charset=us-ascii', '', 'Your message could not be delivered.', '',
      `--${b}`, 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.receiver.example', '',
      `Final-Recipient: rfc822; ${opts.finalRecipient}`, 'Action: failed', `Status: ${opts.status}`, `Diagnostic-Code: smtp; 550 ${opts.status} User unknown`, '',
      `--${b}`, 'Content-Type: text/rfc822-headers', '', opts.original.split(/\r?\n\r?\n/)[0], '',
      `--${b}--`, '',
    ].join('\r\n');
    return { raw, messageId };
  }

  function arf(opts: { to: string; recipients: string[]; original: string }): { raw: string; messageId: string } {
    const messageId = `<arf.${randomUUID()}@fbl.receiver.example>`;
    const b = `arf-${randomUUID()}`;
    const raw = [
      `From: <staff@fbl.receiver.example>`, `To: ${opts.to}`, 'Subject: complaint about message from 127.0.0.1', `Date: ${new Date().toUTCString()}`,
      `Message-ID: ${messageId}`, 'MIME-Version: 1.0', `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`, '',
      `--${b}`, 'Content-Type: text/plain', '', 'This is an email abuse report.', '',
      `--${b}`, 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'User-Agent: FBL/1.0', 'Version: 1',
      ...opts.recipients.map((r) => `Original-Rcpt-To: <${r}>`), '',
      `--${b}`, 'Content-Type: text/rfc822-headers', '', opts.original.split(/\r?\n\r?\n/)[0], '',
      `--${b}--`, '',
    ].join('\r\n');
    return { raw, messageId };
  }

  it('signs letters and sign-in mail with the key the DNS command printed, and gives each its signed addresses', async () => {
    expect(zoneLines.filter((l) => /\tIN\t/.test(l)).map((l) => l.split('\t').slice(0, 4).join(' '))).toEqual([
      `${REPLY_DOMAIN}. 3600 IN MX`, `${REPLY_DOMAIN}. 3600 IN TXT`, `_smtp._tls.${REPLY_DOMAIN}. 3600 IN TXT`, `mz2026a._domainkey.${DKIM_DOMAIN}. 3600 IN TXT`, `mz2026b._domainkey.${DKIM_DOMAIN}. 3600 IN TXT`, `_dmarc.${DKIM_DOMAIN}. 3600 IN TXT`,
    ]);
    const ada = await letterTo('ada@example.com');
    const verified = await dkimVerify(ada.mail.raw, { resolver: zone.resolver });
    expect(verified.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([[DKIM_DOMAIN, 'mz2026a', 'pass']]);
    // As a receiving MTA sees it: DKIM aligned with From, SPF for the bounce domain, DMARC pass.
    const received = await authenticate(ada.mail.raw, { ip: '127.0.0.1', helo: 'mailer.mentor.e2e.example', sender: ada.bounce, resolver: zone.resolver, mta: 'mx.receiver.example', disableBimi: true });
    expect([received.spf && received.spf.status.result, received.dmarc && received.dmarc.status.result]).toEqual(['pass', 'pass']);
    // Tampering breaks it (mailauth reports a body-hash mismatch as neutral, RFC 6376 §3.9).
    const tampered = Buffer.from(ada.mail.raw.toString('utf8').replace('one storm at a time', 'two storms at a time'));
    const broken = (await dkimVerify(tampered, { resolver: zone.resolver })).results[0].status;
    expect(broken.result).not.toBe('pass');
    expect(broken.comment).toMatch(/body hash/i);

    expect(ada.replyTo).toMatch(new RegExp(`^r\\+${ada.letterId.replace(/-/g, '')}\\.[0-9a-f]{20}@${REPLY_DOMAIN.replace(/\./g, '\\.')}$`));
    expect(ada.bounce).toMatch(new RegExp(`^b\\+l${ada.letterId.replace(/-/g, '')}\\.[0-9a-f]{20}@`));
    expect(ada.unsubscribe).toMatch(new RegExp(`^u\\+${ada.subscriptionId.replace(/-/g, '')}\\.[0-9a-f]{20}@`));
    expect(ada.mail.rawHeaders.get('feedback-id')).toBe('resilience:letter:mentorzero');

    // Transactional mail: signed too, with a bounce address of its own.
    const [t] = await ds.query(`INSERT INTO login_token (user_id, token_hash, purpose, expires_at) VALUES ($1, 'x', 'login', now() + interval '15 minutes') RETURNING id`, [ada.userId]);
    await loginQueue.add('send-login-link', { v: 1, loginTokenId: t.id }, { jobId: t.id });
    const login = await eventually(async () => sink.messages.find((m) => m.envelope.to.includes(ada.email) && /sign-in link/.test(m.rawHeaders.get('subject') ?? '')), 'sign-in mail captured', 30_000);
    expect(login.envelope.from).toMatch(new RegExp(`^b\\+t${t.id.replace(/-/g, '')}\\.[0-9a-f]{20}@${REPLY_DOMAIN.replace(/\./g, '\\.')}$`));
    expect((await dkimVerify(login.raw, { resolver: zone.resolver })).results[0].status.result).toBe('pass');
    expect(login.rawHeaders.get('feedback-id')).toBe('login:transactional:mentorzero');
  });

  it('a DSN sent back to a letter\'s bounce address suppresses exactly its recipient; forged and misdirected DSNs change nothing', async () => {
    const dana = await letterTo('dana@example.com');
    const bystander = await letterTo('bystander@example.com');
    const original = dana.mail.raw.toString('utf8');
    const before = await suppressed();

    // At Dana's bounce address but naming the bystander: not this letter's recipient.
    const misdirected = dsn({ to: dana.bounce, finalRecipient: bystander.email, status: '5.1.1', original });
    await smtpSend(misdirected.raw, '', dana.bounce);
    expect(await processedRow(misdirected.messageId)).toMatchObject({ kind: 'unmatched', matched_user_id: null });
    // Hand-written, to the plain reply address, naming the bystander (the attack of issue 11).
    const forged = dsn({ to: `reply@${REPLY_DOMAIN}`, finalRecipient: bystander.email, status: '5.1.1', original });
    await smtpSend(forged.raw, '', `reply@${REPLY_DOMAIN}`);
    expect((await processedRow(forged.messageId)).analysis.unmatched).toBe('no_bounce_address');
    expect(await suppressed()).toEqual(before);

    const real = dsn({ to: dana.bounce, finalRecipient: dana.email, status: '5.1.1', original });
    await smtpSend(real.raw, '', dana.bounce);
    const row = await processedRow(real.messageId);
    expect(row).toMatchObject({ kind: 'bounce', matched_user_id: dana.userId, matched_letter_id: dana.letterId });
    expect(row.envelope_to).toEqual([dana.bounce.toLowerCase()]);
    expect(await suppressed()).toEqual([...before, `${dana.email}:hard_bounce`].sort());
  });

  it('a reply to the signed reply address from its recipient takes effect; tag + spoofed From and replies to another user\'s letter change nothing', async () => {
    const sam = await letterTo('sam@pass.example');
    const mallory = await letterTo('mallory@example.net');

    // Spoofed From with the valid public tag, to the plain reply address: kept for review.
    const spoofed = message({ From: `Sam <${sam.email}>`, To: `reply@${REPLY_DOMAIN}`, Subject: 'Re: [mz:resilience] unsubscribe' }, 'Unsubscribe me.');
    await smtpSend(spoofed, 'attacker@evil.example', `reply@${REPLY_DOMAIN}`, 'evil.example');
    const spoofRow = await processedRow(/Message-ID: (\S+)/.exec(spoofed)![1]);
    expect(spoofRow).toMatchObject({ kind: 'reply', intent: null, needs_review: true, matched_user_id: sam.userId });
    expect(spoofRow.analysis.reviewReason).toBe('untrusted:topic_tag_only');
    expect(await subscription(sam.subscriptionId)).toMatchObject({ enabled: true });

    // Mallory replies to Sam's reply address (a forwarded letter): not Sam, no effect.
    const other = message({ From: `Mallory <${mallory.email}>`, To: sam.replyTo, Subject: 'Re: Seneca on storms' }, 'Pause for two weeks.');
    await smtpSend(other, mallory.email, sam.replyTo);
    expect((await processedRow(/Message-ID: (\S+)/.exec(other)![1])).analysis.unmatched).toBe('sender_not_recipient');
    expect(await subscription(sam.subscriptionId)).toMatchObject({ paused_until: null });

    // Sam, from a host his domain's SPF allows (DMARC pass): the pause takes effect.
    const reply = message({ From: `Sam <${sam.email}>`, To: sam.replyTo, Subject: 'Re: Seneca on storms' }, 'Pause for 3 days please.');
    await smtpSend(reply, sam.email, sam.replyTo, 'mail.pass.example');
    const row = await processedRow(/Message-ID: (\S+)/.exec(reply)![1]);
    expect(row).toMatchObject({ kind: 'reply', intent: 'pause', needs_review: false, matched_letter_id: sam.letterId });
    expect(row.analysis).toMatchObject({ matchedBy: 'reply_address', authentication: { path: 'smtp', spf: { result: 'pass' }, dmarc: { result: 'pass' } } });
    expect((await subscription(sam.subscriptionId)).paused_until).not.toBeNull();
  });

  it('a From whose domain fails DMARC under p=reject speaks for nobody, even at the right reply address', async () => {
    const rita = await letterTo('rita@reject.example');
    const forged = message({ From: `Rita <${rita.email}>`, To: rita.replyTo, Subject: 'Re: Seneca on storms' }, 'Unsubscribe me please.');
    await smtpSend(forged, 'someone@evil.example', rita.replyTo);
    const row = await processedRow(/Message-ID: (\S+)/.exec(forged)![1]);
    expect(row).toMatchObject({ kind: 'reply', intent: null, needs_review: true });
    expect(row.analysis.reviewReason).toBe('untrusted:dmarc_fail');
    expect(row.analysis.authentication.dmarc).toMatchObject({ result: 'fail', policy: 'reject' });
    expect(await subscription(rita.subscriptionId)).toMatchObject({ enabled: true });
  });

  it('a header section too large to authenticate is never a pass: the reply waits for a person, nothing changes', async () => {
    // The forged reply again, now padded so that checking it would stall the event loop (R9).
    const rita = await letterTo('rita.padded@reject.example');
    const padding = Object.fromEntries(Array.from({ length: 160 }, (_, i) => [`X-Pad-${i}`, 'x'.repeat(900)]));
    const forged = message({ From: `Rita <${rita.email}>`, To: rita.replyTo, Subject: 'Re: Seneca on storms', ...padding }, 'Unsubscribe me please.');
    expect(forged.indexOf('\r\n\r\n')).toBeGreaterThan(128 * 1024);
    await smtpSend(forged, 'someone@evil.example', rita.replyTo);
    const row = await processedRow(/Message-ID: (\S+)/.exec(forged)![1]);
    expect(row).toMatchObject({ kind: 'reply', intent: null, needs_review: true });
    expect(row.analysis.reviewReason).toBe('untrusted:unverifiable');
    expect(row.analysis.authentication).toMatchObject({ unverifiable: 'headers_too_large', dmarc: { result: 'permerror' }, spf: { result: 'permerror' }, dkim: [] });
    expect(await subscription(rita.subscriptionId)).toMatchObject({ enabled: true });
  });

  it('the mailto unsubscribe turns off that one subscription; an altered address is refused at RCPT', async () => {
    const uma = await letterTo('uma@example.com');
    const [other] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) SELECT $1, id, 'UTC' FROM topic WHERE code = 'focus' RETURNING id`, [uma.userId]);

    const sig = uma.unsubscribe.split('@')[0].split('.')[1];
    const altered = uma.unsubscribe.replace(`.${sig}@`, `.${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}@`);
    const refused = await smtpSend(message({ From: uma.email, To: altered, Subject: 'unsubscribe' }, ''), uma.email, altered).catch((e: unknown) => e);
    expect(refused).toMatchObject({ responseCode: 550 });

    const request = message({ From: uma.email, To: uma.unsubscribe, Subject: 'unsubscribe' }, 'This message will unsubscribe you.');
    await smtpSend(request, uma.email, uma.unsubscribe);
    const row = await processedRow(/Message-ID: (\S+)/.exec(request)![1]);
    expect(row).toMatchObject({ kind: 'reply', intent: 'unsubscribe', matched_user_id: uma.userId });
    expect(await subscription(uma.subscriptionId)).toMatchObject({ enabled: false });
    expect(await subscription(other.id)).toMatchObject({ enabled: true });
  });

  it('an ARF report with 500 recipients suppresses only the identified one; a forged report nothing', async () => {
    const erin = await letterTo('erin@example.com');
    const frank = await letterTo('frank@example.com');
    const before = await suppressed();
    // Not ours: a foreign original, sent to fbl@, naming Frank.
    const forged = arf({ to: `fbl@${REPLY_DOMAIN}`, recipients: [frank.email], original: message({ From: 'someone@else.example', To: frank.email, Subject: 'x' }, '') });
    await smtpSend(forged.raw, 'staff@fbl.receiver.example', `fbl@${REPLY_DOMAIN}`);
    expect((await processedRow(forged.messageId)).analysis.unmatched).toBe('no_message_of_ours');

    const many = [...Array.from({ length: 498 }, (_, i) => `victim${i}@example.org`), frank.email, erin.email];
    const report = arf({ to: erin.bounce, recipients: many, original: erin.mail.raw.toString('utf8') });
    await smtpSend(report.raw, 'staff@fbl.receiver.example', erin.bounce);
    const row = await processedRow(report.messageId);
    expect(row).toMatchObject({ kind: 'complaint', matched_user_id: erin.userId, matched_letter_id: erin.letterId });
    expect(await suppressed()).toEqual([...before, `${erin.email}:complaint`].sort());
    expect(await subscription(erin.subscriptionId)).toMatchObject({ enabled: false });
    expect(await subscription(frank.subscriptionId)).toMatchObject({ enabled: true });
  });

  it('webhook and IMAP: a forged Authentication-Results is not believed; the provider\'s topmost header is', async () => {
    const rob = await letterTo('rob@reject.example');
    const post = async (raw: string) => {
      const body = Buffer.from(raw);
      const res = await fetch(`${inbound.url}/webhooks/reply`, {
        method: 'POST', body: new Uint8Array(body),
        headers: { 'content-type': 'message/rfc822', 'x-mz-signature': signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000)) },
      });
      expect(res.status).toBe(202);
      return processedRow(/Message-ID: (\S+)/.exec(raw)![1]);
    };
    const claim = (id: string) => `${id}; spf=pass smtp.mailfrom=reject.example; dkim=pass header.d=reject.example; dmarc=pass header.from=reject.example`;

    // The sender wrote a header in the provider's name, under the provider's real one (which says fail).
    const forgedBelow = message({
      'Authentication-Results': `${PROVIDER}; spf=fail smtp.mailfrom=reject.example; dmarc=fail header.from=reject.example`,
      'X-Filler': 'x', From: `Rob <${rob.email}>`, To: rob.replyTo, Subject: 'Re: Seneca on storms',
    }, 'Unsubscribe me please.').replace('X-Filler: x', `Authentication-Results: ${claim(PROVIDER)}`);
    const r1 = await post(forgedBelow);
    expect(r1.analysis.authentication).toMatchObject({ path: 'trusted_header', trustedAuthservId: PROVIDER, spf: { result: 'fail' }, dmarc: { result: 'fail' } });
    expect(r1).toMatchObject({ needs_review: true, intent: null });

    // A header from an authserv-id we do not trust, topmost: ignored; our own check finds no pass.
    const untrusted = message({ 'Authentication-Results': claim('mx.google.com'), From: `Rob <${rob.email}>`, To: rob.replyTo, Subject: 'Re: Seneca on storms' }, 'Unsubscribe me please.');
    const r2 = await post(untrusted);
    expect(r2.analysis.authentication).toMatchObject({ path: 'dkim_only', trustedAuthservId: null, ignoredAuthservId: 'mx.google.com', dmarc: { result: 'fail' } });
    expect(r2.needs_review).toBe(true);
    // The same over IMAP (the poller stores through the same door).
    const viaImap = untrusted.replace(/Message-ID: <[^>]+>/, `Message-ID: <imap.${randomUUID()}@mail.example>`);
    const { id } = await inbound.app.get(InboundStore).store({ raw: Buffer.from(viaImap), source: 'imap', envelopeFrom: null });
    const r3 = await eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE id = $1 AND processed_at IS NOT NULL`, [id]))[0], 'imap processed', 20_000, 50);
    expect(r3).toMatchObject({ needs_review: true, intent: null });
    expect(r3.analysis.authentication.dmarc.result).toBe('fail');
    expect(await subscription(rob.subscriptionId)).toMatchObject({ enabled: true });

    // The provider's own header, topmost: its SPF pass (aligned) is believed, and the reply acts.
    const genuine = message({ 'Authentication-Results': claim(PROVIDER), From: `Rob <${rob.email}>`, To: rob.replyTo, Subject: 'Re: Seneca on storms' }, 'Unsubscribe me please.');
    const r4 = await post(genuine);
    expect(r4.analysis.authentication).toMatchObject({ path: 'trusted_header', spf: { result: 'pass' }, dmarc: { result: 'pass' } });
    expect(r4).toMatchObject({ intent: 'unsubscribe', needs_review: false });
    expect(await subscription(rob.subscriptionId)).toMatchObject({ enabled: false });
  });

  it('a DNS failure is temperror, never a pass', async () => {
    const bea = await letterTo('bea@broken.example');
    const reply = message({ From: `Bea <${bea.email}>`, To: bea.replyTo, Subject: 'Re: Seneca on storms' }, 'Done!');
    await smtpSend(reply, bea.email, bea.replyTo, 'mail.broken.example');
    const row = await processedRow(/Message-ID: (\S+)/.exec(reply)![1]);
    expect(row.analysis.authentication).toMatchObject({ spf: { result: 'temperror' }, dmarc: { result: 'temperror' } });
    // Not a contradiction either: the recipient's own reply to her reply address still counts.
    expect(row).toMatchObject({ intent: 'done', needs_review: false });
  });
});
