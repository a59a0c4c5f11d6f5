/**
 * The inbound path under hostile mail: mutations of the reply corpus (NUL and control bytes,
 * broken charsets and transfer encodings, truncated MIME, deep and unclosed multiparts, huge
 * headers and lines, thousands of headers) sent through the real SMTP server and the signed
 * webhook to the real `replies.process` worker. Every message ends processed — reply, auto-reply,
 * bounce, complaint, unmatched, or refused with a named reason — within seconds, with no database
 * error and no retried attempt. Seeded (FUZZ_SEED replays), bounded in count (FUZZ_RUNS) and time.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { QueueService, type RunningService, startService } from '@mz/platform';
import { loadContext, loadFixture, loadManifest } from '../../../test/e2e/inbound-support/reply-fixtures';
import { FUZZ_SEED, fuzz, fuzzParams } from '../../../test/support/fuzz';
import { eventually } from '../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { inboundService } from './inbound.definition';
import { InboundSmtpServer } from './receive/smtp-inbound.server';
import { InboundStore } from './receive/inbound-store.service';
import { signWebhook } from './receive/webhook/webhook-signature';

jest.setTimeout(180_000);

const REPLY_DOMAIN = 'reply.mentor.test';
const SECRET = 'inbound-fuzz-webhook-secret-0123456789';
const MESSAGES = 24;
const SEND_BUDGET_MS = 20_000;
/** Where a message may end: a kind, or an error that names its reason (a parser guard or a permanent class). */
const KINDS = new Set(['reply', 'auto_reply', 'bounce', 'complaint', 'unmatched']);
const NAMED_REFUSAL = /^(too_large|too_many_parts|too_deep|timeout|malformed|permanent): /;

type Mutation = (raw: Buffer) => Buffer;
const split = (raw: Buffer): [string, string] => {
  const s = raw.toString('latin1');
  const i = s.search(/\r?\n\r?\n/);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i)];
};
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** Each mutation is a way real mail goes wrong; several may apply to one message. */
const mutation = (): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('\u0000', '\u0000\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u00ff')), { minLength: 1, maxLength: 6 })
      .map((cuts) => (raw: Buffer) => {
        let s = raw.toString('latin1');
        for (const [at, bytes] of cuts) {
          const i = Math.floor(at * s.length);
          s = s.slice(0, i) + bytes + s.slice(i);
        }
        return latin1(s);
      }),
    fc.constantFrom('x-unknown-\u0000', 'utf-7', 'utf-16', 'iso-2022-jp', '"', 'utf-8"; charset=koi8-r').map((cs) => (raw: Buffer) =>
      latin1(raw.toString('latin1').replace(/charset="?[^";\r\n]+"?/gi, `charset=${cs}`))),
    fc.constantFrom('base64', 'quoted-printable', 'x-uuencode', '8bit\u0000').map((cte) => (raw: Buffer) => {
      const [head, body] = split(raw);
      const h = /content-transfer-encoding:/i.test(head) ? head.replace(/content-transfer-encoding:[^\r\n]*/gi, `Content-Transfer-Encoding: ${cte}`) : `${head}\r\nContent-Transfer-Encoding: ${cte}`;
      return latin1(h + body.replace(/e/g, '=Z').replace(/a/g, '\u0000=='));
    }),
    fc.double({ min: 0.05, max: 0.95, noNaN: true }).map((at) => (raw: Buffer) => raw.subarray(0, Math.floor(raw.length * at))),
    fc.integer({ min: 2, max: 300 }).map((depth) => (raw: Buffer) => {
      const [head, body] = split(raw);
      const keep = head.replace(/^content-type:.*(\r?\n[ \t].*)*$/gim, '').replace(/(\r?\n)+/g, '\r\n').trim();
      let inner = `Content-Type: text/plain; charset=utf-8\r\n${body}`;
      for (let d = 0; d < depth; d++) inner = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${inner}\r\n--b${d}--`;
      return latin1(`${keep}\r\nMIME-Version: 1.0\r\n${inner}`);
    }),
    fc.constant((raw: Buffer) => {
      const [head, body] = split(raw);
      return latin1(`${head.replace(/^content-type:.*$/gim, 'X-Old-Content-Type: x')}\r\nContent-Type: multipart/alternative; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Type: text/html\r\n${body}\r\n--never-closed\r\nContent-Type: text/plain`);
    }),
    fc.integer({ min: 10_000, max: 60_000 }).map((n) => (raw: Buffer) => latin1(`X-Junk: ${'j'.repeat(n)}\r\n${raw.toString('latin1')}`)),
    fc.integer({ min: 100, max: 3_000 }).map((n) => (raw: Buffer) => latin1(`${Array.from({ length: n }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n${raw.toString('latin1')}`)),
    fc.integer({ min: 50_000, max: 500_000 }).map((n) => (raw: Buffer) => Buffer.concat([raw, latin1(`\r\n${'L'.repeat(n)}\r\n`)])),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => (raw: Buffer) => {
      const [head, body] = split(raw);
      return Buffer.concat([latin1(`${head}\r\nSubject: =?utf-8?B?${Buffer.from(bytes).toString('base64')}?=\r\nX-8bit: `), Buffer.from(bytes), latin1(body)]);
    }),
    fc.constant((raw: Buffer) => latin1(raw.toString('latin1').replace(/\r\n/g, '\n'))),
  );

describe(`inbound fuzz: mutated replies over SMTP and the webhook (FUZZ_SEED=${FUZZ_SEED})`, () => {
  let env: TestEnv;
  let ds: DataSource;
  let svc: RunningService;
  let smtpPort: number;
  let email: string;
  let letterMessageId: string;
  const stored: { id: string; via: string }[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    svc = await startService(inboundService(), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, WEBHOOK_SECRET: SECRET, INBOUND_CONCURRENCY: '4',
    });
    smtpPort = svc.app.get(InboundSmtpServer).port!;
    // Every stored message, whichever receiver took it: the rows this suite must see processed.
    const store = svc.app.get(InboundStore);
    const original = store.store.bind(store);
    store.store = async (input) => {
      const r = await original(input);
      if (!r.duplicate) stored.push({ id: r.id, via: input.source });
      return r;
    };
    email = 'sam.rivera@example.com';
    const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam Rivera') RETURNING id`, [email]);
    const [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) SELECT $1, id, 'Europe/Berlin' FROM topic WHERE code = 'resilience' RETURNING id`, [user.id]);
    const letterId = randomUUID();
    letterMessageId = `<mz.${letterId}@${REPLY_DOMAIN}>`;
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'sent', now() - interval '1 hour', current_date, 'Seneca on the storm [mz:resilience]', 'Dear Sam', $2, now() FROM subscription s WHERE s.id = $3`,
      [letterId, letterMessageId, sub.id],
    );
  });

  afterAll(async () => {
    await svc?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  const values = () => ({ ...loadContext().substitutions, '{{SUBSCRIBER}}': email, '{{LETTER_MESSAGE_ID}}': letterMessageId, '{{REPLY_DOMAIN}}': REPLY_DOMAIN });
  const withFreshMessageId = (raw: Buffer) => {
    const id = `<fuzz.${randomUUID()}@mail.example.com>`;
    const s = raw.toString('latin1');
    return latin1(/^message-id:/im.test(s) ? s.replace(/^message-id:[^\r\n]*/im, `Message-ID: ${id}`) : `Message-ID: ${id}\r\n${s}`);
  };

  async function sendSmtp(raw: Buffer): Promise<'stored' | 'refused'> {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    try {
      await t.sendMail({ envelope: { from: email, to: [`reply@${REPLY_DOMAIN}`] }, raw });
      return 'stored';
    } catch (err) {
      // A refusal must be an SMTP answer with a reason, never a dropped connection.
      const code = (err as { responseCode?: number }).responseCode;
      if (!code || code < 500) throw new Error(`SMTP did not answer with a permanent refusal: ${(err as Error).message}`);
      return 'refused';
    } finally {
      t.close();
    }
  }

  async function sendWebhook(raw: Buffer): Promise<'stored' | 'refused'> {
    const res = await fetch(`${svc.url}/webhooks/reply`, {
      method: 'POST', headers: { 'content-type': 'message/rfc822', 'x-mz-signature': signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)) }, body: new Uint8Array(raw),
    });
    if (res.status === 202) return 'stored';
    if (res.status >= 500 || res.status < 400) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    return 'refused';
  }

  /** A row that ended well: a kind, or a named refusal; never a database error, never a retried job. */
  async function expectSettled(ids: string[]): Promise<void> {
    await eventually(
      async () => (await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE id = ANY($1) AND processed_at IS NULL`, [ids]))[0].n === 0,
      'every fuzzed message processed',
      60_000,
      100,
    );
    const rows: { id: string; kind: string | null; error: string | null }[] = await ds.query(`SELECT id, kind, error FROM inbound_message WHERE id = ANY($1)`, [ids]);
    const queue = svc.app.get(QueueService).queue(QueueName.RepliesProcess);
    const problems: string[] = [];
    for (const r of rows) {
      if (!(r.kind && KINDS.has(r.kind)) && !(r.error && NAMED_REFUSAL.test(r.error) && !/database/.test(r.error))) problems.push(`${r.id}: kind ${r.kind}, error ${r.error}`);
      const job = await queue.getJob(r.id);
      const failures = job?.stacktrace ?? [];
      if (failures.length > 0) problems.push(`${r.id}: the job was retried (${failures.length} failed attempts: ${failures[0]?.slice(0, 200)})`);
    }
    expect(problems).toEqual([]);
  }

  it('a reply reading "Done" with a NUL in it (body, subject, HTML part, sender name) is credited as done', async () => {
    const before = stored.length;
    const mime = (extra: string, body: string, subject = 'Re: Seneca on the storm [mz:resilience]', name = 'Sam') => latin1([
      `From: ${name} <${email}>`, `To: reply@${REPLY_DOMAIN}`, `Subject: ${subject}`, `Message-ID: <${randomUUID()}@mail.example.com>`,
      `In-Reply-To: ${letterMessageId}`, `References: ${letterMessageId}`, 'MIME-Version: 1.0', extra, '', body, '',
    ].join('\r\n'));
    const plain = 'Content-Type: text/plain; charset=utf-8';
    expect(await sendSmtp(mime(plain, 'Done\u0000'))).toBe('stored');
    expect(await sendWebhook(mime(plain, 'Do\u0000ne', 'Re: \u0000Seneca on the storm [mz:resilience]', 'S\u0000am'))).toBe('stored');
    expect(await sendSmtp(mime('Content-Type: text/html; charset=utf-8', '<p>Done\u0000</p>'))).toBe('stored');
    const ids = stored.slice(before).map((s) => s.id);
    expect(ids).toHaveLength(3);
    await expectSettled(ids);
    const rows = await ds.query(`SELECT kind, intent, reply_text, subject, error FROM inbound_message WHERE id = ANY($1)`, [ids]);
    for (const r of rows) expect(r).toMatchObject({ kind: 'reply', intent: 'done', error: null });
    expect(rows.map((r: { reply_text: string }) => r.reply_text).join('')).not.toContain('\u0000');
    const progress = await ds.query(`SELECT completed FROM progress WHERE inbound_message_id = ANY($1)`, [ids]);
    expect(progress).toHaveLength(3);
    expect(progress.every((p: { completed: boolean }) => p.completed)).toBe(true);
  });

  it('mutated corpus replies each end processed — a kind or a named refusal — within seconds, none retried', async () => {
    const manifest = loadManifest();
    const before = stored.length;
    const arb = fc.record({
      file: fc.constantFrom(...manifest.map((e) => e.file)),
      mutations: fc.array(mutation(), { minLength: 1, maxLength: 3 }),
      via: fc.constantFrom('smtp' as const, 'webhook' as const),
    });
    await fuzz('inbound mutations', arb, async ({ file, mutations, via }) => {
      const raw = mutations.reduce<Buffer>((r, m) => m(r), withFreshMessageId(loadFixture(file, values())));
      await (via === 'smtp' ? sendSmtp(raw) : sendWebhook(raw));
    }, fuzzParams(MESSAGES, SEND_BUDGET_MS));
    const ids = stored.slice(before).map((s) => s.id);
    expect(ids.length).toBeGreaterThan(0);
    await expectSettled(ids);
  });
});
