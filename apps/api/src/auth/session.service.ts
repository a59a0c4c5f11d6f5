import { Inject, Injectable } from '@nestjs/common';
import type { CookieOptions, Request } from 'express';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig, SessionScope, UserRole, UserStatus } from '@mz/contracts';
import { hashToken, newToken } from '@mz/domain';
import { APP_CONFIG } from '@mz/platform';
import { updateReturning } from '../common/sql';

/**
 * The session cookie. On https it is `__Host-mz_session`: browsers then accept it only with
 * Secure, Path=/ and no Domain, so no sibling subdomain can set or shadow it.
 */
export const SESSION_COOKIE = 'mz_session';
export const SECURE_SESSION_COOKIE = '__Host-mz_session';
export const sessionCookieName = (baseUrl: string): string => (new URL(baseUrl).protocol === 'https:' ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
export const SESSION_TTL_MS = 30 * 24 * 3_600_000;

/** The signed-in user as guards hand it to handlers. */
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  status: UserStatus;
  sessionId: string;
  scope: SessionScope;
}

export type AuthedRequest = Request & { user?: SessionUser };

/**
 * Browser sessions (docs/architecture.md §5). The cookie carries 32 random bytes; the table stores only their
 * sha256, so a database leak yields no usable session. Every login creates a new session (no
 * fixation); logout and suspension revoke rows.
 */
@Injectable()
export class SessionService {
  private readonly secure: boolean;
  /** `__Host-mz_session` on https, `mz_session` on a plain-http local run. */
  readonly cookieName: string;

  constructor(private readonly ds: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.secure = new URL(config.APP_BASE_URL).protocol === 'https:';
    this.cookieName = sessionCookieName(config.APP_BASE_URL);
  }

  /** `scope` is required: what a session may open is never left to a default. */
  async create(m: EntityManager, userId: string, meta: { userAgent?: string; ip?: string; scope: SessionScope }): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken();
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await m.query(
      `INSERT INTO app_session (user_id, token_hash, expires_at, user_agent, ip, scope) VALUES ($1, $2, $3, $4, $5, $6)`,
      [userId, hashToken(token), expiresAt, meta.userAgent?.slice(0, 400) ?? null, meta.ip ?? null, meta.scope],
    );
    return { token, expiresAt };
  }

  /** The live session's user (any status: guards decide what a suspended user may do), or null. */
  async resolve(token: string | undefined): Promise<SessionUser | null> {
    if (!token || !/^[A-Za-z0-9_-]{20,200}$/.test(token)) return null;
    const rows: { session_id: string; id: string; email: string; name: string | null; role: UserRole; status: UserStatus; scope: SessionScope }[] = await this.ds.query(
      `SELECT s.id AS session_id, s.scope, u.id, u.email, u.name, u.role, u.status
         FROM app_session s JOIN app_user u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
      [hashToken(token)],
    );
    const r = rows[0];
    return r ? { id: r.id, email: r.email, name: r.name, role: r.role, status: r.status, sessionId: r.session_id, scope: r.scope } : null;
  }

  async fromRequest(req: Request): Promise<SessionUser | null> {
    return this.resolve(this.readCookie(req));
  }

  /** The session token from this deployment's cookie only (on https a plain `mz_session` is ignored). */
  readCookie(req: Request): string | undefined {
    const v = (req.cookies as Record<string, unknown> | undefined)?.[this.cookieName];
    return typeof v === 'string' ? v : undefined;
  }

  /** Revokes the session behind a cookie token; returns the user id when there was one. */
  async revoke(token: string | undefined): Promise<{ userId: string; sessionId: string } | null> {
    if (!token) return null;
    const rows = await updateReturning<{ id: string; user_id: string }>(
      this.ds.manager,
      `UPDATE app_session SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, user_id`,
      [hashToken(token)],
    );
    return rows[0] ? { userId: rows[0].user_id, sessionId: rows[0].id } : null;
  }

  /** HttpOnly (no script can read it), SameSite=Lax (no cross-site POST carries it), Secure on https. */
  cookieOptions(expiresAt?: Date): CookieOptions {
    return { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/', ...(expiresAt ? { expires: expiresAt } : {}) };
  }
}
