import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a session may do (docs/architecture.md §5): `full` from a sign-in link requested on the
 * site; `settings` from the one-time link in a letter's footer — that subscriber's settings and
 * letters, never the admin console, so a forwarded letter hands over no admin rights.
 */
export class SessionScope1796357852000 implements MigrationInterface {
  name = 'SessionScope1796357852000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_session ADD COLUMN scope text NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'settings'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_session DROP COLUMN scope`);
  }
}
