import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { checkWindow, sendgridPublicKey, verifyBasicAuth, verifyMailgun, verifySendgrid } from './verify';

const NOW = 1_796_000_000;

describe('provider request verification', () => {
  it('HTTP Basic: only the configured pair, compared whole; unconfigured refuses everything', () => {
    const h = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(verifyBasicAuth(h('hooks:s3cret-password-0123'), 'hooks', 's3cret-password-0123')).toEqual({ ok: true });
    expect(verifyBasicAuth(h('hooks:s3cret-password-012'), 'hooks', 's3cret-password-0123')).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyBasicAuth(h('hook:s3cret-password-0123'), 'hooks', 's3cret-password-0123')).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyBasicAuth(h('hooks:pass:with:colons'), 'hooks', 'pass:with:colons')).toEqual({ ok: true });
    expect(verifyBasicAuth(undefined, 'hooks', 'x')).toEqual({ ok: false, reason: 'missing' });
    expect(verifyBasicAuth('Bearer abc', 'hooks', 'x')).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyBasicAuth(h('nocolon'), 'hooks', 'x')).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyBasicAuth(h('hooks:'), undefined, undefined)).toEqual({ ok: false, reason: 'not_configured' });
  });

  it('Mailgun: HMAC-SHA256 of timestamp + token in hex, within the window', () => {
    const key = 'mailgun-signing-key-for-unit-tests';
    const s = (t: number, token = 'a'.repeat(50), k = key) => ({ timestamp: String(t), token, signature: createHmac('sha256', k).update(`${t}${token}`).digest('hex') });
    expect(verifyMailgun(s(NOW), key, NOW, 300)).toEqual({ ok: true });
    expect(verifyMailgun(s(NOW - 301), key, NOW, 300)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyMailgun(s(NOW + 301), key, NOW, 300)).toEqual({ ok: false, reason: 'future' });
    expect(verifyMailgun(s(NOW, 'a'.repeat(50), 'other-key-0123456789'), key, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyMailgun({ ...s(NOW), token: 'b'.repeat(50) }, key, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyMailgun({ ...s(NOW), signature: 'zz' }, key, NOW, 300)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyMailgun({ timestamp: String(NOW) }, key, NOW, 300)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyMailgun(s(NOW), undefined, NOW, 300)).toEqual({ ok: false, reason: 'not_configured' });
  });

  it('SendGrid: ECDSA P-256 over timestamp + body, key as base64 DER or PEM', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
    const body = Buffer.from('[{"event":"delivered"}]');
    const sig = (t: number, b = body) => sign('sha256', Buffer.concat([Buffer.from(String(t)), b]), privateKey).toString('base64');
    for (const key of [sendgridPublicKey(der), sendgridPublicKey(publicKey.export({ type: 'spki', format: 'pem' }) as string)]) {
      expect(key).not.toBeNull();
      expect(verifySendgrid(sig(NOW), String(NOW), body, key, NOW, 300)).toEqual({ ok: true });
      expect(verifySendgrid(sig(NOW), String(NOW + 1), body, key, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
      expect(verifySendgrid(sig(NOW), String(NOW), Buffer.from('[]'), key, NOW, 300)).toEqual({ ok: false, reason: 'mismatch' });
      expect(verifySendgrid(sig(NOW - 600), String(NOW - 600), body, key, NOW, 300)).toEqual({ ok: false, reason: 'stale' });
      expect(verifySendgrid(undefined, String(NOW), body, key, NOW, 300)).toEqual({ ok: false, reason: 'missing' });
      expect(verifySendgrid('not base64!', String(NOW), body, key, NOW, 300)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(sendgridPublicKey('not a key at all, just words and more words')).toBeNull();
    expect(sendgridPublicKey((generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'))).toBeNull();
    expect(verifySendgrid(sig(NOW), String(NOW), body, null, NOW, 300)).toEqual({ ok: false, reason: 'not_configured' });
  });

  it('windows are checked both ways', () => {
    expect(checkWindow(NOW, NOW, 0)).toEqual({ ok: true });
    expect(checkWindow(NOW - 1, NOW, 0)).toEqual({ ok: false, reason: 'stale' });
  });
});
