import sanitizeHtml from 'sanitize-html';

/**
 * A line on its own that marks "everything below is quoted history" in text converted from
 * HTML (Outlook's reply header container, for instance, is followed by the unquoted original).
 * A private-use character, so no mail text can contain it by accident after we strip it.
 */
export const QUOTE_CUT = '\uE000';
/** A line standing for an <hr>: a quote starts there when a "From:" line follows it. */
export const HR_MARK = '\uE001';
/**
 * Starts each line of a plain `<blockquote>` (no `type=cite`, no client class): it may be the
 * subscriber's own quotation or history; the text rules decide (an attribution above it or our
 * letter's text in it make it history).
 */
export const QUOTE_MARK = '\uE002';

/**
 * A forward's separator line ("---------- Forwarded message ---------", "Begin forwarded
 * message:", translated). Gmail puts a forward in the same container as a quote, Apple Mail may
 * put the forwarded mail in a cite blockquote right under the header; such a container (one that
 * starts with the header, or comes right after it) is handed to the text rules after a
 * {@link QUOTE_CUT} instead of being removed, so that they treat it as they treat a plain-text
 * forward (history; with nothing written above it, an empty extraction a person reviews). Only
 * when nothing but the forward follows: words written below a forward container were kept before
 * and must not now fall behind a cut (an earlier such container is removed as before).
 */
export const FORWARD_SEPARATOR =
  /^[-–—_=*\s]*(forwarded message|begin forwarded message|weitergeleitete nachricht|anfang der weitergeleiteten nachricht|message transféré|début du message réexpédié|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|vidarebefordrat meddelande|転送されたメッセージ)\s*:?[-–—_=*\s]*$/i;

const BLOCK_TAGS = ['div', 'p', 'br', 'hr', 'li', 'ul', 'ol', 'tr', 'table', 'blockquote', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'section', 'article', 'header', 'footer', 'td', 'th'];
const DROP = 'mzdrop';
const CUT = 'mzcut';
const MARK = 'mzmark';

function classes(attribs: Record<string, string>): string[] {
  return (attribs.class ?? '').split(/\s+/).filter(Boolean);
}

/** Containers that hold only quoted history or a signature: removed with their content. */
function isQuoteContainer(tag: string, attribs: Record<string, string>): boolean {
  const cls = classes(attribs);
  const id = attribs.id ?? '';
  // Apple Mail and Thunderbird (type=cite), Gmail and Yahoo (their classes, below). A bare
  // <blockquote> is marked instead (see QUOTE_MARK).
  if (tag === 'blockquote' && (attribs.type ?? '').toLowerCase() === 'cite') return true;
  // Gmail's <blockquote class="gmail_quote"> sits inside its <div class="gmail_quote"> next to the
  // attribution, and goes with it; found alone (no attribution, e.g. a line the subscriber quoted
  // with the quote button) it is marked like a bare <blockquote>: the text rules decide.
  if (tag === 'blockquote' && cls.includes('gmail_quote')) return false;
  if (cls.some((c) => ['gmail_quote', 'gmail_extra', 'gmail_signature', 'moz-cite-prefix', 'moz-signature', 'protonmail_quote', 'zmail_extra'].includes(c))) return true;
  // Yahoo prefixes its classes per message ("ydp8c1d2e3fyahoo_quoted").
  if (cls.some((c) => c.endsWith('yahoo_quoted'))) return true;
  // Outlook on the web / new Outlook: the signature block.
  return /^(x_)?Signature$/.test(id);
}

/** Elements after which everything is quoted history (the original follows unquoted). */
function isCutMarker(tag: string, attribs: Record<string, string>): boolean {
  const id = attribs.id ?? '';
  if (/^(x_)?(appendonsend|divRplyFwdMsg|OLK_SRC_BODY_SECTION|mail-editor-reference-message-container)$/.test(id)) return true;
  if (tag === 'hr' && /^(x_)?stopSpelling$/.test(id)) return true;
  if (classes(attribs).some((c) => /^(x_)?OutlookMessageHeader$/.test(c))) return true;
  // Outlook desktop wraps the "From: … Sent: …" header of the quoted mail in a div with a thin
  // top border; that border style is its fingerprint.
  const style = (attribs.style ?? '').replace(/\s+/g, ' ').toLowerCase();
  return tag === 'div' && /border-top: ?solid #(e1e1e1|b5c4df)/.test(style);
}

/** The last line with text in it before `end` in `out`, trimmed (the last 20 chunks at most). */
function lastLine(out: string[], end: number): string {
  const lines = out.slice(Math.max(0, end - 20), end).join('').slice(-2000).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].trim()) return lines[i].trim();
  return '';
}

/** The first line with text in it, trimmed (at most the first 2 000 characters are looked at). */
function firstLine(text: string): string {
  const head = text.slice(0, 2000).split('\n');
  for (const l of head) if (l.trim()) return l.trim();
  return '';
}

/**
 * Converts an HTML mail body to plain text, dropping quoted history containers (but for a
 * forward, see FORWARD_SEPARATOR) and marking Outlook's quote start with {@link QUOTE_CUT}.
 *
 * Two passes: sanitize-html (htmlparser2: tolerant of broken markup, full entity decoding,
 * scripts/styles dropped) reduces the input to a handful of known tags without attributes,
 * renaming quote containers and cut markers; that output is regular enough to walk with a
 * simple tag scanner that emits line breaks and applies the drop/cut.
 */
export function htmlToReplyText(html: string, opts: { keepQuotes?: boolean } = {}): string {
  const clean = sanitizeHtml(html, {
    allowedTags: [...BLOCK_TAGS, DROP, CUT, MARK],
    allowedAttributes: {},
    // Deeper tags are dropped (their text kept): 5 000 nested <blockquote>s otherwise cost
    // ~300 ms of event loop (R9). Real mail nests a few dozen levels at most.
    nestingLimit: 200,
    nonTextTags: ['script', 'style', 'head', 'title', 'textarea', 'option', 'noscript', 'xmp'],
    transformTags: {
      '*': (tagName: string, attribs: Record<string, string>) => {
        if (opts.keepQuotes) return { tagName, attribs: {} };
        if (isQuoteContainer(tagName, attribs)) return { tagName: DROP, attribs: {} };
        if (tagName === 'blockquote') return { tagName: MARK, attribs: {} };
        if (isCutMarker(tagName, attribs)) return { tagName: CUT, attribs: {} };
        return { tagName, attribs: {} };
      },
    },
  });

  const out: string[] = [];
  let dropDepth = 0;
  // Where the outermost container being removed started in `out`: its text is written as usual
  // and, when the container closes, taken back out unless it is a forward (FORWARD_SEPARATOR).
  let dropStart = 0;
  let saved = { markDepth: 0, inPre: 0 };
  // Forward containers handed on, as [start, end) in `out`.
  const forwards: [number, number][] = [];
  let markDepth = 0;
  let inPre = 0;
  const tagRe = /<(\/?)([a-z][a-z0-9]*)\s*\/?>/g;
  let last = 0;
  // True when nothing but spaces was written since the last line break (or nothing at all).
  const atLineStart = () => {
    for (let i = out.length - 1; i >= 0; i--) {
      const chunk = out[i].replace(/[ \t]+$/, '');
      if (chunk) return chunk.endsWith('\n');
    }
    return true;
  };
  const emitText = (raw: string) => {
    if (!raw) return;
    const decoded = raw.replace(/[\uE000-\uE002]/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    // HTML collapses whitespace runs (newlines included) except inside <pre>.
    let text = inPre ? decoded : decoded.replace(/[ \t\r\n\f]+/g, ' ');
    if (markDepth > 0 && text.trim()) {
      text = text.replace(/\n/g, `\n${QUOTE_MARK}`);
      if (atLineStart()) text = QUOTE_MARK + text.replace(/^ +/, '');
    }
    out.push(text);
  };
  for (let m = tagRe.exec(clean); m; m = tagRe.exec(clean)) {
    emitText(clean.slice(last, m.index));
    last = tagRe.lastIndex;
    const closing = m[1] === '/';
    const tag = m[2];
    if (tag === DROP) {
      if (!closing && dropDepth === 0) {
        dropStart = out.length;
        saved = { markDepth, inPre };
        markDepth = 0;
        inPre = 0;
      }
      dropDepth = Math.max(0, dropDepth + (closing ? -1 : 1));
      if (closing && dropDepth === 0) {
        const first = firstLine(out.slice(dropStart).join(''));
        if (FORWARD_SEPARATOR.test(first) || FORWARD_SEPARATOR.test(lastLine(out, dropStart))) {
          out.splice(dropStart, 0, `\n${QUOTE_CUT}\n`);
          forwards.push([dropStart, out.length]);
        } else out.length = dropStart;
        ({ markDepth, inPre } = saved);
        out.push('\n');
      }
      continue;
    }
    if (tag === MARK) {
      markDepth = Math.max(0, markDepth + (closing ? -1 : 1));
      if (!atLineStart()) out.push('\n');
      continue;
    }
    if (tag === CUT) {
      if (!closing) out.push(`\n${QUOTE_CUT}\n`);
      continue;
    }
    if (tag === 'pre') inPre = Math.max(0, inPre + (closing ? -1 : 1));
    if (tag === 'td' || tag === 'th') out.push(closing ? ' ' : '');
    else if (tag === 'hr') out.push(`\n${HR_MARK}\n`);
    else if (tag === 'br') out.push('\n');
    // Block edges end the current line but do not add blank lines: Word writes every line as
    // its own <p>, and an empty paragraph (<p>&nbsp;</p>) still yields its blank line.
    else if (!atLineStart()) out.push('\n');
  }
  emitText(clean.slice(last));
  if (dropDepth > 0) out.length = dropStart; // never closed: removed, as before
  // Only the last forward container, and only when no text follows it, goes on to the text rules.
  // (Blanked, not spliced: regions are disjoint, so this stays linear with thousands of them.)
  forwards.forEach(([start, end], k) => {
    const last = k === forwards.length - 1;
    if (last && !/[^\s\uE000-\uE002]/.test(out.slice(end).join(''))) return;
    for (let i = start; i < Math.min(end, out.length); i++) out[i] = '';
  });
  return out
    .join('')
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/g, '').replace(/^ /, ''))
    .join('\n');
}
