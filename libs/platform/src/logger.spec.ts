import { Writable } from 'node:stream';
import { createLogger, maskText } from './logger';

describe('logger redaction', () => {
  it('masks e-mail addresses and tokens in free text', () => {
    expect(maskText('sent to ada@example.org via /login/abcDEF123456789_-xyz')).toBe('sent to [email] via /login/[token]');
    expect(maskText('GET /u/3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.sig')).toBe('GET /u/[token]');
  });

  it('censors sensitive fields and masks messages in real output', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
    const testLogger = createLogger('test', 'info', sink);
    testLogger.info({ email: 'ada@example.org', token: 'secret-token', user: { email: 'bob@example.org' }, req: { headers: { cookie: 'mz_session=abc' } } }, 'login link for ada@example.org');
    const out = lines.join('');
    expect(out).not.toContain('ada@example.org');
    expect(out).not.toContain('bob@example.org');
    expect(out).not.toContain('secret-token');
    expect(out).not.toContain('mz_session=abc');
    expect(out).toContain('[email]');
  });
});
