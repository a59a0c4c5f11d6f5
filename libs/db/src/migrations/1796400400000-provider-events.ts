import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Native mail-provider webhooks (Mailgun, SendGrid, Postmark, SES):
 * - `provider_event`: each verified bounce/complaint/delivery event, stored before it is worked on
 *   (the request is answered once the row exists) and unique per provider event id, so a provider's
 *   retry of the same event changes nothing. `letter_id`/`login_token_id` are what the mailer
 *   stamped for the provider; `outcome` is what the worker did with it.
 * - `letter.delivered_at`/`delivered_by`: the first delivery event for a letter, and which provider said so.
 * - `inbound_message.source` gains the providers' inbound webhooks.
 */
export class ProviderEvents1796400400000 implements MigrationInterface {
  name = 'ProviderEvents1796400400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter ADD COLUMN delivered_at timestamptz, ADD COLUMN delivered_by text`);
    await q.query(`ALTER TABLE inbound_message DROP CONSTRAINT IF EXISTS inbound_message_source_check`);
    await q.query(`ALTER TABLE inbound_message ADD CONSTRAINT inbound_message_source_check
                   CHECK (source IN ('smtp','imap','webhook','simulator','mailgun','sendgrid','postmark','ses'))`);
    await q.query(`
      CREATE TABLE provider_event (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL CHECK (provider IN ('mailgun','sendgrid','postmark','ses')),
        event_key text NOT NULL,
        type text NOT NULL CHECK (type IN ('bounce','complaint','delivery','other')),
        permanent boolean NOT NULL DEFAULT false,
        recipient text,
        letter_id uuid REFERENCES letter(id) ON DELETE SET NULL,
        login_token_id uuid,
        message_id text,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at timestamptz,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        outcome text,
        error text
      )`);
    await q.query(`CREATE UNIQUE INDEX provider_event_key ON provider_event (provider, event_key)`);
    await q.query(`CREATE INDEX provider_event_letter_idx ON provider_event (letter_id, received_at) WHERE letter_id IS NOT NULL`);
    await q.query(`CREATE INDEX provider_event_unprocessed_idx ON provider_event (received_at) WHERE processed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS provider_event`);
    await q.query(`DELETE FROM inbound_message WHERE source IN ('mailgun','sendgrid','postmark','ses')`);
    await q.query(`ALTER TABLE inbound_message DROP CONSTRAINT IF EXISTS inbound_message_source_check`);
    await q.query(`ALTER TABLE inbound_message ADD CONSTRAINT inbound_message_source_check CHECK (source IN ('smtp','imap','webhook','simulator'))`);
    await q.query(`ALTER TABLE letter DROP COLUMN IF EXISTS delivered_by, DROP COLUMN IF EXISTS delivered_at`);
  }
}
