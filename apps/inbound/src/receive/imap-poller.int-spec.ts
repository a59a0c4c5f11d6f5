/**
 * The IMAP poller against a real IMAP server: the test's own Dovecot (dovecot-imapd), started
 * with a generated config in a temp dir and stopped at the end. Messages are APPENDed as a mail
 * server would deliver them; the inbound service polls, stores, and only then flags \Seen (or
 * moves to a Processed folder) — never fetching a message twice, across restarts of either side.
 */
import { FakeDnsZone } from '../../../../test/fakes/fake-dns-zone';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { DovecotTestServer } from '../../../../test/e2e/inbound-support/dovecot-test-server';
import { eventually } from '../../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { inboundService } from '../inbound.definition';
import { ImapPoller } from './imap-poller.service';

jest.setTimeout(90_000);

const REPLY_DOMAIN = 'reply.mentor.test';

describe('IMAP poller against Dovecot', () => {
  let env: TestEnv;
  let ds: DataSource;
  let dovecot: DovecotTestServer;
  let svc: RunningService | null = null;
  let email: string;
  let letterMessageId: string;

  const start = async (url: string, pollMs = 500) => {
    svc = await startService(inboundService({ resolver: new FakeDnsZone().resolver }), { ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, INBOUND_IMAP_URL: url, INBOUND_IMAP_POLL_MS: String(pollMs) });
    return svc;
  };
  const stop = async () => {
    await svc?.close();
    svc = null;
  };

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    dovecot = await DovecotTestServer.start();
    email = 'imap.sam@example.com';
    const [user] = await ds.query(`INSERT INTO app_user (email) VALUES ($1) RETURNING id`, [email]);
    const [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id, timezone) SELECT $1, id, 'UTC' FROM topic WHERE code = 'focus' RETURNING id`, [user.id]);
    const letterId = randomUUID();
    letterMessageId = `<mz.${letterId}@${REPLY_DOMAIN}>`;
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, subject, body_text, message_id, sent_at)
       SELECT $1, s.id, s.user_id, s.topic_id, 'sent', now(), current_date, 'Focus [mz:focus]', 'Dear Sam', $2, now() FROM subscription s WHERE s.id = $3`,
      [letterId, letterMessageId, sub.id],
    );
  });

  afterAll(async () => {
    await stop();
    await dovecot?.dispose();
    await ds?.destroy();
    await env?.dispose();
  });

  const reply = (text: string, messageId = `<${randomUUID()}@mail.example.com>`) => ({
    messageId,
    raw: Buffer.from(
      [`From: Sam <${email}>`, `To: reply@${REPLY_DOMAIN}`, 'Subject: Re: Focus [mz:focus]', `Date: ${new Date().toUTCString()}`, `Message-ID: ${messageId}`,
        `In-Reply-To: ${letterMessageId}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'),
    ),
  });
  const rows = (messageId: string) => ds.query(`SELECT * FROM inbound_message WHERE message_id = $1`, [messageId]);
  const processedRow = (messageId: string) =>
    eventually(async () => (await rows(messageId)).find((r: { processed_at: Date | null }) => r.processed_at), `${messageId} stored and processed`, 20_000, 50);

  it('stores new mail, flags it \\Seen only after storing, and never fetches it again', async () => {
    const seenBefore = reply('read by a human already');
    await dovecot.append(seenBefore.raw, ['\\Seen']);
    const first = reply('Done');
    await dovecot.append(first.raw);
    await start(dovecot.url);
    const row = await processedRow(first.messageId);
    expect(row).toMatchObject({ source: 'imap', kind: 'reply', intent: 'done', raw_truncated: false });
    expect(await ds.query(`SELECT id FROM progress WHERE inbound_message_id = $1`, [row.id])).toHaveLength(1);
    const inbox = await eventually(async () => {
      const all = await dovecot.messages();
      return all.find((m) => m.messageId === first.messageId)?.flags.includes('\\Seen') ? all : null;
    }, 'flagged \\Seen', 10_000);
    expect(inbox).toHaveLength(2); // left in INBOX without ?processed=
    expect(await rows(seenBefore.messageId)).toHaveLength(0); // an already-read message is not ours to take

    // Several more polls: nothing fetched twice.
    const poller = svc!.app.get(ImapPoller);
    expect(await poller.pollOnce()).toEqual({ stored: 0, duplicates: 0, failed: 0 });
    expect(await rows(first.messageId)).toHaveLength(1);
  });

  it('leaves a message unseen while it cannot be stored, and takes it once it can', async () => {
    const blocked = reply('Done', `<blocked-${randomUUID()}@mail.example.com>`);
    const other = reply('Another one that goes through.');
    // The database refuses this one message (as it would refuse everything while down).
    await ds.query(`
      CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message_id LIKE '<blocked-%' THEN RAISE EXCEPTION 'test: storage unavailable'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_insert BEFORE INSERT ON inbound_message FOR EACH ROW EXECUTE FUNCTION test_refuse_insert();`);
    try {
      await dovecot.append(blocked.raw);
      await dovecot.append(other.raw);
      await processedRow(other.messageId);
      const poller = svc!.app.get(ImapPoller);
      expect(await poller.pollOnce()).toEqual({ stored: 0, duplicates: 0, failed: 1 });
      expect((await dovecot.messages()).find((m) => m.messageId === blocked.messageId)?.flags).not.toContain('\\Seen');
      expect(await rows(blocked.messageId)).toHaveLength(0);
    } finally {
      await ds.query(`DROP TRIGGER test_refuse_insert ON inbound_message; DROP FUNCTION test_refuse_insert();`);
    }
    await processedRow(blocked.messageId);
    await eventually(async () => (await dovecot.messages()).find((m) => m.messageId === blocked.messageId)?.flags.includes('\\Seen'), 'flagged once stored', 10_000);
  });

  it('a re-delivered copy (same Message-ID, unseen again) is fetched, deduplicated, and has no second effect', async () => {
    const again = reply('Done', `<${randomUUID()}@mail.example.com>`);
    await dovecot.append(again.raw);
    const row = await processedRow(again.messageId);
    await dovecot.append(again.raw); // the server hands us the same message again
    await eventually(async () => {
      const copies = (await dovecot.messages()).filter((m) => m.messageId === again.messageId);
      return copies.length === 2 && copies.every((m) => m.flags.includes('\\Seen'));
    }, 'both copies flagged', 10_000);
    expect(await rows(again.messageId)).toHaveLength(1);
    expect(await ds.query(`SELECT id FROM progress WHERE inbound_message_id = $1`, [row.id])).toHaveLength(1);
  });

  it('survives a Dovecot restart and a service restart', async () => {
    await dovecot.stop();
    await new Promise((r) => setTimeout(r, 1_000)); // a few polls fail meanwhile
    await expect(svc!.app.get(ImapPoller).pollOnce()).rejects.toThrow();
    await dovecot.restart();
    const afterRestart = reply('It was a good walk despite the rain.');
    await dovecot.append(afterRestart.raw);
    expect(await processedRow(afterRestart.messageId)).toMatchObject({ intent: 'note', source: 'imap' });

    const before = (await ds.query(`SELECT count(*)::int AS n FROM inbound_message`))[0].n;
    await stop();
    await start(dovecot.url);
    expect(await svc!.app.get(ImapPoller).pollOnce()).toEqual({ stored: 0, duplicates: 0, failed: 0 });
    expect((await ds.query(`SELECT count(*)::int AS n FROM inbound_message`))[0].n).toBe(before);
  });

  it('with ?processed= moves stored messages out of the polled mailbox', async () => {
    await stop();
    await start(`${dovecot.url}?processed=Processed`);
    const moved = reply('Done');
    await dovecot.append(moved.raw);
    await processedRow(moved.messageId);
    const inProcessed = await eventually(async () => (await dovecot.messages('Processed')).find((m) => m.messageId === moved.messageId), 'moved to Processed', 10_000);
    expect(inProcessed.flags).toContain('\\Seen');
    expect((await dovecot.messages('INBOX')).some((m) => m.messageId === moved.messageId)).toBe(false);
  });

  it('records an oversized message truncated instead of fetching it forever', async () => {
    await stop();
    svc = await startService(inboundService({ resolver: new FakeDnsZone().resolver }), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, INBOUND_IMAP_URL: dovecot.url, INBOUND_IMAP_POLL_MS: '500', INBOUND_SMTP_MAX_BYTES: '4096',
    });
    const big = reply(`Long story.\r\n${'word '.repeat(2000)}`);
    await dovecot.append(big.raw);
    const row = await processedRow(big.messageId);
    expect(row).toMatchObject({ raw_truncated: true, kind: null });
    expect(row.raw_size).toBeGreaterThan(4096);
    expect(row.raw.length).toBe(4096);
    expect(row.error).toMatch(/^too_large: /);
  });
});
