/**
 * Every fixture of the reply corpus through the real path — InboundStore (as the receivers call
 * it) → BullMQ `replies.process` → the worker — against Postgres seeded with one subscriber, one
 * sent letter and one already-composed next letter per fixture (so effects cannot interfere),
 * with "now" pinned to the corpus date. Asserts the manifest's kind, intent, extracted text and
 * the effect in the database. The LLM is the FakeLlmServer: only the replies the rules cannot
 * settle may reach it.
 */
import { randomUUID } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { signedAddress } from '@mz/domain';
import { type RunningService, startService } from '@mz/platform';
import { FakeDnsZone } from '../../../test/fakes/fake-dns-zone';
import { FakeLlmServer } from '../../../test/fakes/fake-llm-server';
import { type FixtureEntry, loadContext, loadFixture, loadManifest, substitute } from '../../../test/e2e/inbound-support/reply-fixtures';
import { eventually } from '../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { inboundService } from './inbound.definition';
import { pauseEndsAt } from './process/process-reply.service';
import { InboundStore } from './receive/inbound-store.service';
import { DATA_CLOSE, DATA_OPEN } from './process/reply-prompt';

jest.setTimeout(120_000);

const manifest = loadManifest();
const context = loadContext();
const REPLY_DOMAIN = context.substitutions['{{REPLY_DOMAIN}}'];
const TOPIC = context.substitutions['{{TOPIC_CODE}}'];
const today = Temporal.Instant.from(context.now).toZonedDateTimeISO(context.timezone).toPlainDate();
const MAIL_ADDRESS_SECRET = 'reply-corpus-mail-address-secret-0123456789';
const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+/g;

/** What a sending MTA would give as RCPT TO: the To header's addresses. */
function envelopeTo(raw: Buffer): string[] {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  return (/^To:(.*)$/im.exec(head)?.[1].match(EMAIL) ?? []).map((a) => a.toLowerCase());
}

interface Seeded {
  entry: FixtureEntry;
  values: Record<string, string>;
  userId: string;
  email: string;
  subscriptionId: string;
  letterId: string;
  nextLetterId: string;
  inboundId: string;
}

describe('reply corpus: store → worker → database effect', () => {
  let env: TestEnv;
  let ds: DataSource;
  let llm: FakeLlmServer;
  let svc: RunningService;
  let topicId: string;
  const seeded = new Map<string, Seeded>();

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    [{ id: topicId }] = await ds.query(`SELECT id FROM topic WHERE code = $1`, [TOPIC]);
    // The forged tag's sender is a real user too — subscribed to another topic, not this one.
    const [mallory] = await ds.query(`INSERT INTO app_user (email) VALUES ('mallory@example.net') RETURNING id`);
    await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) SELECT $1, id, 'UTC' FROM topic WHERE code = 'focus'`, [mallory.id]);

    llm = await FakeLlmServer.start();
    // No domain in the corpus publishes anything: every SPF/DKIM/DMARC lookup is answered by this
    // empty zone (none/neutral), so authentication contradicts nobody and nothing goes online.
    const zone = new FakeDnsZone();
    svc = await startService(inboundService({ clock: { now: () => new Date(context.now) }, resolver: zone.resolver }), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, LLM_BASE_URL: llm.url, LLM_MAX_RETRIES: '0', INBOUND_CONCURRENCY: '4', MAIL_ADDRESS_SECRET,
    });
    const store = svc.app.get(InboundStore);

    for (const [i, entry] of manifest.entries()) {
      const email = `sam.rivera+${i}@example.com`;
      const letterId = randomUUID();
      const nextLetterId = randomUUID();
      const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Sam Rivera') RETURNING id`, [email]);
      const subscriptionId = randomUUID();
      const values = {
        ...context.substitutions, '{{SUBSCRIBER}}': email, '{{LETTER_MESSAGE_ID}}': `<mz.${letterId}@${REPLY_DOMAIN}>`,
        '{{REPLY_ADDRESS}}': signedAddress('reply', letterId, REPLY_DOMAIN, MAIL_ADDRESS_SECRET),
        '{{BOUNCE_ADDRESS}}': signedAddress('bounce_letter', letterId, REPLY_DOMAIN, MAIL_ADDRESS_SECRET),
        '{{UNSUBSCRIBE_ADDRESS}}': signedAddress('unsubscribe', subscriptionId, REPLY_DOMAIN, MAIL_ADDRESS_SECRET),
      };
      const [sub] = await ds.query(
        `INSERT INTO subscription (id, user_id, topic_id, timezone, send_time_local, next_run_at, last_scheduled_local_date)
         VALUES ($4, $1, $2, $3, '07:30', '2026-11-28T06:30:00Z', '2026-11-27') RETURNING id`,
        [user.id, topicId, context.timezone, subscriptionId],
      );
      await ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at, composed_at)
         VALUES ($1, $2, $3, $4, 'sent', '2026-11-26T06:30:00Z', '2026-11-26', 'Seneca on the storm that never came [mz:resilience]', 'Dear Sam, ...', $5, '2026-11-26T06:30:02Z', now()),
                ($6, $2, $3, $4, 'composed', '2026-11-27T06:30:00Z', '2026-11-27', 'The next letter [mz:resilience]', 'Dear Sam, tomorrow ...', $7, NULL, now())`,
        [letterId, sub.id, user.id, topicId, values['{{LETTER_MESSAGE_ID}}'], nextLetterId, `<mz.${nextLetterId}@${REPLY_DOMAIN}>`],
      );
      const raw = loadFixture(entry.file, values);
      const stored = await store.store({ raw, source: 'smtp', envelopeFrom: email, envelopeTo: envelopeTo(raw), remoteAddress: '192.0.2.25', helo: 'mail.example.com' });
      expect(stored.duplicate).toBe(false);
      seeded.set(entry.file, { entry, values, userId: user.id, email, subscriptionId: sub.id, letterId, nextLetterId, inboundId: stored.id });
    }
    await eventually(
      async () => (await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE processed_at IS NULL`))[0].n === 0,
      'every fixture processed',
      90_000,
      200,
    );
  });

  afterAll(async () => {
    await svc?.close();
    await llm?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  it('sends only the replies the rules cannot settle to the LLM, each as data inside the tags', () => {
    const unclear = manifest.filter((e) => e.expected.needs_llm);
    expect(unclear.length).toBeGreaterThan(0);
    expect(llm.requests).toHaveLength(unclear.length);
    for (const req of llm.requests) {
      expect(req.body.response_format.json_schema.name).toBe('reply_analysis');
      const user = req.body.messages.find((m: { role: string }) => m.role === 'user').content as string;
      expect(user.startsWith(`${DATA_OPEN}\n`) && user.endsWith(`\n${DATA_CLOSE}`)).toBe(true);
    }
  });

  it.each(manifest.map((e) => [e.file, e] as const))('%s', async (file, entry) => {
    const s = seeded.get(file)!;
    const e = entry.expected;
    const [row] = await ds.query(`SELECT * FROM inbound_message WHERE id = $1`, [s.inboundId]);
    const [sub] = await ds.query(`SELECT enabled, paused_until, next_run_at FROM subscription WHERE id = $1`, [s.subscriptionId]);
    const progress = await ds.query(`SELECT * FROM progress WHERE subscription_id = $1`, [s.subscriptionId]);
    const [next] = await ds.query(`SELECT status FROM letter WHERE id = $1`, [s.nextLetterId]);
    const suppressions = await ds.query(`SELECT reason FROM suppression WHERE address = $1`, [s.email]);
    const events: string[] = (await ds.query(`SELECT type FROM event_log WHERE user_id = $1 ORDER BY id`, [s.userId])).map((r: { type: string }) => r.type);

    expect(row.error).toBeNull();
    expect(row.processed_at).not.toBeNull();
    const unmatched = (e.kind === 'reply' && e.matched === 'none') || e.effect === 'unmatched_report';
    expect(row.kind).toBe(unmatched ? 'unmatched' : e.kind);
    // Every message was authenticated on the SMTP path; the empty zone says nothing passed.
    expect(row.analysis.authentication).toMatchObject({ path: 'smtp', dmarc: { result: expect.not.stringMatching(/^pass$/) } });

    if (e.kind === 'reply') {
      // The stored message is the full text (own words, then a signature or a forward); the
      // extracted words the manifest speaks of are its start, up to the recorded ownEnd.
      const message: string = row.reply_text ?? '';
      const text = message.slice(0, row.analysis.extraction?.ownEnd ?? 0);
      const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
      for (const needle of e.extracted_contains) expect(squash(text)).toContain(squash(substitute(needle, s.values)));
      for (const needle of e.extracted_excludes) expect(text.toLowerCase()).not.toContain(substitute(needle, s.values).toLowerCase());
      // Our footer is never kept, not even in the message.
      for (const needle of ['Unsubscribe from', '{{UNSUB_LINK}}']) expect(message.toLowerCase()).not.toContain(substitute(needle, s.values).toLowerCase());
      if (unmatched) {
        expect(row.intent).toBeNull();
        expect(row.matched_user_id).toBeNull();
        expect(row.analysis.rule?.intent ?? null).toBe(e.intent);
      } else if (e.effect === 'untrusted') {
        // Stored and shown for review with the rules' reading; no intent acted on.
        expect(row.intent).toBeNull();
        expect(row.analysis.rule?.intent ?? null).toBe(e.intent);
        expect(row.analysis.reviewReason).toBe('untrusted:topic_tag_only');
      } else if (e.matched === 'unsubscribe_address') {
        expect(row.intent).toBe('unsubscribe');
      } else {
        expect(row.intent).toBe(e.effect === 'review' ? 'note' : e.intent);
      }
    }
    if (e.kind === 'reply' || e.kind === 'auto_reply') {
      if (e.matched === 'letter' || e.matched === 'reply_address') expect([row.matched_user_id, row.matched_letter_id, row.matched_topic_id]).toEqual([s.userId, s.letterId, topicId]);
      if (e.matched === 'unsubscribe_address') expect([row.matched_user_id, row.matched_letter_id, row.matched_topic_id]).toEqual([s.userId, null, topicId]);
      // A tag is a claim: a reply keeps it as the candidate for review; an auto-reply matches nothing.
      if (e.matched === 'topic') expect([row.matched_user_id, row.matched_letter_id, row.matched_topic_id]).toEqual(e.kind === 'reply' ? [s.userId, null, topicId] : [null, null, null]);
    }
    if (e.kind === 'bounce' || e.kind === 'complaint') {
      expect(row.matched_user_id).toBe(unmatched ? null : s.userId);
      // DSNs come home to the bounce address; these feedback reports were sent to fbl@ and are identified by the attached original.
      if (!unmatched) expect(row.analysis.matchedBy).toBe(e.kind === 'bounce' ? 'bounce_address' : 'embedded_original');
    }
    if (e.kind === 'auto_reply') expect(row.intent).toBeNull();

    const untouched = () => {
      expect(sub.enabled).toBe(true);
      expect(sub.paused_until).toBeNull();
      expect(next.status).toBe('composed');
    };
    expect(row.needs_review).toBe(e.effect === 'review' || e.effect === 'untrusted');
    switch (e.effect) {
      case 'progress_done':
        expect(progress).toHaveLength(1);
        expect(progress[0]).toMatchObject({ completed: true, inbound_message_id: s.inboundId, letter_id: e.matched === 'letter' || e.matched === 'reply_address' ? s.letterId : null, streak_at_time: 1 });
        untouched();
        break;
      case 'progress_note':
      case 'review':
        expect(progress).toHaveLength(1);
        expect(progress[0]).toMatchObject({ completed: false, inbound_message_id: s.inboundId, streak_at_time: 0 });
        expect(progress[0].note).toBeTruthy();
        untouched();
        break;
      case 'unsubscribe':
        expect(progress).toHaveLength(0);
        expect(sub.enabled).toBe(false);
        expect(sub.next_run_at).toBeNull();
        expect(next.status).toBe('cancelled');
        expect(events).toEqual(expect.arrayContaining(['UNSUBSCRIBE', 'LETTER_CANCELLED', 'REPLY_PROCESSED']));
        break;
      case 'pause': {
        const until = pauseEndsAt(today.add({ days: e.pause_days! }).toString(), context.timezone);
        expect(progress).toHaveLength(0);
        expect(sub.enabled).toBe(true);
        expect(sub.paused_until.toISOString()).toBe(until.toISOString());
        expect(sub.next_run_at.getTime()).toBeGreaterThanOrEqual(until.getTime());
        expect(next.status).toBe('cancelled');
        expect(events).toEqual(expect.arrayContaining(['PAUSE', 'LETTER_CANCELLED', 'REPLY_PROCESSED']));
        break;
      }
      case 'suppress':
        expect(suppressions).toEqual([{ reason: 'hard_bounce' }]);
        expect(events).toContain('SUPPRESSED');
        untouched();
        break;
      case 'suppress_and_disable':
        expect(suppressions).toEqual([{ reason: 'complaint' }]);
        expect(sub.enabled).toBe(false);
        expect(next.status).toBe('cancelled');
        expect(events).toEqual(expect.arrayContaining(['SUPPRESSED', 'UNSUBSCRIBE']));
        break;
      case 'untrusted':
      case 'unmatched_report':
      case 'none':
        expect(progress).toHaveLength(0);
        expect(suppressions).toHaveLength(0);
        untouched();
        break;
    }
    if (e.effect !== 'suppress' && e.effect !== 'suppress_and_disable') expect(suppressions).toHaveLength(0);
  });

  it('leaves the forged tag’s sender and everyone else alone', async () => {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM subscription s JOIN app_user u ON u.id = s.user_id WHERE u.email = 'mallory@example.net' AND s.enabled`);
    expect(n).toBe(1);
    const forged = seeded.get('forged-tag-other-user.eml')!;
    const [row] = await ds.query(`SELECT analysis FROM inbound_message WHERE id = $1`, [forged.inboundId]);
    expect(row.analysis.unmatched).toBe('no_subscription_for_sender');
    const spoofed = seeded.get('spoofed-from-display-name.eml')!;
    const [srow] = await ds.query(`SELECT analysis FROM inbound_message WHERE id = $1`, [spoofed.inboundId]);
    expect(srow.analysis.unmatched).toBe('sender_not_recipient');
    const other = seeded.get('trust-reply-to-others-letter.eml')!;
    const [orow] = await ds.query(`SELECT analysis FROM inbound_message WHERE id = $1`, [other.inboundId]);
    expect(orow.analysis.unmatched).toBe('sender_not_recipient');
  });

  it('suppresses exactly the recipients of the reports that identify our letters, and no one a report merely names', async () => {
    const expected = manifest.filter((e) => e.expected.effect === 'suppress' || e.expected.effect === 'suppress_and_disable').map((e) => seeded.get(e.file)!.email).sort();
    const all = (await ds.query(`SELECT address FROM suppression ORDER BY address`)).map((r: { address: string }) => r.address);
    expect(all).toEqual(expected);
    expect(all.some((a: string) => a.startsWith('victim'))).toBe(false);
    // The forged DSN and ARF named their subscribers, and those subscribers are not suppressed.
    for (const file of ['trust-dsn-forged-no-bounce-address.eml', 'trust-arf-forged-not-ours.eml']) {
      const s = seeded.get(file)!;
      const [row] = await ds.query(`SELECT kind, analysis FROM inbound_message WHERE id = $1`, [s.inboundId]);
      expect({ file, kind: row.kind, suppressed: all.includes(s.email) }).toEqual({ file, kind: 'unmatched', suppressed: false });
    }
  });

  it('passes the matched letter to the extractor: our text pasted without any header is not the note', async () => {
    // Issue 12: only the worker knows the letter; the general rules alone keep this pasted text.
    const email = 'pasting.pat@example.com';
    const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Pat') RETURNING id`, [email]);
    const [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) VALUES ($1, $2, 'UTC') RETURNING id`, [user.id, topicId]);
    const letterId = randomUUID();
    const practice = 'Today, write down the worst case of the thing you fear and what you would do if it really happened.';
    const seneca = 'Seneca wrote to Lucilius that we suffer more often in imagination than in reality; try it before lunch.';
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at, composed_at)
       VALUES ($1, $2, $3, $4, 'sent', '2026-11-26T06:30:00Z', '2026-11-26', 'Worst case', $5, $6, '2026-11-26T06:30:02Z', now())`,
      [letterId, sub.id, user.id, topicId, `Dear Pat,\n\n${practice}\n\n${seneca}\n\nYour mentor`, `<mz.${letterId}@${REPLY_DOMAIN}>`],
    );
    const to = signedAddress('reply', letterId, REPLY_DOMAIN, MAIL_ADDRESS_SECRET);
    const body = [practice.slice(0, 60), practice.slice(60), '', 'I picked public speaking.', '', seneca, '', 'Ten minutes was enough; my shoulders relaxed.', ''].join('\r\n');
    const raw = Buffer.from(
      [`From: Pat <${email}>`, `To: ${to}`, 'Subject: Re: Worst case', `Message-ID: <${randomUUID()}@example.com>`, `In-Reply-To: <mz.${letterId}@${REPLY_DOMAIN}>`,
        'Date: Thu, 26 Nov 2026 12:00:00 +0000', 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n'),
    );
    const store = svc.app.get(InboundStore);
    const { id } = await store.store({ raw, source: 'smtp', envelopeFrom: email, envelopeTo: [to.toLowerCase()], remoteAddress: '192.0.2.25', helo: 'mail.example.com' });
    const row = await eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE id = $1 AND processed_at IS NOT NULL`, [id]))[0], 'processed', 30_000, 100);
    expect(row.reply_text).toBe('I picked public speaking.\n\nTen minutes was enough; my shoulders relaxed.');
    expect(row.analysis.extraction).toMatchObject({ letterFound: true });
  });

  it('keeps a forwarded newsletter apart: its "Unsubscribe here." footer is not a request, only the note above it is read and kept', async () => {
    // Issue 12: forwards are kept in the message shown, never in what decides or feeds the letters.
    const email = 'forwarding.fran@example.com';
    const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Fran') RETURNING id`, [email]);
    const [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) VALUES ($1, $2, 'UTC') RETURNING id`, [user.id, topicId]);
    const letterId = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at, composed_at)
       VALUES ($1, $2, $3, $4, 'sent', '2026-11-26T06:30:00Z', '2026-11-26', 'Worst case', 'Dear Fran, write down the worst case today.', $5, '2026-11-26T06:30:02Z', now())`,
      [letterId, sub.id, user.id, topicId, `<mz.${letterId}@${REPLY_DOMAIN}>`],
    );
    const to = signedAddress('reply', letterId, REPLY_DOMAIN, MAIL_ADDRESS_SECRET);
    const note = 'FYI, this is the running newsletter I mentioned.';
    const body = [note, '', '---------- Forwarded message ---------', 'From: Daily Running <news@running.example>', 'Date: Thu, Dec 3, 2026 at 9:00 AM',
      'Subject: Winter running', '', 'Ten ways to run faster this winter.', '', 'Want to stop receiving these emails? Unsubscribe here.', ''].join('\r\n');
    const raw = Buffer.from(
      [`From: Fran <${email}>`, `To: ${to}`, 'Subject: Fwd: Winter running', `Message-ID: <${randomUUID()}@example.com>`, `In-Reply-To: <mz.${letterId}@${REPLY_DOMAIN}>`,
        'Date: Thu, 26 Nov 2026 12:00:00 +0000', 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n'),
    );
    const store = svc.app.get(InboundStore);
    const { id } = await store.store({ raw, source: 'smtp', envelopeFrom: email, envelopeTo: [to.toLowerCase()], remoteAddress: '192.0.2.25', helo: 'mail.example.com' });
    const row = await eventually(async () => (await ds.query(`SELECT * FROM inbound_message WHERE id = $1 AND processed_at IS NOT NULL`, [id]))[0], 'processed', 30_000, 100);
    expect(row.intent).not.toBe('unsubscribe');
    const [s] = await ds.query(`SELECT enabled FROM subscription WHERE id = $1`, [sub.id]);
    expect(s.enabled).toBe(true);
    const progress = await ds.query(`SELECT note FROM progress WHERE subscription_id = $1`, [sub.id]);
    expect(progress.map((p: { note: string | null }) => p.note)).toEqual([note]);
    // Shown in full, the forward marked where it starts.
    const at = row.analysis.extraction.forwardedAt as number;
    expect(row.reply_text.slice(0, at).trim()).toBe(note);
    expect(row.reply_text.slice(at)).toMatch(/^---------- Forwarded message ---------\nFrom: Daily Running[\s\S]*Unsubscribe here\.$/);
    expect(row.analysis.rule?.intent ?? null).not.toBe('unsubscribe');
  });

  it('re-processing a message changes nothing', async () => {
    const s = seeded.get('gmail-done-short.eml')!;
    const { ProcessReplyService } = await import('./process/process-reply.service');
    expect(await svc.app.get(ProcessReplyService).process(s.inboundId)).toEqual({ outcome: 'already_processed' });
    expect(await ds.query(`SELECT id FROM progress WHERE subscription_id = $1`, [s.subscriptionId])).toHaveLength(1);
  });
});
