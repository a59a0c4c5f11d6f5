import { LetterDraft } from '@mz/contracts';
import type { ComposeContext } from '../compose-context';
import { seedFrom } from '../prompt/build-prompt';
import { libraryFor, type Passage } from './offline-passages';

/**
 * The offline composer: when no LLM is configured, a decent letter from bundled public-domain
 * passages and our own templates (model = 'offline'). Pure and deterministic for a letter (same
 * id and local date → same letter, so a retry does not change it), varied from day to day, and
 * never reusing on consecutive days a passage, angle, opening or closing that the recent letters'
 * variation tags show.
 */

export const OFFLINE_MODEL = 'offline';
/**
 * The offline composer writes English only: its passages, openings and closings are English, and
 * a template translation would read worse than an honest English letter. A letter it writes is
 * stored with `language = 'en'` whatever the subscription asks (LETTER_COMPOSED records the
 * requested language), and the settings page tells the reader that letters fall back to English
 * without an LLM (docs/architecture.md §3.3).
 */
export const OFFLINE_LANGUAGE = 'en';

const OPENINGS = [
  'A short letter for your {weekday}.',
  'Here is today\'s letter on {topic}: one passage, one thought, one thing to try.',
  'Let us take a few quiet minutes for {topic} before the day fills up.',
  'Today\'s letter is brief on purpose — read it slowly.',
  'Something to carry with you this {weekday}.',
  'A passage worth sitting with, and a small experiment to go with it.',
];

const CLOSINGS = [
  'Reply and tell me how it went — a word is enough, or simply "done".',
  'If you try it, reply with "done"; if something got in the way, tell me what. Both are useful.',
  'Small steps count. Reply when you have taken this one.',
  'Write back with a line about what you noticed. I read every reply.',
  'That is all for today. Tomorrow there will be another page.',
];

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const passageTags = (p: Passage) => [`passage:${p.id}`, `angle:${p.angle}`];

export function composeOffline(ctx: ComposeContext): LetterDraft {
  const library = libraryFor(ctx.persona.name, ctx.topic.code);
  const recentTags = ctx.recentLetters.map((l) => l.variationTags);
  const seed = (part: string) => seedFrom(`${ctx.letter.id}:${ctx.letter.localDate}:${part}`);

  const passage = pickAvoiding(library.passages, passageTags, recentTags, seed('passage'));
  const openingIdx = pickAvoiding(OPENINGS.map((_, i) => i), (i) => [`opening:${i}`], recentTags, seed('opening'));
  const closingIdx = pickAvoiding(CLOSINGS.map((_, i) => i), (i) => [`closing:${i}`], recentTags, seed('closing'));
  const weekday = WEEKDAYS[new Date(`${ctx.letter.localDate}T12:00:00Z`).getUTCDay()] ?? 'day';

  const fill = (s: string) => s.replace(/\{weekday\}/g, weekday).replace(/\{topic\}/g, ctx.topic.name.toLowerCase());
  const name = ctx.reader.name ? inlineReaderText(ctx.reader.name, 60) : '';
  const source = `${passage.author}, ${passage.work}${passage.translator ? ` (tr. ${passage.translator})` : ''}`;

  const paragraphs = [
    name ? `Dear ${name},` : 'Dear friend,',
    `${fill(OPENINGS[openingIdx])} ${streakLine(ctx)}`,
    library.voiceNote ? `${library.voiceNote} Today: ${passage.author}.` : null,
    `From ${source}:`,
    `> ${passage.text}`,
    passage.reflection,
    personalLine(ctx),
    `**Today's practice:** ${passage.practice}`,
    CLOSINGS[closingIdx],
    library.signOff,
  ].filter((p): p is string => Boolean(p));

  return LetterDraft.parse({
    subject: passage.title,
    body: paragraphs.join('\n\n'),
    summary: `A passage from ${passage.author} on ${passage.angle.replace(/-/g, ' ')}, with one practice for today.`,
    themes: [passage.angle, ctx.topic.code].filter((t, i, all) => all.indexOf(t) === i),
    tone: library.tone,
    advice_focus: clip(passage.practice, 200),
    variation_tags: [...passageTags(passage), `opening:${openingIdx}`, `closing:${closingIdx}`],
  });
}

/**
 * Deterministic choice by `r` among the items whose tags none of the recent letters used. When
 * everything was used recently, the window shrinks (oldest letters forgotten first) down to the
 * previous letter only, so consecutive letters always differ when more than one item exists.
 */
export function pickAvoiding<T>(items: readonly T[], tagsOf: (item: T) => string[], recentTags: readonly string[][], r: number): T {
  for (let window = recentTags.length; window >= 1; window--) {
    const avoid = new Set(recentTags.slice(0, window).flat());
    const fresh = items.filter((item) => tagsOf(item).every((t) => !avoid.has(t)));
    if (fresh.length) return fresh[Math.floor(r * fresh.length) % fresh.length];
  }
  return items[Math.floor(r * items.length) % items.length];
}

function streakLine(ctx: ComposeContext): string {
  const n = ctx.streak;
  const topic = ctx.topic.name.toLowerCase();
  if (n >= 7) return `${n} days marked done in a row: by now the practice is less something you do than part of how you live.`;
  if (n >= 3) return `${n} days marked done in a row — the habit is beginning to carry some of its own weight.`;
  if (n >= 1) return n === 1 ? 'You marked the last letter done. That is how every streak starts.' : 'Two days marked done in a row. Keep the thread going.';
  if (ctx.letterNumber <= 1) return `This is your first letter on ${topic}. There is nothing to catch up on — only a place to begin.`;
  return 'Whatever happened with the last letters, today is a fresh page.';
}

function personalLine(ctx: ComposeContext): string | null {
  const lines: string[] = [];
  const note = ctx.recentNotes[0];
  if (note) lines.push(`In your last reply you wrote: "${inlineReaderText(note, 140)}". Thank you — I keep it in mind.`);
  if (ctx.reader.contextNote) lines.push('You told me a little about your situation when you subscribed; read the passage with that in mind, and shape the practice to fit your day.');
  return lines.length ? lines.join(' ') : null;
}

/** Reader text quoted inside the letter: one line, no markup that Markdown or HTML would act on. */
function inlineReaderText(s: string, max: number): string {
  const flat = s.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g, ' ').replace(/[<>[\]()*_`#\\|~]/g, '').replace(/\s+/g, ' ').trim();
  return clip(flat, max);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`;
}
