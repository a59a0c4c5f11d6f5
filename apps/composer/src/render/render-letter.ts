import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * Output hygiene for whatever the model (or the offline composer) wrote. Pure functions: the
 * subject becomes one clean, capped line ending in the `[mz:<code>]` tag that replies are matched
 * by; the body becomes sanitised HTML (a tight allowlist) plus a plain-text part.
 */

export const SUBJECT_MAX_CHARS = 120;

// C0/C1 controls, bidi overrides/isolates (they can disguise text), zero-width and BOM characters.
const INVISIBLE = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
const LINE_BREAKS = /[\r\n\t\v\f\u0085\u2028\u2029]+/g;
const OUR_TAG = /\[\s*mz\s*:[^\]]*\]/gi;

/** Plain single-line subject: no HTML, no line breaks or controls, no tag of ours, capped. */
export function normaliseSubject(raw: string, fallback = 'Your letter for today'): string {
  let s = htmlToText(raw)
    .replace(LINE_BREAKS, ' ')
    .replace(INVISIBLE, '')
    .replace(OUR_TAG, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (s.length > SUBJECT_MAX_CHARS) {
    const cut = s.slice(0, SUBJECT_MAX_CHARS - 1);
    const atWord = cut.lastIndexOf(' ');
    s = `${(atWord > SUBJECT_MAX_CHARS * 0.6 ? cut.slice(0, atWord) : cut).replace(/[\s,;:.–—-]+$/, '')}…`;
  }
  return s || fallback;
}

/** The final subject line: normalised text + ` [mz:<code>]`. */
export function renderSubject(raw: string, topicCode: string, fallback?: string): string {
  return `${normaliseSubject(raw, fallback)} [mz:${topicCode}]`;
}

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 'blockquote', 'ul', 'ol', 'li', 'a'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer' }) },
};

const CONTENT_ELEMENTS = /<(script|style|iframe|object|embed|noscript|template|textarea|title|svg|math)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Raw HTML the model wrote is never passed through as markup: it is reduced to its text (script
 * and style content dropped). An HTML *block* would otherwise swallow the paragraph it starts,
 * so its text is kept as a paragraph of its own.
 */
const markdown = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html(token) {
      const text = escapeHtml(htmlToText(token.text).trim());
      if (!('block' in token) || !token.block) return text;
      return text ? `<p>${text}</p>\n` : '';
    },
  },
});

/** Body text (plain paragraphs, light Markdown) → sanitised HTML and plain text. */
export function renderBody(raw: string): { html: string; text: string } {
  const body = raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g, '')
    // Markdown tokenises inline `<script>…</script>` as two tags around plain text; drop such
    // elements with their content first so no script text survives as prose.
    .replace(CONTENT_ELEMENTS, '')
    .trim();
  const html = sanitizeHtml(markdown.parse(body) as string, ALLOWED)
    // A link whose href was refused (javascript:, data:) keeps its text and loses the anchor.
    .replace(/<a rel="noopener noreferrer">([\s\S]*?)<\/a>/g, '$1')
    .replace(/<p>\s+/g, '<p>')
    .replace(/\s+<\/p>/g, '</p>')
    .trim();
  const text = htmlToText(plainLinks(body))
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { html, text };
}

export interface RenderedLetter { subject: string; html: string; text: string }

export function renderLetter(draft: { subject: string; body: string }, topicCode: string, subjectFallback?: string): RenderedLetter {
  const { html, text } = renderBody(draft.body);
  return { subject: renderSubject(draft.subject, topicCode, subjectFallback), html, text };
}

const MD_LINK = /\[([^\]\n]*)\]\(\s*([^)\s]*)[^)]*\)/g;

/** Markdown links in the plain-text part: `label (url)` for safe schemes, just `label` otherwise. */
function plainLinks(s: string): string {
  return s.replace(MD_LINK, (_m, label: string, url: string) => (/^(https?:|mailto:)/i.test(url) ? `${label} (${url})` : label));
}

/** Every tag removed (script/style with their content), entities decoded back to characters. */
export function htmlToText(s: string): string {
  // No tag and no entity: the parser would hand the text back unchanged (its escapes of > and "
  // are decoded below), and a letter's plain text usually has neither. A spec holds the two equal.
  if (!/[<&]/.test(s)) return s;
  const stripped = sanitizeHtml(s, { allowedTags: [], allowedAttributes: {} });
  return stripped.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}
