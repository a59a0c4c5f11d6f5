import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batch composing (docs/architecture.md §7): one row per letter sent to the provider's Batch API.
 * `request` is the exact chat-completion body a synchronous call would send; `status` pending (not
 * yet in a batch) → submitted (in batch `batch_id`) → answered (`response` holds the result line's
 * body) | failed (`error`); used/abandoned once the composer took the answer or composed without
 * it. The row, not Redis, says what a batch holds: every batch job is rebuilt from these rows.
 */
export class LlmBatchItem1796431900000 implements MigrationInterface {
  name = 'LlmBatchItem1796431900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE llm_batch_item (
        letter_id uuid PRIMARY KEY REFERENCES letter(id) ON DELETE CASCADE,
        request jsonb NOT NULL,
        deadline timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'submitted', 'answered', 'failed', 'used', 'abandoned')),
        batch_id text,
        response jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX llm_batch_item_open_idx ON llm_batch_item (status, batch_id) WHERE status IN ('pending', 'submitted')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS llm_batch_item`);
  }
}
