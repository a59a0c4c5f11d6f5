import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docPage, renderMarkdown, slug } from './markdown-page';

describe('renderMarkdown', () => {
  it('renders headings with stable ids, tables, code and links', () => {
    const html = renderMarkdown('## 3. The daily letter\n\n| a | b |\n|---|---|\n| `x` | [ops](https://example.org/ops) |\n\n```sh\nnpm start\n```\n');
    expect(html).toContain('<h2 id="3-the-daily-letter">3. The daily letter</h2>');
    expect(html).toContain('<table>');
    expect(html).toContain('<code>x</code>');
    expect(html).toContain('<a href="https://example.org/ops">ops</a>');
    expect(html).toMatch(/<pre><code[^>]*>npm start/);
  });

  it('keeps no script, handler, style, image, frame or javascript: link from a hostile document', () => {
    const hostile = [
      '# Hi <script>alert(1)</script>',
      '<img src=x onerror="alert(2)">',
      '[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) [proto](//evil.example/x)',
      '<a href="javascript&#58;alert(4)">x</a> <iframe src="https://evil.example"></iframe>',
      '<div style="position:fixed" onclick="alert(5)">overlay</div> <form action="https://evil.example"><input type="text"></form>',
      '<svg><script>alert(6)</script></svg> <style>body{display:none}</style>',
    ].join('\n\n');
    const html = renderMarkdown(hostile);
    expect(html).not.toMatch(/<script|onerror|onclick|javascript:|data:text|<img|<iframe|<svg|<style|<form|style=|evil\.example|type="text"/i);
    expect(html).toContain('overlay'); // the text survives, the markup does not
  });

  it('slugs headings the way anchors are cited', () => {
    expect(slug('4.4 Effects and progress')).toBe('44-effects-and-progress');
    expect(slug('1. Shape')).toBe('1-shape');
  });

  it('renders the real documents, and every numbered section of the architecture has its anchor', () => {
    const arch = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'architecture.md'), 'utf8');
    const html = renderMarkdown(arch);
    const sections = [...arch.matchAll(/^## (\d+)\. (.+)$/gm)];
    expect(sections.length).toBeGreaterThanOrEqual(6);
    sections.forEach(([, n], i) => expect(Number(n)).toBe(i + 1)); // numbered 1..n without gaps
    for (const [, n, title] of sections) expect(html).toContain(`id="${slug(`${n}. ${title}`)}"`);
    const page = docPage('Guide', renderMarkdown(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'guide.md'), 'utf8')));
    expect(page).toContain('Mark done');
    expect(page).not.toContain('<script');
  });
});
