import { languageName, primaryLanguage, SUPPORTED_LANGUAGES, type SupportedLanguage } from '@mz/contracts';

/**
 * Is a letter in the language its subscription asked for? (docs/architecture.md §7, quality
 * guard.) A cheap heuristic, two steps, on the body only:
 *
 * 1. **Script.** The language's likely script (`Intl.Locale(tag).maximize().script`: ru → Cyrl,
 *    ja → Jpan, ar → Arab) must hold at least SCRIPT_SHARE of the body's letters. Catches an
 *    English letter for a Russian or Japanese reader, for any language ICU knows.
 * 2. **Stopwords**, for Latin-script text: the share of very common, distinctive words of each
 *    language we support out of the box (en, de, fr, es). A letter for one of them is refused when
 *    another of them clearly wins; a letter for any other Latin-script language (it, pt, nl…) is
 *    refused only when it is clearly one of those four (it asked for Italian and got English); a
 *    letter for one of the four is also refused when almost none of its words are that language's.
 *
 * Limits, on purpose: texts under MIN_WORDS words are not judged (too few words to count); close
 * relatives outside the four are not told apart (Catalan for Spanish, Dutch for German, Portuguese
 * for Spanish can pass); the subject and summary are not checked (too short to judge, and the
 * subject is read by the reader next to a body that was); a letter that mixes languages passes as
 * long as the asked-for language wins. The LLM is asked plainly for the language; this only
 * catches the model ignoring it.
 */

const SCRIPT_SHARE = 0.8;
const SAMPLE_CHARS = 20_000;
const MIN_WORDS = 20;
/** A rival language must reach this share of the words, and twice the asked-for one's, to refuse. */
const RIVAL_SHARE = 0.08;
/**
 * For a language outside the four the bar is higher: Italian or Portuguese share words with our
 * Spanish and French lists ("il", "con", "se"), while a real English, German, French or Spanish text
 * scores 0.25–0.4.
 */
const RIVAL_SHARE_OTHER = 0.2;
/** A letter for one of the four whose own stopwords are below this share is not in it at all. */
const OWN_MIN_SHARE = 0.06;

// Frequent words of each language that the others do not use (shared ones like "la", "que", "es",
// "no", "de", "en" are left out, so a hit votes for one language only).
export const STOPWORDS: Record<SupportedLanguage, ReadonlySet<string>> = {
  en: new Set(['the', 'and', 'of', 'to', 'is', 'you', 'that', 'it', 'with', 'this', 'your', 'for', 'are', 'have', 'what', 'be', 'was', 'not', 'but', 'on', 'as', 'will', 'today', 'can', 'one', 'when']),
  de: new Set(['der', 'die', 'das', 'und', 'ist', 'nicht', 'ich', 'du', 'sie', 'mit', 'den', 'dem', 'ein', 'eine', 'zu', 'auf', 'für', 'sich', 'auch', 'wie', 'dass', 'wir', 'heute', 'dir', 'dich', 'dein', 'deine', 'oder', 'aber', 'wenn']),
  fr: new Set(['le', 'les', 'et', 'est', 'une', 'des', 'du', 'pas', 'qui', 'vous', 'je', 'pour', 'dans', 'ce', 'sur', 'avec', 'nous', 'mais', 'au', 'aux', 'votre', 'tu', 'il', 'elle', 'aujourd', 'cette', 'ou', 'être']),
  es: new Set(['el', 'los', 'las', 'y', 'una', 'del', 'por', 'para', 'con', 'lo', 'se', 'su', 'como', 'más', 'pero', 'hoy', 'muy', 'tu', 'tus', 'te', 'usted', 'esta', 'este', 'hay', 'sin', 'ser']),
};

// Scripts as Unicode Script property values; ICU's combined scripts spelled out.
const SCRIPT_SETS: Record<string, string[]> = { Jpan: ['Hira', 'Kana', 'Han'], Hans: ['Han'], Hant: ['Han'], Kore: ['Hang', 'Han'] };

/** The script a tag is written in (ICU's likely subtags), or null when ICU does not know. */
export function scriptOf(tag: string): string | null {
  const known = SCRIPTS.get(tag);
  if (known !== undefined) return known;
  let script: string | null;
  try {
    script = new Intl.Locale(tag).maximize().script ?? null;
  } catch {
    script = null;
  }
  if (SCRIPTS.size < 256) SCRIPTS.set(tag, script);
  return script;
}
// Tags are few (one per subscription language); maximizing one costs an ICU lookup per letter.
const SCRIPTS = new Map<string, string | null>();

/**
 * Code points left of `text` once `drop` has removed everything else: the replace runs inside the
 * regex engine, not a JS loop per character (this check runs on every letter composed).
 */
function countKept(text: string, drop: RegExp): number {
  const kept = text.replace(drop, '');
  return kept.length - kept.replace(/[^\uDC00-\uDFFF]+/g, '').length; // a surrogate pair is one code point
}

/**
 * The characters of `text` that are not ASCII. A Unicode property pattern costs the regex engine
 * about ten times more per character than a plain one, and most of a Latin-script letter is ASCII:
 * the checks below count ASCII letters (all of them `\p{L}`, all Latin script) with a plain pattern
 * and give only this rest to the Unicode ones. Removing ASCII characters never splits a surrogate
 * pair, so the counts are those of the whole text.
 */
const nonAscii = (text: string) => text.replace(/[\0-\x7F]+/g, '');
const asciiLetters = (text: string) => text.replace(/[^A-Za-z]+/g, '').length;

/** Words holding a letter (`/\p{L}/`), or a letter or a digit (`/[\p{L}\p{N}]/`), per kind of text. */
const WORD_PATTERNS = {
  letters: { ascii: /(?<!\S)\S*?[A-Za-z]\S*/g, unicode: /(?<!\S)\S*?\p{L}\S*/gu, any: /\p{L}/u },
  lettersOrDigits: { ascii: /(?<!\S)\S*?[A-Za-z0-9]\S*/g, unicode: /(?<!\S)\S*?[\p{L}\p{N}]\S*/gu, any: /[\p{L}\p{N}]/u },
};

/**
 * How many whitespace-separated words of `text` hold a letter (or, with `lettersOrDigits`, a letter
 * or a digit): each such word is one match, and a match can only start where a word does (the
 * look-behind), so a long run without a letter costs one pass, not one per character. Without a
 * non-ASCII letter or digit in the text the plain pattern finds the same words.
 */
export function countWords(text: string, kind: keyof typeof WORD_PATTERNS = 'letters'): number {
  const p = WORD_PATTERNS[kind];
  const rest = nonAscii(text);
  return text.match(rest && p.any.test(rest) ? p.unicode : p.ascii)?.length ?? 0;
}

/** Everything but letters. */
const NOT_LETTER = /\P{L}+/gu;
const PATTERNS = new Map<string, { drop: RegExp; latin: boolean } | null>();
/** Everything but the letters of `script`; `latin` when those include the ASCII letters. */
function scriptPattern(script: string): { drop: RegExp; latin: boolean } | null {
  if (PATTERNS.has(script)) return PATTERNS.get(script)!;
  const parts = SCRIPT_SETS[script] ?? [script];
  let pattern: { drop: RegExp; latin: boolean } | null;
  try {
    // Letters only: the share is of the body's letters.
    const drop = new RegExp(`(?:\\P{L}|[^${parts.map((p) => `\\p{Script=${p}}`).join('')}])+`, 'gu');
    pattern = { drop, latin: countKept('Az', drop) === 2 };
  } catch {
    pattern = null;
  }
  if (PATTERNS.size < 64) PATTERNS.set(script, pattern);
  return pattern;
}

/**
 * The share of `text`'s letters written in `script` (ICU's combined scripts spelled out); null when
 * it has no letters, undefined when the script is unknown (nothing to judge by).
 */
export function scriptShare(text: string, script: string | null): number | null | undefined {
  const ascii = asciiLetters(text);
  const rest = nonAscii(text);
  const letters = ascii + (rest ? countKept(rest, NOT_LETTER) : 0);
  if (!letters) return null;
  const pattern = script ? scriptPattern(script) : null;
  if (!pattern) return undefined;
  return ((pattern.latin ? ascii : 0) + (rest ? countKept(rest, pattern.drop) : 0)) / letters;
}

/** Each stopword and the languages whose list has it ("tu" is French and Spanish). */
const STOPWORD_LANGUAGES = new Map<string, SupportedLanguage[]>();
for (const lang of SUPPORTED_LANGUAGES) for (const w of STOPWORDS[lang]) STOPWORD_LANGUAGES.set(w, [...(STOPWORD_LANGUAGES.get(w) ?? []), lang]);

/** Share of each supported language's stopwords among the words of `text`. */
export function stopwordShares(text: string): Record<SupportedLanguage, number> {
  const lower = text.toLowerCase().normalize('NFC');
  // The words are the runs of letters. When every letter is ASCII (an English letter, its curly
  // quotes and dashes included) a plain pattern finds the same runs as the Unicode one.
  const rest = nonAscii(lower);
  const words = (rest && /\p{L}/u.test(rest) ? lower.match(/\p{L}+/gu) : lower.match(/[A-Za-z]+/g)) ?? [];
  const hits = Object.fromEntries(SUPPORTED_LANGUAGES.map((l) => [l, 0])) as Record<SupportedLanguage, number>;
  for (const w of words) for (const lang of STOPWORD_LANGUAGES.get(w) ?? []) hits[lang]++;
  const shares = {} as Record<SupportedLanguage, number>;
  for (const lang of SUPPORTED_LANGUAGES) shares[lang] = words.length ? hits[lang] / words.length : 0;
  return shares;
}

/**
 * Null when the body may be in `tag` (or cannot be judged); otherwise the reason, in words the
 * model can act on (it goes back to it in the one regeneration request).
 */
export function languageIssue(fullBody: string, tag: string): string | null {
  // A letter's language shows in its first pages; a hostile megabyte body is judged on those too.
  const body = fullBody.slice(0, SAMPLE_CHARS);
  const script = scriptOf(tag);
  const share = scriptShare(body, script);
  if (share === null) return null;
  // Named only when there is something to say (an ICU lookup: this runs on every letter).
  const name = () => languageName(tag);
  if (share !== undefined && share < SCRIPT_SHARE) return `the letter must be written in ${name()} (${tag}), but most of it is not in its script; write the whole letter in ${name()}`;
  if (script !== 'Latn') return null;
  if (countWords(body) < MIN_WORDS) return null;
  const shares = stopwordShares(body);
  const asked = primaryLanguage(tag);
  const supported = (SUPPORTED_LANGUAGES as readonly string[]).includes(asked);
  const own = supported ? shares[asked as SupportedLanguage] : 0;
  const rival = SUPPORTED_LANGUAGES.filter((l) => l !== asked).sort((a, b) => shares[b] - shares[a])[0];
  if (shares[rival] >= (supported ? RIVAL_SHARE : RIVAL_SHARE_OTHER) && shares[rival] >= 2 * own) {
    return `the letter must be written in ${name()} (${tag}), but it reads as ${languageName(rival)}; write the subject, body and summary in ${name()}`;
  }
  if (supported && own < OWN_MIN_SHARE) return `the letter must be written in ${name()} (${tag}), but it does not read as ${name()}; write the subject, body and summary in ${name()}`;
  return null;
}
