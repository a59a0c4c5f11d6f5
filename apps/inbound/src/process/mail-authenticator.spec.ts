import pino from 'pino';
import type { AppConfig } from '@mz/contracts';
import { AUTH_MAX_HEADER_BYTES, contradictsFrom, headerSectionBytes, MailAuthenticator, parseAuthResults, type AuthVerdict } from './mail-authenticator';

const verdict = (dmarc: AuthVerdict['dmarc']): AuthVerdict => ({ path: 'smtp', spf: null, dkim: [], dmarc, arc: null, trustedAuthservId: null, ignoredAuthservId: null });

describe('parseAuthResults (RFC 8601)', () => {
  it('reads the authserv-id and each method, without comments', () => {
    const h = parseAuthResults(` mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abc;\r\n       spf=pass (google.com: domain of a@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.com;\r\n       dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=example.com`);
    expect(h).toEqual({
      authservId: 'mx.google.com',
      results: [
        { method: 'dkim', result: 'pass', props: { 'header.i': '@example.com', 'header.s': 's1', 'header.b': 'abc' } },
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'a@example.com' } },
        { method: 'dmarc', result: 'fail', props: { 'header.from': 'example.com' } },
      ],
    });
  });

  it('takes a version after the id, unknown results as neutral, and refuses an empty header', () => {
    expect(parseAuthResults('amazonses.com 1; spf=PASS smtp.mailfrom=x.example')).toMatchObject({ authservId: 'amazonses.com', results: [{ method: 'spf', result: 'pass' }] });
    expect(parseAuthResults('mx.example; spf=excellent')?.results[0].result).toBe('neutral');
    expect(parseAuthResults('   ')).toBeNull();
  });
});

describe('contradictsFrom', () => {
  it('only a DMARC fail under quarantine or reject contradicts the From', () => {
    expect(contradictsFrom(verdict({ result: 'fail', domain: 'x.example', policy: 'reject' }))).toBe(true);
    expect(contradictsFrom(verdict({ result: 'fail', domain: 'x.example', policy: 'quarantine' }))).toBe(true);
    expect(contradictsFrom(verdict({ result: 'fail', domain: 'x.example', policy: 'none' }))).toBe(false);
    expect(contradictsFrom(verdict({ result: 'temperror', domain: 'x.example', policy: 'reject' }))).toBe(false);
    expect(contradictsFrom(verdict({ result: 'none', domain: null, policy: null }))).toBe(false);
  });
});

describe('a header section too large to authenticate', () => {
  const lookups: string[] = [];
  const auth = new MailAuthenticator({ INBOUND_TRUSTED_AUTHSERV_IDS: [] } as unknown as AppConfig, { resolver: async (name: string) => {
    lookups.push(name);
    throw Object.assign(new Error('no such domain'), { code: 'ENOTFOUND' });
  } } as never, pino({ level: 'silent' }));
  const mail = (headerBytes: number) => Buffer.from(
    `From: a@reject.example\r\nTo: r@reply.example\r\nSubject: hi\r\n${'X-Pad: '.padEnd(Math.max(0, headerBytes - 60), 'x')}\r\n\r\nbody\r\n`);

  it('measures the header section up to its blank line, CRLF or bare LF', () => {
    expect(headerSectionBytes(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\r\n\r\n'))).toBe(10);
    expect(headerSectionBytes(Buffer.from('A: 1\nB: 2\n\nbody'))).toBe(9);
    expect(headerSectionBytes(Buffer.from('A: 1\r\nno end'))).toBe(12);
  });

  it('is not checked and never passes; a smaller one is checked as before', async () => {
    const big = await auth.verify({ raw: mail(AUTH_MAX_HEADER_BYTES + 1024), source: 'webhook', envelopeFrom: null, remoteAddress: null, helo: null });
    expect(big).toMatchObject({ unverifiable: 'headers_too_large', dkim: [], dmarc: { result: 'permerror' }, spf: { result: 'permerror' } });
    expect(lookups).toEqual([]);
    const small = await auth.verify({ raw: mail(AUTH_MAX_HEADER_BYTES - 1024), source: 'webhook', envelopeFrom: null, remoteAddress: null, helo: null });
    expect(small.unverifiable).toBeUndefined();
    expect(lookups.length).toBeGreaterThan(0); // DMARC was looked up for reject.example
  });
});

