import { htmlToReplyText } from './html-text';

/** The letter a reply answers, as we sent it (letter.body_text / body_html, footer included). */
export interface OurLetter {
  text?: string | null;
  html?: string | null;
  /** What the mailer added when sending: the closing quote, the footer's text. */
  extra?: readonly string[];
}

/** Longest letter text indexed: our letters are short; a bound keeps the index cheap. */
const MAX_LETTER_CHARS = 200_000;
/** A paragraph is our letter's when at least this share of its word triples occur in the letter. */
const MIN_SHARED = 0.7;
/** Paragraphs with fewer words are never taken for our letter: "Done, thanks" must survive. */
const MIN_WORDS = 4;

/** A paragraph is judged by its first 8 000 characters: enough to tell, bounded in time. */
function head(lines: string[]): string {
  let s = '';
  for (const l of lines) {
    s += `${l} `;
    if (s.length > 8000) break;
  }
  return s.slice(0, 8000);
}

/**
 * Words of a text, for fuzzy comparison: case, punctuation, quote markers (">", "|"), line breaks,
 * Unicode forms and the link text HTML conversion leaves behind do not count.
 */
export function letterWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * The word triples of the letter we sent, so that any paragraph of a reply can be recognised as
 * our letter coming back — quoted with ">", pasted unquoted under an Outlook header, re-wrapped,
 * converted from HTML or partly trimmed — in time linear in the paragraph.
 */
export class LetterIndex {
  private readonly triples = new Set<string>();
  private readonly words = new Set<string>();

  private constructor(texts: string[]) {
    for (const t of texts) {
      const w = letterWords(t.slice(0, MAX_LETTER_CHARS));
      for (const x of w) this.words.add(x);
      for (let i = 0; i + 2 < w.length; i++) this.triples.add(`${w[i]} ${w[i + 1]} ${w[i + 2]}`);
    }
  }

  static of(letter: OurLetter): LetterIndex {
    const texts: string[] = [];
    if (letter.text) texts.push(letter.text);
    if (letter.html) texts.push(htmlToReplyText(letter.html, { keepQuotes: true }));
    for (const t of letter.extra ?? []) texts.push(t);
    return new LetterIndex(texts);
  }

  get empty(): boolean {
    return this.triples.size === 0;
  }

  /** Whether every word of a paragraph is a word of our letter (for short ones amid our text). */
  covers(lines: string[]): boolean {
    const w = letterWords(head(lines));
    return w.length > 0 && w.every((x) => this.words.has(x));
  }

  /** Whether a paragraph (its lines) is text of our letter. */
  matches(lines: string[]): boolean {
    if (this.empty) return false;
    const w = letterWords(head(lines));
    if (w.length < MIN_WORDS) return false;
    let shared = 0;
    const n = w.length - 2;
    for (let i = 0; i < n; i++) if (this.triples.has(`${w[i]} ${w[i + 1]} ${w[i + 2]}`)) shared++;
    return shared / n >= MIN_SHARED;
  }
}
