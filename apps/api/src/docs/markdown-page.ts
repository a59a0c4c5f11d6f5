import { Marked, type Tokens } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { escapeHtml } from '@mz/contracts';

/**
 * Markdown from docs/ rendered to a page. The files are ours, but the output is sanitised anyway
 * (an allowlist: text markup, tables, code, links to http(s)/mailto/same-page anchors; no raw
 * HTML that runs, no styles, no images), so a careless or hostile edit of a document cannot put
 * script on our origin. Headings get stable ids (`## 3. The daily letter` → `#3-the-daily-letter`)
 * so code and other pages can link a section.
 */
export function slug(text: string): string {
  return text.toLowerCase().replace(/<[^>]*>/g, '').replace(/&[a-z#0-9]+;/g, '').replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s+/g, '-');
}

const marked = new Marked({
  gfm: true,
  renderer: {
    heading(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Heading): string {
      const inner = this.parser.parseInline(token.tokens);
      return `<h${token.depth} id="${escapeHtml(slug(token.text))}">${inner}</h${token.depth}>\n`;
    },
  },
});

const DOC_HTML: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'em', 'strong', 'del', 'code', 'pre', 'blockquote',
    'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'input',
  ],
  allowedAttributes: { a: ['href', 'title'], 'h1': ['id'], 'h2': ['id'], 'h3': ['id'], 'h4': ['id'], th: ['align'], td: ['align'], input: ['type', 'checked', 'disabled'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Only task-list checkboxes survive, and they cannot be ticked.
  exclusiveFilter: (frame) => frame.tag === 'input' && frame.attribs.type !== 'checkbox',
};

export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(marked.parse(markdown, { async: false }), DOC_HTML);
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f7f4ee;--fg:#2a2723;--muted:#6b655c;--card:#fffdf8;--line:#e5e1da;--accent:#3f5f4a;--code:#efebe3}
@media (prefers-color-scheme:dark){:root{--bg:#1d1c1a;--fg:#ece8e1;--muted:#a49d92;--card:#262522;--line:#3a3834;--accent:#8fb89b;--code:#302e2a}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.6 Georgia,"Iowan Old Style",serif}
header.bar,main,footer.bar{max-width:52rem;margin:0 auto;padding:1rem 1.5rem}
header.bar{display:flex;gap:1.2rem;align-items:baseline;font-size:.95rem}header.bar strong{margin-right:auto}
main{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem 2rem 2rem}
a{color:var(--accent)}h1,h2,h3{font-weight:normal;line-height:1.25}h2{margin-top:2rem;border-top:1px solid var(--line);padding-top:1rem}
code,pre{font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--code);border-radius:4px}code{padding:0 .25rem}
pre{padding:.8rem 1rem;overflow:auto}pre code{padding:0;background:none}
table{border-collapse:collapse;display:block;overflow:auto;font-size:.93rem}th,td{border:1px solid var(--line);padding:.35rem .6rem;vertical-align:top;text-align:left}
blockquote{margin:1rem 0;padding-left:1rem;border-left:3px solid var(--line);color:var(--muted)}
footer.bar{color:var(--muted);font-size:.9rem}a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
`;

/** A complete page around rendered markdown: no scripts, no external resources. */
export function docPage(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>${escapeHtml(title)} · Mentor Zero</title><style>${STYLE}</style></head>
<body><header class="bar"><strong><a href="/">Mentor Zero</a></strong><a href="/guide">Guide</a><a href="/architecture">Architecture</a><a href="/letters">My letters</a></header>
<main>${bodyHtml}</main>
<footer class="bar">Rendered from <code>docs/</code> in the repository.</footer></body></html>`;
}
