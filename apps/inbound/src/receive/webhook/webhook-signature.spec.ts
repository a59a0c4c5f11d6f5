import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from './webhook-signature';

const SECRET = 'webhook-secret-for-unit-tests';
const NOW = 1_795_680_000;
const body = Buffer.from('From: a@example.com\r\nSubject: hi\r\n\r\nDone\r\n');

describe('webhook signature', () => {
  it('is HMAC-SHA256 over "<t>.<raw body>" in the documented header format', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${body.toString('latin1')}`, 'latin1').digest('hex');
    expect(signWebhook(SECRET, body, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('accepts a good signature within five minutes either way', () => {
    for (const skew of [-300, -1, 0, 1, 300]) {
      expect(verifyWebhookSignature(signWebhook(SECRET, body, NOW + skew), body, SECRET, NOW, 300)).toEqual({ ok: true, timestamp: NOW + skew });
    }
  });

  it('refuses stale and future timestamps even when the signature matches', () => {
    expect(verifyWebhookSignature(signWebhook(SECRET, body, NOW - 301), body, SECRET, NOW, 300)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(signWebhook(SECRET, body, NOW + 301), body, SECRET, NOW, 300)).toEqual({ ok: false, reason: 'future' });
  });

  it('refuses another secret, another body, a changed timestamp, and a missing or malformed header', () => {
    const good = signWebhook(SECRET, body, NOW);
    expect(verifyWebhookSignature(signWebhook('another-secret-0123456789', body, NOW), body, SECRET, NOW, 300).ok).toBe(false);
    expect(verifyWebhookSignature(good, Buffer.concat([body, Buffer.from(' ')]), SECRET, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(good.replace(`t=${NOW}`, `t=${NOW + 1}`), body, SECRET, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
    for (const header of [undefined, '', 'v1=abc', `t=${NOW}`, `t=x,v1=${'0'.repeat(64)}`, `t=${NOW},v1=zz`, 'garbage', `t=${NOW},t=${NOW},v1=${'0'.repeat(64)}`]) {
      const r = verifyWebhookSignature(header, body, SECRET, NOW, 300);
      expect(r.ok).toBe(false);
      expect(['missing', 'malformed']).toContain((r as { reason: string }).reason);
    }
  });

  it('accepts any one of several v1 values (secret rotation) and ignores unknown keys', () => {
    const v1 = signWebhook(SECRET, body, NOW).split('v1=')[1];
    const header = `t=${NOW},v1=${'ab'.repeat(32)},v1=${v1},v2=whatever`;
    expect(verifyWebhookSignature(header, body, SECRET, NOW, 300).ok).toBe(true);
  });
});
