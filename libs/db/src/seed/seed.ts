import type { DataSource } from 'typeorm';
import { APP_CONFIG_DEFAULTS, FOOTER, PERSONAS, PROMPT_V1, QUOTES, TOPICS } from './seed-data';

export interface SeedOptions { adminEmails?: string[] }

/**
 * Idempotent: every insert is keyed on a natural unique column and skips existing rows, so a
 * second run changes nothing (an admin's edits to topics, prompts or config are never overwritten).
 */
export async function seedDatabase(ds: DataSource, opts: SeedOptions = {}): Promise<void> {
  await ds.transaction(async (m) => {
    for (const p of PERSONAS) {
      await m.query(
        `INSERT INTO persona (name, era, style_notes, creativity, response_length) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
        [p.name, p.era, p.styleNotes, p.creativity, p.responseLength],
      );
    }
    for (const t of TOPICS) {
      await m.query(
        `INSERT INTO topic (code, name, description, persona_id)
         SELECT $1, $2, $3, id FROM persona WHERE name = $4
         ON CONFLICT (code) DO NOTHING`,
        [t.code, t.name, t.description, t.persona],
      );
      await m.query(
        `INSERT INTO prompt_template (topic_id, version, system_template, user_template, change_note, active, weight)
         SELECT id, 1, $2, $3, 'Initial version', true, 100 FROM topic WHERE code = $1
         ON CONFLICT (topic_id, version) DO NOTHING`,
        [t.code, PROMPT_V1.system, PROMPT_V1.user],
      );
    }
    await m.query(
      `INSERT INTO email_footer (text_template, html_template, active)
       SELECT $1, $2, true WHERE NOT EXISTS (SELECT 1 FROM email_footer)`,
      [FOOTER.text, FOOTER.html],
    );
    for (const q of QUOTES) {
      await m.query(`INSERT INTO bottom_quote (text, author) VALUES ($1, $2) ON CONFLICT (text) DO NOTHING`, [q.text, q.author]);
    }
    for (const c of APP_CONFIG_DEFAULTS) {
      await m.query(`INSERT INTO app_config (key, value, description) VALUES ($1, $2::jsonb, $3) ON CONFLICT (key) DO NOTHING`, [c.key, JSON.stringify(c.value), c.description]);
    }
    for (const email of opts.adminEmails ?? []) {
      await m.query(
        `INSERT INTO app_user (email, role) VALUES (lower($1), 'admin')
         ON CONFLICT ((lower(email))) DO UPDATE SET role = 'admin' WHERE app_user.role <> 'admin'`,
        [email],
      );
    }
  });
}
