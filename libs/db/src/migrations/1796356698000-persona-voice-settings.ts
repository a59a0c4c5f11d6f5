import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Personas that behave (docs/architecture.md §3): creativity, response length and custom
 * instructions belong to the voice, and a topic overrides them only where it says so (NULL:
 * inherit). Temperature follows creativity through one documented mapping (libs/contracts
 * `temperatureFor`); a topic's own temperature stays only as an explicit override.
 *
 * Existing data: each persona takes the settings of the oldest topic it voices; a topic keeps a
 * value only where it differs from its persona's, and its temperature only where it differs from
 * what its creativity now maps to by more than 0.05.
 */
export class PersonaVoiceSettings1796356698000 implements MigrationInterface {
  name = 'PersonaVoiceSettings1796356698000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE persona
      ADD COLUMN creativity numeric(3,2) NOT NULL DEFAULT 0.5 CHECK (creativity BETWEEN 0 AND 1),
      ADD COLUMN response_length text NOT NULL DEFAULT 'medium' CHECK (response_length IN ('short','medium','long')),
      ADD COLUMN instructions text NOT NULL DEFAULT '' CHECK (length(instructions) <= 4000)`);
    await q.query(`ALTER TABLE topic
      ALTER COLUMN temperature DROP NOT NULL, ALTER COLUMN temperature DROP DEFAULT,
      ALTER COLUMN response_length DROP NOT NULL, ALTER COLUMN response_length DROP DEFAULT,
      ALTER COLUMN creativity DROP NOT NULL, ALTER COLUMN creativity DROP DEFAULT,
      ADD COLUMN instructions text CHECK (instructions IS NULL OR length(instructions) <= 4000)`);
    await q.query(`UPDATE persona p SET creativity = x.creativity, response_length = x.response_length
      FROM (SELECT DISTINCT ON (persona_id) persona_id, creativity, response_length FROM topic ORDER BY persona_id, created_at, id) x
      WHERE x.persona_id = p.id`);
    await q.query(`UPDATE topic SET temperature = NULL WHERE abs(temperature - (0.3 + 0.8 * creativity)) <= 0.05`);
    await q.query(`UPDATE topic t SET creativity = NULLIF(t.creativity, p.creativity), response_length = NULLIF(t.response_length, p.response_length)
      FROM persona p WHERE p.id = t.persona_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE topic t SET creativity = coalesce(t.creativity, p.creativity), response_length = coalesce(t.response_length, p.response_length),
      temperature = coalesce(t.temperature, round(0.3 + 0.8 * coalesce(t.creativity, p.creativity), 2)) FROM persona p WHERE p.id = t.persona_id`);
    await q.query(`ALTER TABLE topic DROP COLUMN instructions,
      ALTER COLUMN temperature SET DEFAULT 0.7, ALTER COLUMN temperature SET NOT NULL,
      ALTER COLUMN response_length SET DEFAULT 'medium', ALTER COLUMN response_length SET NOT NULL,
      ALTER COLUMN creativity SET DEFAULT 0.5, ALTER COLUMN creativity SET NOT NULL`);
    await q.query(`ALTER TABLE persona DROP COLUMN instructions, DROP COLUMN response_length, DROP COLUMN creativity`);
  }
}
