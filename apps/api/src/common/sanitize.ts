import sanitizeHtml from 'sanitize-html';

/**
 * HTML that came from an LLM or from mail is sanitised again on the way out, whatever was done
 * when it was stored: an allowlist of text markup, links only to http(s)/mailto, no attributes
 * that run code, no styles, no images (tracking pixels) and no forms.
 */
const LETTER_HTML: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 'i', 'b', 'u', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'hr', 'a', 'span', 'div', 'small', 'code', 'pre'],
  allowedAttributes: { a: ['href', 'title', 'rel', 'target'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Links open outside the console and cannot reach back into it.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
};

export function sanitizeLetterHtml(input: string | null | undefined): string | null {
  if (input === null || input === undefined) return null;
  return sanitizeHtml(input, LETTER_HTML);
}

/**
 * Footer templates are HTML an admin writes; they go into every letter, so they are limited to
 * simple markup with a few inline styles (mail clients ignore stylesheets). Placeholders such as
 * {{unsubscribe_link}} survive because they are plain text or relative hrefs.
 */
const FOOTER_HTML: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 'i', 'b', 'small', 'span', 'div', 'a', 'hr'],
  allowedAttributes: { '*': ['style'], a: ['href', 'title', 'style'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  allowedStyles: {
    '*': {
      color: [/^#[0-9a-f]{3,8}$/i, /^[a-z]+$/i, /^rgba?\([\d\s.,%]+\)$/i],
      'font-size': [/^\d+(\.\d+)?(px|em|rem|%)$/],
      'line-height': [/^\d+(\.\d+)?(px|em|rem|%)?$/],
      'text-align': [/^(left|right|center)$/],
      'border-top': [/^[\w\s#().,%-]+$/],
      'padding-top': [/^\d+(px|em|rem)$/],
      'margin-top': [/^\d+(px|em|rem)$/],
      margin: [/^[\d\s.pxemr%]+$/],
    },
  },
};

export function sanitizeFooterHtml(input: string): string {
  return sanitizeHtml(input, FOOTER_HTML);
}
