import { frameDocument } from './html-frame';

describe('frameDocument', () => {
  it('wraps server-sanitised HTML in a document that forbids scripts and remote loads', () => {
    const doc = frameDocument('<p>Hello</p>', '/assets/letter-ABC.css');
    expect(doc).toContain("script-src 'none'");
    expect(doc).toContain("default-src 'none'");
    expect(doc).toContain("form-action 'none'");
    expect(doc).toContain('<base target="_blank">');
    expect(doc).toContain('<link rel="stylesheet" href="/assets/letter-ABC.css">');
    expect(doc).toContain('<body><p>Hello</p></body>');
  });

  it('escapes the stylesheet URL', () => {
    expect(frameDocument('', '"><script>x</script>')).not.toContain('<script>');
  });
});
