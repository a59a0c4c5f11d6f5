import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The landing page's sign-up choice (topics, send time, time zone) travels with the sign-in
 * request and waits on the login token it was made with, so confirming that token — and only
 * that token — applies it (docs/architecture.md §5). NULL for an ordinary sign-in.
 */
export class LoginTokenSignupChoice1796431700000 implements MigrationInterface {
  name = 'LoginTokenSignupChoice1796431700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_token ADD COLUMN signup_choice jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_token DROP COLUMN signup_choice`);
  }
}
