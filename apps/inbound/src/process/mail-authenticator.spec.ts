import { contradictsFrom, parseAuthResults, type AuthVerdict } from './mail-authenticator';

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
