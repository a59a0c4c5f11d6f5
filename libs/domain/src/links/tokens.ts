import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { LoginTokenPurpose } from '@mz/contracts';

/** sha256 hex of a token: what the database stores instead of the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 32 random bytes, base64url: unguessable, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export const LOGIN_LINK_TTL_MS = 15 * 60_000;
export const FOOTER_LOGIN_TTL_MS = 48 * 3_600_000;

/**
 * Whole minutes a link has left, as the sign-in mail states them. Rounded, not floored: a link
 * mailed a second after it was requested still has its 15 minutes, as the API promised.
 */
export function minutesLeft(expiresAt: Date, now: Date): number {
  return Math.max(1, Math.round((expiresAt.getTime() - now.getTime()) / 60_000));
}

/** Creates a one-time login token (stored hashed) and returns the raw token for the link. */
export async function issueLoginToken(m: EntityManager, userId: string, purpose: LoginTokenPurpose, ttlMs: number, now = new Date()): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(now.getTime() + ttlMs);
  const [row] = await m.query(
    `INSERT INTO login_token (user_id, token_hash, purpose, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
    [userId, hashToken(token), purpose, expiresAt],
  );
  return { id: row.id, token, expiresAt };
}

/**
 * Unsubscribe tokens are signed, not stored: `<subscriptionId>.<hmac>` (HMAC-SHA256 with
 * SESSION_SECRET, domain-separated). They work without a login and never expire, as RFC 8058
 * one-click unsubscribe links must keep working in old mail.
 */
export function signUnsubscribeToken(subscriptionId: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(`unsubscribe:${subscriptionId}`).digest('base64url');
  return `${subscriptionId}.${mac}`;
}

export function verifyUnsubscribeToken(token: string, secret: string): string | null {
  const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const expected = Buffer.from(signUnsubscribeToken(m[1], secret).split('.')[1], 'utf8');
  const given = Buffer.from(m[2], 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : null;
}
