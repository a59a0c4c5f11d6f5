import { simpleParser } from 'mailparser';
import { flowedMail, manyAddressMail } from './bench-mail';

describe('R9 mails', () => {
  it('builds a ~2 MB format=flowed reply that is one soft-broken paragraph', async () => {
    const raw = flowedMail(2 * 1024 * 1024, '<flowed@bench.example>');
    expect(raw.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(raw.length).toBeLessThan(2 * 1024 * 1024 + 4096);
    const text = raw.toString('latin1');
    expect(text).toContain('format=flowed; delsp=yes');
    expect(text).toContain('Message-ID: <flowed@bench.example>');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4).split('\r\n').filter(Boolean);
    expect(body.every((line) => line.endsWith(' '))).toBe(true);
  });

  it('builds a To: header with 100,000 addresses, compact enough to be parsed', async () => {
    const raw = manyAddressMail(100_000, true);
    const head = raw.subarray(0, raw.indexOf('\r\n\r\n'));
    expect(head.length).toBeLessThan(1024 * 1024);
    const parsed = await simpleParser(raw);
    const to = Array.isArray(parsed.to) ? parsed.to.flatMap((t) => t.value) : (parsed.to?.value ?? []);
    expect(to).toHaveLength(100_000);
    expect(to[0].address).toBe('0@x.y');
    expect(manyAddressMail(100_000, false).length).toBeGreaterThan(3 * 1024 * 1024);
  });
});
