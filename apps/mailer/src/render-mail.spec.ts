import { DEFAULT_FOOTER } from '@mz/db';
import { escapeHtml, fillTemplate } from '@mz/contracts';
import { type LetterMailInput, renderLetterMail, renderLoginMail } from './render-mail';

const LETTER_ID = '0b7c3c6e-8a0f-4f55-9d4e-1f2a3b4c5d6e';

function input(over: Partial<LetterMailInput> = {}): LetterMailInput {
  return {
    from: 'Mentor Zero <mentor@mz.test>',
    to: 'ada@example.test',
    addresses: { reply: 'r+reply-address@reply.mz.test', bounce: 'b+lbounce-address@reply.mz.test' },
    letter: {
      id: LETTER_ID,
      messageId: `<mz.${LETTER_ID}@reply.mz.test>`,
      subject: 'Small steps, every morning [mz:focus]',
      bodyText: 'Dear Ada,\n\nStart with one thing.\n',
      bodyHtml: '<p>Dear Ada,</p><p>Start with one thing.</p>',
    },
    topic: { code: 'focus', name: 'Focus' },
    footer: { textTemplate: DEFAULT_FOOTER.text, htmlTemplate: DEFAULT_FOOTER.html },
    quote: { text: 'Well begun is half done.', author: 'Aristotle' },
    links: {
      login: 'https://mz.test/login/TOKEN_abc-123',
      unsubscribe: 'https://mz.test/u/sub.mac',
      unsubscribeMailto: 'mailto:u+sub@reply.mz.test?subject=unsubscribe',
    },
    ...over,
  };
}

describe('renderLetterMail', () => {
  it('sets the envelope fields, a stable Message-ID and every header the pipeline promises', () => {
    const mail = renderLetterMail(input());
    expect(mail).toMatchObject({
      from: 'Mentor Zero <mentor@mz.test>',
      to: 'ada@example.test',
      replyTo: 'r+reply-address@reply.mz.test',
      envelope: { from: 'b+lbounce-address@reply.mz.test', to: 'ada@example.test' },
      subject: 'Small steps, every morning [mz:focus]',
      messageId: `<mz.${LETTER_ID}@reply.mz.test>`,
    });
    expect(mail.headers).toEqual({
      'X-MZ-Topic': 'focus',
      'X-MZ-Letter': LETTER_ID,
      'Feedback-ID': 'focus:letter:mentorzero',
      'List-Unsubscribe': '<https://mz.test/u/sub.mac>, <mailto:u+sub@reply.mz.test?subject=unsubscribe>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    });
    // Rendering is deterministic: a retry produces the same message.
    expect(renderLetterMail(input())).toEqual(mail);
  });

  it('puts body, quote and footer in that order in both alternatives, links filled in', () => {
    const { text, html } = renderLetterMail(input());
    const order = ['Start with one thing.', 'Well begun is half done.', 'Aristotle', 'subscribed to Focus', 'https://mz.test/login/TOKEN_abc-123', 'https://mz.test/u/sub.mac'];
    const positions = (s: string) => order.map((needle) => s.indexOf(needle));
    for (const alt of [text, html]) {
      const pos = positions(alt);
      expect(pos.every((p) => p >= 0)).toBe(true);
      expect([...pos].sort((a, b) => a - b)).toEqual(pos);
      expect(alt).not.toMatch(/\{\{/);
    }
    expect(html).toContain('<a href="https://mz.test/login/TOKEN_abc-123">Your settings</a>');
    expect(html).toContain('<p>Dear Ada,</p><p>Start with one thing.</p>');
    expect(html).toMatch(/^<!doctype html>/);
    expect(text).toContain('“Well begun is half done.”\n— Aristotle');
  });

  it('escapes values inserted into HTML but not into text', () => {
    const mail = renderLetterMail(input({
      topic: { code: 'focus', name: 'Tom & "Jerry" <script>alert(1)</script>' },
      quote: { text: 'a < b', author: "O'Brien" },
      links: { login: 'https://mz.test/login/x"onmouseover="y', unsubscribe: 'https://mz.test/u/a&b', unsubscribeMailto: 'mailto:u@r.test?subject=a&b' },
    }));
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('href="https://mz.test/login/x&quot;onmouseover=&quot;y"');
    expect(mail.html).toContain('href="https://mz.test/u/a&amp;b"');
    expect(mail.html).toContain('a &lt; b');
    expect(mail.html).toContain('O&#39;Brien');
    expect(mail.text).toContain('subscribed to Tom & "Jerry" <script>alert(1)</script> on Mentor Zero');
    expect(mail.text).toContain('https://mz.test/u/a&b');
    expect(mail.text).toContain('“a < b”\n— O\'Brien');
  });

  it('leaves the quote out when there is none, and builds HTML from text when the letter has none', () => {
    const mail = renderLetterMail(input({
      quote: null,
      letter: { ...input().letter, bodyHtml: null, bodyText: 'Line one\nline <two>\n\nSecond paragraph' },
    }));
    expect(mail.html).toContain('<p>Line one<br>line &lt;two&gt;</p>\n<p>Second paragraph</p>');
    expect(mail.html).not.toContain('<blockquote');
    expect(mail.text.startsWith('Line one\nline <two>\n\nSecond paragraph\n\n—')).toBe(true);
  });

  it('keeps only the body of a stored full HTML document', () => {
    const mail = renderLetterMail(input({ letter: { ...input().letter, bodyHtml: '<html><head><title>x</title></head><body class="a"><p>Only this</p></body></html>' } }));
    expect(mail.html).toContain('<p>Only this</p>');
    expect(mail.html).not.toContain('<title>');
    expect(mail.html.match(/<body/g)).toHaveLength(1);
  });
});

describe('fillTemplate / escapeHtml', () => {
  it('fills known placeholders (spaces allowed) and leaves unknown ones visible', () => {
    expect(fillTemplate('{{ a }}-{{b}}-{{c}}', { a: '1', b: '<2>' }, escapeHtml)).toBe('1-&lt;2&gt;-{{c}}');
  });

  it('does not re-expand placeholders that appear inside values', () => {
    expect(fillTemplate('{{a}} {{b}}', { a: '{{b}}', b: 'x' }, (v) => v)).toBe('{{b}} x');
  });
});

describe('renderLoginMail', () => {
  it('is a short automated mail with the link in both alternatives and no reply address', () => {
    const mail = renderLoginMail({ loginTokenId: '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c', from: 'MZ <m@mz.test>', to: 'ada@example.test', bounceAddress: 'b+ttoken@reply.mz.test', messageId: '<login.x@reply.mz.test>', link: 'https://mz.test/login/abc&def', expiresInMinutes: 15 });
    expect(mail.replyTo).toBeUndefined();
    expect(mail.envelope).toEqual({ from: 'b+ttoken@reply.mz.test', to: 'ada@example.test' });
    expect(mail.headers).toEqual({ 'Feedback-ID': 'login:transactional:mentorzero', 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' });
    expect(mail.text).toContain('https://mz.test/login/abc&def');
    expect(mail.text).toContain('expires in 15 minutes');
    expect(mail.html).toContain('href="https://mz.test/login/abc&amp;def"');
    expect(mail.messageId).toBe('<login.x@reply.mz.test>');
    expect(mail.text).not.toContain('also starts');
  });

  it('says what confirming the link also starts (a landing-page choice), escaped in HTML', () => {
    const mail = renderLoginMail({
      loginTokenId: '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c', from: 'MZ <m@mz.test>', to: 'ada@example.test', bounceAddress: 'b+ttoken@reply.mz.test', messageId: '<login.x@reply.mz.test>', link: 'https://mz.test/login/abc', expiresInMinutes: 15,
      starts: { topicNames: ['Resilience', 'Art & <Craft>'], sendTime: '06:15', timezone: 'Australia/Adelaide' },
    });
    expect(mail.text).toContain('also starts your daily letters: Resilience, Art & <Craft>, at 06:15 (Australia/Adelaide)');
    expect(mail.html).toContain('Resilience, Art &amp; &lt;Craft&gt;, at 06:15 (Australia/Adelaide)');
  });
});

describe('provider headers on the wire', () => {
  /** The message as nodemailer writes it (its stream transport: the bytes the relay receives). */
  async function wire(provider: LetterMailInput['provider']): Promise<string> {
    const nodemailer = await import('nodemailer');
    const t = nodemailer.createTransport({ streamTransport: true, buffer: true });
    const info = await t.sendMail({ ...renderLetterMail(input({ provider })), disableFileAccess: true, disableUrlAccess: true });
    return (info.message as Buffer).toString('utf8');
  }

  it('writes each provider\'s JSON header as plain JSON the provider can read, never MIME-encoded', async () => {
    expect(await wire('sendgrid')).toContain(`\r\nX-SMTPAPI: {"unique_args":{"mz_letter":"${LETTER_ID}"}}\r\n`);
    expect(await wire('mailgun')).toContain(`\r\nX-Mailgun-Variables: {"mz_letter":"${LETTER_ID}"}\r\n`);
    // Header names are case-insensitive; nodemailer writes its own case (the inbound side reads Postmark's Metadata keys either way).
    expect(await wire('postmark')).toMatch(new RegExp(`\r\nX-PM-Metadata-letter: ${LETTER_ID}\r\n`, 'i'));
    const ses = await wire('ses');
    expect(ses).toMatch(new RegExp(`\r\nX-MZ-Letter: ${LETTER_ID}\r\n`, 'i'));
    expect(ses).toContain(`\r\nMessage-ID: <mz.${LETTER_ID}@reply.mz.test>\r\n`);
    expect(await wire(undefined)).not.toMatch(/X-SMTPAPI|X-Mailgun|X-PM-/);
  });
});
