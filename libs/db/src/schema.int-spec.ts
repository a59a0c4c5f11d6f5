/**
 * The data model's invariants, checked against a real Postgres: migrations go up and down on a
 * fresh database, seeding is idempotent, and the database itself refuses what must never exist.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { adminUrl, databaseUrlFor, withAdminClient } from '../../../test/support/pg-admin';
import { createDataSource } from './data-source';
import { ensureDatabase, migrateDatabase, revertMigrations } from './migrate';
import { MIGRATIONS } from './migrations';
import { PersonaVoiceSettings1796356698000 } from './migrations/1796356698000-persona-voice-settings';
import { SessionScope1796357852000 } from './migrations/1796357852000-session-scope';
import { seedDatabase } from './seed/seed';

const TABLES = [
  'app_user', 'login_token', 'app_session', 'persona', 'topic', 'prompt_template', 'subscription', 'letter', 'letter_prompt',
  'inbound_message', 'progress', 'suppression', 'event_log', 'email_footer', 'bottom_quote', 'quote_history', 'app_config', 'kpi_daily',
  'tlsrpt_report', 'provider_event', 'llm_batch_item',
];

async function tables(ds: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations'`);
  return rows.map((r) => r.table_name).sort();
}

async function counts(ds: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await ds.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n);
  return out;
}

describe('schema', () => {
  const name = `mz_test_${process.env.MZ_TEST_RUN_ID}_fresh${randomBytes(3).toString('hex')}`;
  const url = databaseUrlFor(name);
  let ds: DataSource;

  beforeAll(async () => {
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await withAdminClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  it('migrates up, reverts cleanly, and migrates up again on a fresh database', async () => {
    expect(await migrateDatabase(url)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await migrateDatabase(url)).toEqual([]);
    ds = createDataSource({ url });
    await ds.initialize();
    expect(await tables(ds)).toEqual([...TABLES].sort());
    await revertMigrations(url, MIGRATIONS.length);
    expect(await tables(ds)).toEqual([]);
    expect(await ds.showMigrations()).toBe(true);
    await migrateDatabase(url);
    expect(await tables(ds)).toEqual([...TABLES].sort());
  });

  it('seeds idempotently: a second run changes no row counts', async () => {
    await seedDatabase(ds, { adminEmails: ['Admin@Example.org'] });
    const first = await counts(ds);
    expect(first.topic).toBeGreaterThanOrEqual(6);
    expect(first.persona).toBeGreaterThanOrEqual(6);
    expect(first.prompt_template).toBe(first.topic);
    expect(first.bottom_quote).toBeGreaterThanOrEqual(50);
    expect(first.email_footer).toBe(1);
    expect(first.app_user).toBe(1);
    await seedDatabase(ds, { adminEmails: ['admin@example.org'] });
    expect(await counts(ds)).toEqual(first);
    const [admin] = await ds.query(`SELECT email, role FROM app_user`);
    expect(admin).toEqual({ email: 'admin@example.org', role: 'admin' });
    const [footer] = await ds.query(`SELECT text_template FROM email_footer WHERE active`);
    expect(footer.text_template).toContain('{{login_link}}');
    expect(footer.text_template).toContain('{{unsubscribe_link}}');
  });

  describe('constraints the database enforces', () => {
    let userId: string;
    let topicId: string;
    let subscriptionId: string;

    beforeAll(async () => {
      [{ id: userId }] = await ds.query(`INSERT INTO app_user (email) VALUES ('sub@example.org') RETURNING id`);
      [{ id: topicId }] = await ds.query(`SELECT id FROM topic WHERE code = 'focus'`);
      [{ id: subscriptionId }] = await ds.query(`INSERT INTO subscription (user_id, topic_id) VALUES ($1, $2) RETURNING id`, [userId, topicId]);
    });

    const letter = (kind: string, localDate: string) =>
      ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, scheduled_for, local_date, message_id) VALUES ($1, $2, $3, $4, $5, now(), $6, $7)`,
        [randomUUID(), subscriptionId, userId, topicId, kind, localDate, `<${randomUUID()}@t>`],
      );

    it('refuses a second subscription for the same (user, topic)', async () => {
      await expect(ds.query(`INSERT INTO subscription (user_id, topic_id) VALUES ($1, $2)`, [userId, topicId])).rejects.toThrow(/subscription_user_topic_key/);
    });

    it('refuses a second scheduled letter for the same local date, but allows send-now letters', async () => {
      await letter('scheduled', '2026-11-21');
      await expect(letter('scheduled', '2026-11-21')).rejects.toThrow(/letter_scheduled_daily_key/);
      await letter('send_now', '2026-11-21');
      await letter('send_now', '2026-11-21');
      await letter('scheduled', '2026-11-22');
    });

    it('treats e-mail addresses case-insensitively and stores them lower-cased', async () => {
      await expect(ds.query(`INSERT INTO app_user (email) VALUES ('SUB@example.org')`)).rejects.toThrow();
      await expect(ds.query(`INSERT INTO app_user (email) VALUES (lower('SUB@Example.org'))`)).rejects.toThrow(/app_user_email_key/);
    });

    it('stores each inbound Message-ID once', async () => {
      const insert = () => ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source) VALUES ('<m1@x>', '\\x00', 1, 'smtp')`);
      await insert();
      await expect(insert()).rejects.toThrow(/inbound_message_message_id_key/);
    });

    it('keeps prompt versions immutable', async () => {
      await expect(ds.query(`UPDATE prompt_template SET user_template = 'changed' WHERE topic_id = $1`, [topicId])).rejects.toThrow(/immutable/);
      await ds.query(`UPDATE prompt_template SET weight = 50 WHERE topic_id = $1`, [topicId]);
    });

    it('rejects malformed send times and topic codes', async () => {
      await expect(ds.query(`UPDATE subscription SET send_time_local = '25:00' WHERE id = $1`, [subscriptionId])).rejects.toThrow();
      await expect(ds.query(`INSERT INTO topic (code, name, description, persona_id) SELECT 'Bad Code', 'x', 'x', id FROM persona LIMIT 1`)).rejects.toThrow();
    });

    it('gives subscriptions English by default and refuses a language that is no tag', async () => {
      const [{ language }] = await ds.query(`SELECT language FROM subscription WHERE id = $1`, [subscriptionId]);
      expect(language).toBe('en');
      await ds.query(`UPDATE subscription SET language = 'de-AT' WHERE id = $1`, [subscriptionId]);
      for (const bad of ['', 'en_US', 'english please', `en-${'x'.repeat(40)}`]) {
        await expect(ds.query(`UPDATE subscription SET language = $2 WHERE id = $1`, [subscriptionId, bad])).rejects.toThrow(/subscription_language_check/);
      }
    });
  });

  it('moves voice settings from topics to their persona, keeping only real overrides', async () => {
    // Back to just before the migration, with topics shaped as they were (settings on the topic).
    const later = MIGRATIONS.length - MIGRATIONS.indexOf(PersonaVoiceSettings1796356698000);
    await revertMigrations(url, later);
    const [{ id: personaId }] = await ds.query(`INSERT INTO persona (name, era, style_notes) VALUES ('Hypatia', 'Alexandria', 'Clear.') RETURNING id`);
    const topic = (code: string, temperature: number, length: string, creativity: number) => ds.query(
      `INSERT INTO topic (code, name, description, persona_id, temperature, response_length, creativity, created_at)
       VALUES ($1, $1, 'x', $2, $3, $4, $5, now() + ($6 || ' seconds')::interval)`, [code, personaId, temperature, length, creativity, code === 'geometry' ? '0' : '1']);
    await topic('geometry', 0.94, 'long', 0.8); // the oldest: its settings become the persona's; 0.94 is what 0.8 maps to
    await topic('astronomy', 1.5, 'long', 0.3); // a different creativity and an explicit temperature stay on the topic
    await migrateDatabase(url);
    expect(await ds.query(`SELECT creativity::float8 AS creativity, response_length, instructions FROM persona WHERE id = $1`, [personaId]))
      .toEqual([{ creativity: 0.8, response_length: 'long', instructions: '' }]);
    expect(await ds.query(`SELECT code, temperature::float8 AS temperature, response_length, creativity::float8 AS creativity, instructions FROM topic WHERE persona_id = $1 ORDER BY code`, [personaId]))
      .toEqual([
        { code: 'astronomy', temperature: 1.5, response_length: null, creativity: 0.3, instructions: null },
        { code: 'geometry', temperature: null, response_length: null, creativity: null, instructions: null },
      ]);
  });

  it("narrows sessions opened by a letter's footer link before scopes existed, and defaults new rows to settings", async () => {
    // Back to just before session scopes, with sessions and LOGIN events as the login wrote them
    // then: one transaction, so the session and its event share now().
    await revertMigrations(url, MIGRATIONS.length - MIGRATIONS.indexOf(SessionScope1796357852000));
    const [{ id: userId }] = await ds.query(`INSERT INTO app_user (email, role) VALUES ('old-admin@example.test', 'admin') RETURNING id`);
    const login = async (via: string, at: string) => {
      await ds.query(`INSERT INTO app_session (user_id, token_hash, expires_at, created_at) VALUES ($1, $2, now() + interval '30 days', $3)`, [userId, randomUUID(), at]);
      await ds.query(`INSERT INTO event_log (type, actor, user_id, metadata, created_at) VALUES ('LOGIN', $1, $2, $3::jsonb, $4)`, [userId, userId, JSON.stringify({ via }), at]);
    };
    await login('footer_login', '2026-11-01T10:00:00.123456Z');
    await login('login', '2026-11-02T10:00:00.654321Z');
    // a session with no LOGIN event at its instant (a footer login a moment earlier does not count)
    await ds.query(`INSERT INTO app_session (user_id, token_hash, expires_at, created_at) VALUES ($1, $2, now() + interval '30 days', '2026-11-01T10:00:00.123457Z')`, [userId, randomUUID()]);
    await migrateDatabase(url);
    expect(await ds.query(`SELECT created_at, scope FROM app_session WHERE user_id = $1 ORDER BY created_at`, [userId])).toEqual([
      { created_at: new Date('2026-11-01T10:00:00.123Z'), scope: 'settings' },
      { created_at: new Date('2026-11-01T10:00:00.123Z'), scope: 'full' },
      { created_at: new Date('2026-11-02T10:00:00.654Z'), scope: 'full' },
    ]);
    await ds.query(`INSERT INTO app_session (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 day')`, [userId, randomUUID()]);
    expect(await ds.query(`SELECT scope FROM app_session WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, [userId])).toEqual([{ scope: 'settings' }]);
  });
});
