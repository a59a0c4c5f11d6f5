import { Injectable, Logger } from '@nestjs/common';
import { SignupChoice, type SignupChoiceInput } from '@mz/api-schemas';
import { DataSource } from 'typeorm';
import type { LoginTokenPurpose, SessionScope, UserRole } from '@mz/contracts';
import { logEvent } from '@mz/db';
import { hashToken } from '@mz/domain';
import { updateReturning } from '../common/sql';
import { type SignupApplied, SubscriptionsService } from '../subscriber/subscriptions.service';
import { AuthMetrics } from './auth.metrics';
import { SessionService } from './session.service';

/** Shape of the tokens we mint (32 random bytes, base64url); anything else is not looked up. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,128}$/;

export interface PendingSignup { topics: { code: string; name: string }[]; sendTime: string; timezone: string }
export interface PendingLogin { email: string; purpose: LoginTokenPurpose; signup: PendingSignup | null }
export interface CompletedLogin { userId: string; role: UserRole; scope: SessionScope; sessionToken: string; expiresAt: Date; signup: SignupApplied | null }

/**
 * The stored choice, read back through the same schema it was accepted with: a row that does not
 * parse (hand-edited, or from a future shape) is ignored rather than half-applied.
 */
function storedChoice(raw: unknown): SignupChoiceInput | null {
  if (raw === null || raw === undefined) return null;
  const parsed = SignupChoice.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * Consuming a login token (email link or a letter's footer link). Looking at a token never uses
 * it — mail scanners prefetch links — only the confirm form's POST does, exactly once.
 */
@Injectable()
export class LoginService {
  private readonly logger = new Logger('Login');

  constructor(
    private readonly ds: DataSource,
    private readonly sessions: SessionService,
    private readonly metrics: AuthMetrics,
    private readonly subscriptions: SubscriptionsService,
  ) {}

  /** For the confirm page: the token is valid, unused and unexpired, and whose it is. */
  async peek(token: string): Promise<PendingLogin | null> {
    if (!TOKEN_SHAPE.test(token)) return null;
    const rows: { email: string; purpose: LoginTokenPurpose; signup_choice: unknown }[] = await this.ds.query(
      `SELECT u.email, t.purpose, t.signup_choice FROM login_token t JOIN app_user u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() AND u.status = 'active'`,
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row) return null;
    const choice = row.purpose === 'login' ? storedChoice(row.signup_choice) : null;
    let signup: PendingSignup | null = null;
    if (choice) {
      const names: { code: string; name: string }[] = await this.ds.query(`SELECT code, name FROM topic WHERE active AND code = ANY($1::text[])`, [choice.topics]);
      const byCode = new Map(names.map((t) => [t.code, t.name]));
      signup = { topics: choice.topics.filter((c) => byCode.has(c)).map((code) => ({ code, name: byCode.get(code)! })), sendTime: choice.sendTime, timezone: choice.timezone };
    }
    return { email: row.email, purpose: row.purpose, signup };
  }

  /**
   * Uses the token and opens a new session, in one transaction. The conditional UPDATE is the
   * single-use guarantee: of two concurrent POSTs, only one gets the row back.
   */
  async consume(token: string, meta: { userAgent?: string; ip?: string }): Promise<CompletedLogin | null> {
    const login = await this.consumeToken(token, meta);
    // consumed = a session was created (the dashboard's "sessions created").
    this.metrics.logins.inc({ outcome: login ? 'consumed' : 'refused' });
    return login;
  }

  private async consumeToken(token: string, meta: { userAgent?: string; ip?: string }): Promise<CompletedLogin | null> {
    if (!TOKEN_SHAPE.test(token)) return null;
    return this.ds.transaction(async (m) => {
      const rows = await updateReturning<{ user_id: string; purpose: LoginTokenPurpose; role: UserRole; status: string; signup_choice: unknown }>(
        m,
        `UPDATE login_token t SET used_at = now()
           FROM app_user u
          WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() AND u.id = t.user_id
          RETURNING t.user_id, t.purpose, u.role, u.status, t.signup_choice`,
        [hashToken(token)],
      );
      const row = rows[0];
      // A suspended or deleted account's token is burnt without a session.
      if (!row || row.status !== 'active') return null;
      // A letter's footer link opens that subscriber's settings, never the console (a letter can be forwarded).
      const scope: SessionScope = row.purpose === 'footer_login' ? 'settings' : 'full';
      const session = await this.sessions.create(m, row.user_id, { ...meta, scope });
      await m.query(`UPDATE app_user SET last_login_at = now() WHERE id = $1`, [row.user_id]);
      // The landing page's choice was stored on this token when the link was requested and is
      // read from it here, never from the confirm request: it applies to the token's own account,
      // once, because the UPDATE above hands this row to one POST only (docs/architecture.md §5).
      const choice = row.purpose === 'login' ? storedChoice(row.signup_choice) : null;
      if (row.purpose === 'login' && row.signup_choice != null && !choice) this.logger.warn('login token carries a sign-up choice that no longer parses; ignored');
      const signup = choice ? await this.subscriptions.applySignupChoice(m, row.user_id, choice) : null;
      await logEvent(m, { type: 'LOGIN', actor: row.user_id, userId: row.user_id, metadata: { via: row.purpose, scope, ...(signup ? { signup } : {}) } });
      return { userId: row.user_id, role: row.role, scope, sessionToken: session.token, expiresAt: session.expiresAt, signup };
    });
  }
}
