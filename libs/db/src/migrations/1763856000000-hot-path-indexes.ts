import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for two periodic scans found while building the workers: the inbound re-drive of rows
 * stored but not yet processed, and the KPI rollup over recently sent letters.
 */
export class HotPathIndexes1763856000000 implements MigrationInterface {
  name = 'HotPathIndexes1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX inbound_message_unprocessed_idx ON inbound_message (received_at) WHERE processed_at IS NULL`);
    await q.query(`CREATE INDEX letter_sent_at_idx ON letter (sent_at) WHERE status = 'sent'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS letter_sent_at_idx`);
    await q.query(`DROP INDEX IF EXISTS inbound_message_unprocessed_idx`);
  }
}
