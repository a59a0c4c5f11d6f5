import sanitizeHtml from 'sanitize-html';
import { htmlToText, normaliseSubject, renderBody, renderLetter, renderSubject, SUBJECT_MAX_CHARS } from './render-letter';

describe('renderSubject', () => {
  it('turns a CRLF subject into one clean line and appends the topic tag', () => {
    const s = renderSubject('On time\r\nBcc: victim@example.com\r\n\tand  tabs', 'resilience');
    expect(s).toBe('On time Bcc: victim@example.com and tabs [mz:resilience]');
    expect(s).not.toMatch(/[\r\n\t]/);
  });

  it('removes control and bidi characters, collapses spaces', () => {
    expect(normaliseSubject('A\u0000B\u0007 \u202Eevil\u202C  \u200Bword\u0085x')).toBe('AB evil word x');
  });

  it('removes HTML tags and any [mz:…] tag the model wrote, so only ours remains', () => {
    const s = renderSubject('<b>Bold</b> <script>alert(1)</script>start [mz:other] [MZ: focus ]', 'focus');
    expect(s).toBe('Bold start [mz:focus]');
    expect(s.match(/\[mz:/g)).toHaveLength(1);
  });

  it('caps the length at a word boundary with an ellipsis', () => {
    const long = 'word '.repeat(60);
    const s = normaliseSubject(long);
    expect(s.length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
    expect(s.endsWith('word…')).toBe(true);
  });

  it('falls back when nothing printable is left', () => {
    expect(renderSubject(' \r\n<i></i> ', 'writing', 'Writing, today')).toBe('Writing, today [mz:writing]');
  });
});

describe('renderBody', () => {
  it('turns plain paragraphs into <p> with line breaks kept', () => {
    const { html, text } = renderBody('Dear friend,\r\n\r\nFirst paragraph\r\nsecond line.\r\n\r\nWarmly,\r\nSeneca');
    expect(html).toBe('<p>Dear friend,</p>\n<p>First paragraph<br />second line.</p>\n<p>Warmly,<br />Seneca</p>');
    expect(text).toBe('Dear friend,\n\nFirst paragraph\nsecond line.\n\nWarmly,\nSeneca');
  });

  it('strips <script>, event handlers and javascript: URLs from the HTML', () => {
    const raw = [
      'Hello <script>alert("x")</script>there.',
      '',
      '<img src="x" onerror="alert(1)"> <a href="javascript:alert(1)" onclick="steal()">click</a>',
      '',
      '[also](javascript:alert(2)) and <iframe src="https://evil.example"></iframe><style>p{}</style>',
    ].join('\n');
    const { html, text } = renderBody(raw);
    expect(html).not.toMatch(/<script|alert\("x"\)|onerror|onclick|javascript:|<img|<iframe|<style/i);
    expect(html).toContain('click');
    expect(html).toContain('also');
    expect(text).not.toMatch(/<[a-z/]/i);
    expect(text).not.toContain('alert("x")');
    expect(text).toContain('Hello there.');
    expect(text).not.toContain('javascript:');
  });

  it('keeps the text of a paragraph that starts with raw HTML as a paragraph', () => {
    const { html } = renderBody('Dear friend,\n\n<script>alert(1)</script>Take one breath. <img src=x onerror="alert(1)">\n\n<div onclick="x">Inside a <b>div</b></div>\n\nBye');
    expect(html).toBe('<p>Dear friend,</p>\n<p>Take one breath.</p>\n<p>Inside a div</p>\n<p>Bye</p>');
  });

  it('keeps the allowlisted formatting and safe links', () => {
    const { html } = renderBody('Some *emphasis* and **strength**.\n\n> a quoted line\n\n- one\n- two\n\nSee [Faraday](https://example.org/candle) or [mail](mailto:a@example.org).\n\n# Heading');
    expect(html).toContain('<em>emphasis</em>');
    expect(html).toContain('<strong>strength</strong>');
    expect(html).toMatch(/<blockquote>\s*<p>a quoted line<\/p>\s*<\/blockquote>/);
    expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
    expect(html).toContain('<a href="https://example.org/candle" rel="noopener noreferrer">Faraday</a>');
    expect(html).toContain('<a href="mailto:a@example.org" rel="noopener noreferrer">mail</a>');
    expect(html).not.toContain('<h1');
    expect(html).toContain('Heading');
    expect(renderBody('See [Faraday](https://example.org/candle).').text).toBe('See Faraday (https://example.org/candle).');
  });

  it('plain text keeps characters that only look like markup', () => {
    expect(renderBody('If a < b & c > d, then "quote" it\'s fine — done.').text).toBe('If a < b & c > d, then "quote" it\'s fine — done.');
  });
});

describe('renderLetter / htmlToText', () => {
  it('renders subject and body together', () => {
    const r = renderLetter({ subject: 'Hi\nthere', body: 'Para one.\n\nPara two.' }, 'curiosity');
    expect(r).toEqual({ subject: 'Hi there [mz:curiosity]', html: '<p>Para one.</p>\n<p>Para two.</p>', text: 'Para one.\n\nPara two.' });
  });

  it('drops script and style content entirely', () => {
    expect(htmlToText('a<script>var x = 1;</script>b<style>.c{}</style>c')).toBe('abc');
  });

  it('gives text without tags or entities back as the parser would, without parsing it', () => {
    // The full path, as htmlToText ran on every text before it skipped the parser.
    const parsed = (t: string) => sanitizeHtml(t, { allowedTags: [], allowedAttributes: {} })
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    const pieces = ['Dear', 'friend', '>', '"', "'", '“', '”', '—', ' ', '\n', '\r\n', '\t', '\u00a0', '\u0000', 'ﬁ', '😀', 'é', 'Дорогой', '=', '/', ';', '#', 'x39', '[link](https://example.org/?a=1)'];
    let seed = 11;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
    for (let n = 0; n < 300; n++) {
      const text = Array.from({ length: next() % 60 }, () => pieces[next() % pieces.length]).join('');
      expect([n, htmlToText(text)]).toEqual([n, parsed(text)]);
    }
    // With a tag or an entity it still parses.
    expect(htmlToText('Fish &amp; chips &lt;3')).toBe('Fish & chips <3');
    expect(htmlToText('one <b>bold</b> word')).toBe('one bold word');
  });
});
