import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the SMTP connection told us about an inbound message, kept with its raw bytes so the
 * processing worker (whose job carries only the row id) can authenticate it and decide who it
 * speaks for: the envelope recipients (RCPT TO: which signed address it was sent to), the
 * connecting IP and its HELO name (SPF). Null on the webhook and IMAP paths, which never saw the
 * connection.
 */
export class InboundEnvelope1796357400000 implements MigrationInterface {
  name = 'InboundEnvelope1796357400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE inbound_message
  ADD COLUMN envelope_to text[],
  ADD COLUMN remote_address text,
  ADD COLUMN helo text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_message DROP COLUMN helo, DROP COLUMN remote_address, DROP COLUMN envelope_to`);
  }
}
