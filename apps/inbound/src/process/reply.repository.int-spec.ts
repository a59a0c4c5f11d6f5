/**
 * ReplyRepository.letterBody against Postgres: the letter a reply answers comes back with what the
 * mailer added when it sent it — the closing quote and the footer of the letter's language (the
 * built-in translation for de/fr/es, else the active English footer; docs/architecture.md §3.4) —
 * so the extractor recognises our footer in a German reply and never reads its "abbestellen".
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TRANSLATED_FOOTERS } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { ReplyRepository } from './reply.repository';

jest.setTimeout(60_000);

describe('ReplyRepository.letterBody', () => {
  let env: TestEnv;
  let ds: DataSource;
  let repo: ReplyRepository;
  let sub: { id: string; user_id: string; topic_id: string };

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 2 });
    await ds.initialize();
    await seedDatabase(ds);
    repo = new ReplyRepository(ds);
    const [user] = await ds.query(`INSERT INTO app_user (email) VALUES ('body@example.com') RETURNING id`);
    [sub] = await ds.query(`INSERT INTO subscription (user_id, topic_id, language) SELECT $1, id, 'de' FROM topic WHERE code = 'resilience' RETURNING id, user_id, topic_id`, [user.id]);
  });

  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  let day = 0;
  async function letter(language: string | null): Promise<string> {
    const id = randomUUID();
    day++;
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, body_text, language)
       VALUES ($1, $2, $3, $4, 'scheduled', 'sent', now(), $5, $6, 'Liebe Bea, heute.', $7)`,
      [id, sub.id, sub.user_id, sub.topic_id, `2030-02-${String(day).padStart(2, '0')}`, `<mz.${id}@reply.test>`, language],
    );
    return id;
  }

  it("carries the footer of the letter's language: German for a German letter, the active English one otherwise", async () => {
    const [{ text_template: english }] = await ds.query(`SELECT text_template FROM email_footer WHERE active`);
    expect((await repo.letterBody(await letter('de-AT')))?.extra).toEqual([TRANSLATED_FOOTERS.de.text]);
    expect((await repo.letterBody(await letter('it')))?.extra).toEqual([english]);
    // Composed before languages existed: English.
    expect((await repo.letterBody(await letter(null)))?.extra).toEqual([english]);
  });
});
