import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Letters in the reader's language (docs/architecture.md §3.3): `subscription.language` is the
 * canonical BCP 47 tag the subscriber chose ('en' for every existing row, the API validates and
 * canonicalises new ones); `letter.language` is the language a letter was actually written in —
 * the subscription's when the LLM wrote it, 'en' when the offline composer did (it writes English
 * only). The mailer fills the footer for `letter.language`. NULL on letters composed before this
 * migration (read as English). The CHECK is a backstop for the API's validation, not the rule.
 */
export class SubscriptionLanguage1796431800000 implements MigrationInterface {
  name = 'SubscriptionLanguage1796431800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscription ADD COLUMN language text NOT NULL DEFAULT 'en'
                     CONSTRAINT subscription_language_check CHECK (language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(language) <= 35)`);
    await q.query(`ALTER TABLE letter ADD COLUMN language text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter DROP COLUMN IF EXISTS language`);
    await q.query(`ALTER TABLE subscription DROP COLUMN IF EXISTS language`);
  }
}
