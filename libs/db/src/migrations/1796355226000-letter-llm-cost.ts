import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * LLM cost per letter (docs/architecture.md §3): the prompt tokens the provider served from its
 * prompt cache, and the letter's cost in USD at the model's price (LLM_PRICES over the built-in
 * table). The price now lives in configuration per model, so the single app_config price it
 * replaces goes. Reply classifications keep theirs in inbound_message.analysis (llm.costUsd).
 */
export class LetterLlmCost1796355226000 implements MigrationInterface {
  name = 'LetterLlmCost1796355226000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter ADD COLUMN cached_tokens int, ADD COLUMN cost_usd numeric(14, 8)`);
    await q.query(`DELETE FROM app_config WHERE key = 'llm_cost_per_1k_tokens_usd'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE letter DROP COLUMN IF EXISTS cost_usd, DROP COLUMN IF EXISTS cached_tokens`);
    await q.query(`INSERT INTO app_config (key, value, description) VALUES ('llm_cost_per_1k_tokens_usd', '{"prompt":0.00015,"completion":0.0006}'::jsonb, 'Price used for the LLM cost metric.') ON CONFLICT (key) DO NOTHING`);
  }
}
