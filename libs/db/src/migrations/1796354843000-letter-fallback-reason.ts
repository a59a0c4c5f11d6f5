import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Degraded mode (docs/architecture.md §3): when the offline composer stands in for a failing LLM,
 * the letter keeps why (`circuit_open`, `retries_exhausted`, `llm_rejected`, `slot_near`) beside
 * `model = offline`. NULL for letters the LLM wrote, and for offline letters of a stack with no LLM.
 * Not indexed: read per letter in the console and counted by a metric, never searched.
 */
export class LetterFallbackReason1796354843000 implements MigrationInterface {
  name = 'LetterFallbackReason1796354843000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter ADD COLUMN fallback_reason text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter DROP COLUMN IF EXISTS fallback_reason`);
  }
}
