import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-mz-signature';

export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future' };

function mac(secret: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/**
 * `X-MZ-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body bytes>")>`.
 * What a sender (a relay in front of SES, a provider's forwarder, our tests) puts on a request.
 */
export function signWebhook(secret: string, body: Buffer, timestamp: number): string {
  const t = String(Math.floor(timestamp));
  return `t=${t},v1=${mac(secret, t, body).toString('hex')}`;
}

/**
 * Checks the signature over the exact bytes received — never a re-serialised body — with a
 * constant-time compare, then the timestamp window (both ways: a clock far ahead is as suspect
 * as a replay from the past). Several v1= values are allowed so a sender can sign with an old and
 * a new secret during rotation.
 */
export function verifyWebhookSignature(header: string | undefined, body: Buffer, secret: string, nowSeconds: number, toleranceSeconds: number): SignatureCheck {
  if (!header || !header.trim()) return { ok: false, reason: 'missing' };
  let t: string | null = null;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== null || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      t = value;
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return { ok: false, reason: 'malformed' };
      candidates.push(Buffer.from(value, 'hex'));
    }
    // Other keys (future versions) are ignored, as with Stripe-style headers.
  }
  if (t === null || candidates.length === 0 || candidates.length > 4) return { ok: false, reason: 'malformed' };
  const expected = mac(secret, t, body);
  let match = false;
  for (const c of candidates) match = timingSafeEqual(c, expected) || match;
  if (!match) return { ok: false, reason: 'mismatch' };
  const timestamp = Number(t);
  if (timestamp < nowSeconds - toleranceSeconds) return { ok: false, reason: 'stale' };
  if (timestamp > nowSeconds + toleranceSeconds) return { ok: false, reason: 'future' };
  return { ok: true, timestamp };
}
