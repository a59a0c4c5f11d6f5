import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session scope, fail-closed (issue 11 §9). The scope column arrived with DEFAULT 'full', which
 * left two holes:
 *
 * - every session opened by a letter's footer link BEFORE the column existed became `full`, so a
 *   forwarded letter's link consumed last week still opened the console for up to 30 days;
 * - an INSERT that forgets the scope would open the console too.
 *
 * The one-time login wrote the session row and its LOGIN event in one transaction, so both carry
 * the same `now()`: a session whose LOGIN event at that instant says `via: footer_login` was opened
 * by a footer link and becomes `settings`. The default becomes `settings` (the narrow scope);
 * SessionService always names the scope it means.
 */
export class SessionScopeFailClosed1796400000000 implements MigrationInterface {
  name = 'SessionScopeFailClosed1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_session ALTER COLUMN scope SET DEFAULT 'settings'`);
    await q.query(`
UPDATE app_session s SET scope = 'settings'
 WHERE s.scope = 'full'
   AND EXISTS (SELECT 1 FROM event_log e
                WHERE e.type = 'LOGIN' AND e.user_id = s.user_id AND e.created_at = s.created_at
                  AND e.metadata->>'via' = 'footer_login')`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The narrowed rows stay narrowed: widening a session is not a safe thing to undo into.
    await q.query(`ALTER TABLE app_session ALTER COLUMN scope SET DEFAULT 'full'`);
  }
}
