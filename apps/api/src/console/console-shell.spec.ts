import { assertManifest, renderShell } from './console-shell';

const manifest = { 'main.js': '/assets/main-AAAAAAAA.js', 'main.css': '/assets/main-BBBBBBBB.css', 'letter.css': '/assets/letter-CCCCCCCC.css', 'favicon.svg': '/assets/favicon-DDDDDDDD.svg' };

describe('console shell', () => {
  it('links the hashed bundle with one external module script and no inline code', () => {
    const html = renderShell(assertManifest(manifest));
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('<script type="module" src="/assets/main-AAAAAAAA.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/main-BBBBBBBB.css">');
    expect(html).toContain('<meta name="mz-letter-css" content="/assets/letter-CCCCCCCC.css">');
    expect(html).not.toMatch(/style=|<style/);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('class="skip-link" href="#main"');
  });

  it('names the contact address in a meta tag for the bundle and in the no-JS footer, escaped', () => {
    const html = renderShell(assertManifest(manifest), { contactEmail: 'help+"x"@example.org' });
    expect(html).toContain('<meta name="mz-contact" content="help+&quot;x&quot;@example.org">');
    expect(html).toContain('<a href="mailto:help+&quot;x&quot;@example.org">');
    expect(renderShell(assertManifest(manifest))).not.toContain('mz-contact');
  });

  it('refuses a manifest pointing outside /assets or missing entries', () => {
    expect(() => assertManifest({ ...manifest, 'main.js': 'https://evil.example/x.js' })).toThrow(/malformed/);
    expect(() => assertManifest({ ...manifest, 'main.js': '/assets/"><script>.js' })).toThrow(/malformed/);
    expect(() => assertManifest({ 'main.js': manifest['main.js'] })).toThrow(/malformed/);
  });
});
