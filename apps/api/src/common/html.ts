/**
 * The few server-rendered pages (login confirm, unsubscribe) work without JavaScript: mail
 * clients and scanners open them, and a plain form POST is all they need. Every value written
 * into them goes through `escapeHtml`.
 */
import { escapeHtml } from '@mz/contracts';

/** Tagged template that escapes every interpolation except values produced by `raw()`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0];
  values.forEach((v, i) => {
    out += (Array.isArray(v) ? v.map(toHtml).join('') : toHtml(v)) + strings[i + 1];
  });
  return new RawHtml(out);
}

export class RawHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const raw = (s: string) => new RawHtml(s);
const toHtml = (v: unknown) => (v instanceof RawHtml ? v.value : escapeHtml(v));

const STYLE = `
:root{color-scheme:light dark;--bg:#f7f4ee;--fg:#2a2723;--muted:#6b655c;--card:#fffdf8;--line:#e5e1da;--accent:#3f5f4a}
@media (prefers-color-scheme:dark){:root{--bg:#1d1c1a;--fg:#ece8e1;--muted:#a49d92;--card:#262522;--line:#3a3834;--accent:#8fb89b}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.55 Georgia,"Iowan Old Style",serif}
main{max-width:32rem;margin:10vh auto;padding:2rem 1.5rem;background:var(--card);border:1px solid var(--line);border-radius:12px}
h1{font-size:1.5rem;font-weight:normal;margin:0 0 1rem}p,form{margin:0 0 1rem}.muted{color:var(--muted);font-size:.92rem}
button{font:inherit;font-size:1rem;padding:.7rem 1.4rem;border:0;border-radius:8px;background:var(--accent);color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}a{color:var(--accent)}
`;

/** A complete, self-contained page: no scripts, no external resources. */
export function page(title: string, content: RawHtml): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Mentor Zero</title><style>${STYLE}</style></head>
<body><main>${content.value}</main></body></html>`;
}
