import { h } from '../lib/dom';

/**
 * Shows HTML that came from the LLM, mail or an admin's footer template. The server has already
 * sanitised it (apps/api/src/common/sanitize.ts); we still never put it into the console's own
 * DOM. It goes into an iframe that:
 * - has `sandbox` without `allow-scripts` (nothing in it can run, whatever slipped through),
 * - carries its own CSP meta forbidding scripts, objects and remote loads,
 * - has `allow-same-origin` only so the console can read the content height to size the frame
 *   (safe without `allow-scripts`: the document cannot act on that origin),
 * - opens links in a new tab (`allow-popups-to-escape-sandbox`), with no referrer.
 */
export function htmlFrame(html: string, opts: { title: string; stylesheet?: string; minHeight?: number }): HTMLIFrameElement {
  const frame = h('iframe', {
    class: 'html-frame',
    title: opts.title,
    sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    referrerpolicy: 'no-referrer',
    loading: 'lazy',
  });
  frame.srcdoc = frameDocument(html, opts.stylesheet ?? letterStylesheet() ?? null);
  const fit = () => {
    const doc = frame.contentDocument;
    if (!doc?.documentElement) return;
    const height = Math.max(opts.minHeight ?? 80, doc.documentElement.scrollHeight);
    frame.height = String(height);
  };
  frame.addEventListener('load', () => {
    fit();
    // Fonts and late layout can change the height once more.
    setTimeout(fit, 150);
  });
  return frame;
}

/** The srcdoc document around the sanitised fragment (exported for unit tests). */
export function frameDocument(html: string, stylesheet: string | null): string {
  const csp = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src data:; font-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";
  const link = stylesheet ? `<link rel="stylesheet" href="${escapeAttr(stylesheet)}">` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><base target="_blank">${link}</head><body>${html}</body></html>`;
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** URL of the reading stylesheet, announced by the HTML shell in a meta tag. */
export function letterStylesheet(): string | undefined {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="mz-letter-css"]');
  return meta?.content || undefined;
}
