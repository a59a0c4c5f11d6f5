import type { LetterDraft, ResponseLength } from '@mz/contracts';
import { countWords, languageIssue } from './language-check';

/**
 * What each response length means: a word target for the prompt, the range a letter's body must
 * fall in to be stored (the target with room either side: a model rarely counts exactly), and the
 * completion-token budget sent as max_completion_tokens (the JSON fields around the body included).
 */
export const LENGTH_BUDGETS: Readonly<Record<ResponseLength, { targetMin: number; targetMax: number; minWords: number; maxWords: number; maxTokens: number }>> = {
  short: { targetMin: 100, targetMax: 200, minWords: 50, maxWords: 300, maxTokens: 1000 },
  medium: { targetMin: 200, targetMax: 350, minWords: 100, maxWords: 525, maxTokens: 1600 },
  long: { targetMin: 350, targetMax: 600, minWords: 175, maxWords: 900, maxTokens: 2600 },
};

/** "about 200–350 words, medium": how the prompt states the length (templates follow it with "length"). */
export function lengthInstruction(length: ResponseLength): string {
  const b = LENGTH_BUDGETS[length];
  return `about ${b.targetMin}–${b.targetMax} words, ${length}`;
}

/** What a letter is checked against before it is stored (docs/architecture.md §7, quality guard). */
export interface LetterGuard {
  length: ResponseLength;
  /** The subscriber's last letters, newest first: a new one must not repeat their subject or opening. */
  recent: { localDate: string; subject: string | null; opening: string | null }[];
  /** Everything the prompt gave the model: a link or address is allowed only if it appears here. */
  promptText: string;
  /** The subscription's language (BCP 47): the body must be in it (language-check.ts, a heuristic). */
  language: string;
}

const URL = /\b(?:https?:\/\/|www\.)[^\s<>()"']+/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Words for comparing openings and subjects: case, punctuation and our tag ignored. */
const norm = (s: string) => {
  const t = s.replace(/\[mz:[^\]]*\]/gi, ' ').toLowerCase().normalize('NFKC');
  // All ASCII (as most subjects are): its letters and digits are A-Z, a-z and 0-9, a plain pattern.
  // (Upper case survives: NFKC runs after lowercasing and can map a sign like ℌ to an ASCII H.)
  return (/[^\0-\x7F]/.test(t) ? t.replace(/[^\p{L}\p{N}]+/gu, ' ') : t.replace(/[^A-Za-z0-9]+/g, ' ')).trim();
};
const OPENING_WORDS = 6;

export function wordCount(s: string): number {
  return countWords(s, 'lettersOrDigits');
}

/** The first words of a letter body, normalised (its greeting and first thought). */
export function openingOf(body: string): string {
  // The first few hundred characters hold the opening words; normalising a whole body per letter
  // (and per recent letter) was most of the guard's cost. A cut inside a word can only change the
  // last word of the prefix, so the prefix is trusted when it holds more words than are taken.
  const words = norm(body.slice(0, OPENING_SCAN)).split(' ');
  if (words.length > OPENING_WORDS || body.length <= OPENING_SCAN) return words.slice(0, OPENING_WORDS).join(' ');
  return norm(body).split(' ').slice(0, OPENING_WORDS).join(' ');
}
const OPENING_SCAN = 400;

/**
 * The reasons a well-formed draft may still not be sent, in words the model can act on (they go
 * back to it in the one regeneration request). Empty: the letter may be stored.
 */
export function letterIssues(draft: LetterDraft, guard: LetterGuard): string[] {
  const issues: string[] = [];
  const budget = LENGTH_BUDGETS[guard.length];
  const words = wordCount(draft.body);
  if (words < budget.minWords || words > budget.maxWords) {
    issues.push(`the body has ${words} words; write about ${budget.targetMin}–${budget.targetMax} words`);
  }
  const subject = norm(draft.subject);
  const opening = openingOf(draft.body);
  for (const r of guard.recent) {
    if (r.subject && subject && norm(r.subject) === subject) issues.push(`the subject repeats the letter of ${r.localDate} ("${r.subject.replace(/\s*\[mz:[^\]]*\]\s*$/i, '')}"); choose a new one`);
    if (r.opening && opening.split(' ').length >= 3 && openingOf(r.opening) === opening) issues.push(`the body opens like the letter of ${r.localDate}; begin differently`);
  }
  const given = guard.promptText.toLowerCase();
  const invented = new Set<string>();
  for (const text of [draft.subject, draft.body, draft.summary]) {
    for (const m of text.matchAll(URL)) if (!given.includes(m[0].replace(/[.,;:!?]+$/, '').toLowerCase())) invented.add(m[0].replace(/[.,;:!?]+$/, ''));
    for (const m of text.matchAll(EMAIL)) if (!given.includes(m[0].toLowerCase())) invented.add(m[0]);
  }
  if (invented.size) issues.push(`it contains links or addresses nobody gave you (${[...invented].slice(0, 3).join(', ')}); remove them`);
  const wrongLanguage = languageIssue(draft.body, guard.language);
  if (wrongLanguage) issues.push(wrongLanguage);
  return issues;
}
