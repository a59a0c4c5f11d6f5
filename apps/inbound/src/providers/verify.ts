import { createHash, createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';

/** Why a request was not believed (the metric's `outcome` label, prefixed `unverified_`). */
export type Unverified = 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future' | 'replayed' | 'not_configured' | 'topic' | 'cert';
export type Verification = { ok: true } | { ok: false; reason: Unverified };

const OK: Verification = { ok: true };

/** Compares two strings in time independent of where they differ (hashing first evens out the lengths). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** `timestamp` (unix seconds) within `tolerance` of now, either way. */
export function checkWindow(timestamp: number, nowSeconds: number, toleranceSeconds: number): Verification {
  if (timestamp < nowSeconds - toleranceSeconds) return { ok: false, reason: 'stale' };
  if (timestamp > nowSeconds + toleranceSeconds) return { ok: false, reason: 'future' };
  return OK;
}

/**
 * HTTP Basic (SendGrid Inbound Parse, Postmark webhooks): the credentials the operator put in the
 * webhook URL. Both compared in constant time; an unconfigured pair refuses everything.
 */
export function verifyBasicAuth(header: string | undefined, user: string | undefined, password: string | undefined): Verification {
  if (!user || !password) return { ok: false, reason: 'not_configured' };
  if (!header) return { ok: false, reason: 'missing' };
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return { ok: false, reason: 'malformed' };
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'malformed' };
  const userOk = safeEqual(decoded.slice(0, colon), user);
  const passwordOk = safeEqual(decoded.slice(colon + 1), password);
  return userOk && passwordOk ? OK : { ok: false, reason: 'mismatch' };
}

export interface MailgunSignature { timestamp: string; token: string; signature: string }

/**
 * Mailgun: hex HMAC-SHA256 of `timestamp + token` with the webhook signing key, the timestamp
 * within the window. (That the token was never seen before is the caller's check: it needs Redis.)
 */
export function verifyMailgun(s: Partial<MailgunSignature>, key: string | undefined, nowSeconds: number, toleranceSeconds: number): Verification {
  if (!key) return { ok: false, reason: 'not_configured' };
  if (!s.timestamp || !s.token || !s.signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(s.timestamp) || !/^[0-9a-f]{64}$/i.test(s.signature) || s.token.length > 256) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', key).update(s.timestamp + s.token).digest();
  if (!timingSafeEqual(expected, Buffer.from(s.signature, 'hex'))) return { ok: false, reason: 'mismatch' };
  return checkWindow(Number(s.timestamp), nowSeconds, toleranceSeconds);
}

/** SendGrid's verification key as its settings page shows it (base64 DER), or PEM. Null when unusable. */
export function sendgridPublicKey(value: string | undefined): KeyObject | null {
  if (!value) return null;
  try {
    const key = value.includes('-----BEGIN')
      ? createPublicKey(value.replace(/\\n/g, '\n'))
      : createPublicKey({ key: Buffer.from(value.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' ? key : null;
  } catch {
    return null;
  }
}

/**
 * SendGrid's signed event webhook: ECDSA (P-256, SHA-256) over the timestamp header's value
 * followed by the exact body bytes; the signature header is base64 DER. The timestamp is signed,
 * so the window check makes a captured request useless after it.
 */
export function verifySendgrid(signature: string | undefined, timestamp: string | undefined, body: Buffer, key: KeyObject | null, nowSeconds: number, toleranceSeconds: number): Verification {
  if (!key) return { ok: false, reason: 'not_configured' };
  if (!signature || !timestamp) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature) || signature.length > 200) return { ok: false, reason: 'malformed' };
  let good = false;
  try {
    good = verifySignature('sha256', Buffer.concat([Buffer.from(timestamp), body]), { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'mismatch' };
  return checkWindow(Number(timestamp), nowSeconds, toleranceSeconds);
}
