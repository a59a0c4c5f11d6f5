import { sanitizeFooterHtml, sanitizeLetterHtml } from './sanitize';

describe('sanitizeLetterHtml', () => {
  it('keeps text markup and safe links, drops scripts, handlers, images, frames and js: urls', () => {
    const out = sanitizeLetterHtml(
      '<p onclick="x()">Hi <em>you</em><script>alert(1)</script><img src=x onerror=alert(1)>' +
        '<a href="javascript:alert(1)">j</a> <a href="https://example.org/a">ok</a><iframe src="x"></iframe><style>p{}</style></p>',
    )!;
    expect(out).toContain('<p>Hi <em>you</em>');
    expect(out).toContain('<a href="https://example.org/a" rel="noopener noreferrer nofollow" target="_blank">ok</a>');
    expect(out).not.toMatch(/script|onerror|onclick|<img|iframe|javascript:|<style/i);
  });

  it('passes null through', () => {
    expect(sanitizeLetterHtml(null)).toBeNull();
  });
});

describe('sanitizeFooterHtml', () => {
  it('keeps placeholders and simple inline styles, drops scripts and unsafe urls', () => {
    const out = sanitizeFooterHtml(
      '<p style="color:#6b6b6b;font-size:13px;position:fixed">Hi <a href="{{login_link}}">settings</a> ' +
        '<a href="javascript:alert(1)">x</a><script>alert(1)</script>{{unsubscribe_link}}</p>',
    );
    expect(out).toContain('<a href="{{login_link}}">settings</a>');
    expect(out).toContain('{{unsubscribe_link}}');
    expect(out).toContain('color:#6b6b6b');
    expect(out).not.toMatch(/position|script|javascript:/);
  });
});
