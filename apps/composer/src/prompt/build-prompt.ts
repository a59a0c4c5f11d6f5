import { languageName, type PromptVarName, STABLE_PROMPT_VARS } from '@mz/contracts';
import type { ChatMessage } from '@mz/llm';
import type { ComposeContext, PromptVersion } from '../compose-context';
import { lengthInstruction } from '../quality/letter-guard';
import { renderTemplate, type TemplateVars } from './render-template';

const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Reader-provided text (context note, reply notes) is data inside `<reader_notes>` tags. Escaping
 * `<`, `>` and `&` means it can never close the tag or open one of its own, whatever it says;
 * control characters are dropped and the length is capped.
 */
export function readerText(s: string, max = 2000): string {
  const clean = s.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim();
  const capped = clean.length > max ? `${clean.slice(0, max - 1).trimEnd()}…` : clean;
  return capped.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A stable number in [0, 1) from a string (FNV-1a): the same letter makes the same choices on retry. */
export function seedFrom(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * Weighted choice among the active versions (A/B). `r` in [0, 1). Zero weights never win unless
 * every weight is zero, in which case the newest version is used.
 */
export function choosePromptVersion(versions: readonly PromptVersion[], r: number): PromptVersion | null {
  if (!versions.length) return null;
  const total = versions.reduce((sum, v) => sum + Math.max(0, v.weight), 0);
  if (total <= 0) return [...versions].sort((a, b) => b.version - a.version)[0];
  let point = r * total;
  for (const v of versions) {
    point -= Math.max(0, v.weight);
    if (point < 0 && v.weight > 0) return v;
  }
  return [...versions].reverse().find((v) => v.weight > 0) ?? versions[versions.length - 1];
}

const unique = (xs: string[]) => [...new Set(xs.map((x) => x.trim()).filter(Boolean))];

/** The placeholders a prompt version may use (see libs/db seed PROMPT_V1). */
export function promptVars(ctx: ComposeContext): Record<PromptVarName, string | number> {
  const recent = ctx.recentLetters;
  return {
    persona_name: ctx.persona.name,
    persona_era: ctx.persona.era,
    persona_style: ctx.persona.styleNotes,
    topic_code: ctx.topic.code,
    topic_name: ctx.topic.name,
    topic_description: ctx.topic.description,
    response_length: lengthInstruction(ctx.topic.responseLength),
    creativity: ctx.topic.creativity.toFixed(2),
    local_date: ctx.letter.localDate,
    letter_number: ctx.letterNumber,
    // A number 0 renders as "0" in text but counts as false in a {{#streak}} section.
    streak: ctx.streak,
    reader_name: ctx.reader.name ? readerText(ctx.reader.name, 80) : '',
    context_note: ctx.reader.contextNote ? readerText(ctx.reader.contextNote, 2000) : '',
    recent_notes: ctx.recentNotes.map((n) => `- ${readerText(n, 500)}`).join('\n'),
    // Earlier letters' metadata is model output, not reader text, but it is escaped the same way.
    recent_themes: readerText(unique(recent.flatMap((l) => l.themes)).join(', '), 600),
    avoid_tags: readerText(unique(recent.flatMap((l) => l.variationTags)).join(', '), 600),
    recent_summaries: recent.filter((l) => l.summary).map((l) => `- ${l.localDate}: ${readerText(l.summary ?? '', 300)}`).join('\n'),
  };
}

/**
 * System message first, from the persona and topic only: identical for every reader of the topic,
 * so the request starts with a long prefix providers serve from their prompt cache. The reader's
 * day (streak, notes, earlier letters) is the user message, last. A system template that still
 * names a per-reader placeholder (one saved before the console refused them) renders it empty
 * rather than break the shared prefix.
 */
export function buildPromptMessages(ctx: ComposeContext, version: PromptVersion): ChatMessage[] {
  const vars = promptVars(ctx);
  const stable: TemplateVars = Object.fromEntries(STABLE_PROMPT_VARS.map((k) => [k, vars[k]]));
  return [
    { role: 'system', content: tidy(withInstructions(renderTemplate(version.systemTemplate, stable), ctx.persona.instructions)) },
    { role: 'user', content: `${tidy(renderTemplate(version.userTemplate, vars))}\n\n${languageInstruction(ctx.reader.language)}` },
  ];
}

/**
 * The letter's language (docs/architecture.md §3.3). Per subscriber, so it closes the user
 * message and never touches the cacheable system prefix; added by the composer rather than a
 * template placeholder, so every prompt version — including ones saved before languages —
 * asks for it. The tag is canonical (validated at the API), never reader text.
 */
export function languageInstruction(tag: string): string {
  const name = languageName(tag);
  return `Language: write the whole letter — subject, body and summary — in ${name} (BCP 47: ${tag}), whatever language the instructions above are in. Quoted passages may stay in their original language.`;
}

/**
 * The editor's instructions for this voice close the system message (stable per topic, so the
 * prefix stays cacheable). They are the admin's words, not the reader's: instructions, not data.
 */
function withInstructions(system: string, instructions: string): string {
  const extra = instructions.replace(/\r\n?/g, '\n').trim();
  return extra ? `${system}\n\nFurther instructions from the editor for this voice:\n${extra}` : system;
}

/** Lines left empty by false sections are dropped so the prompt reads cleanly. */
function tidy(s: string): string {
  return s.split('\n').filter((line, i, all) => line.trim() !== '' || (i > 0 && all[i - 1].trim() !== '')).join('\n').trim();
}
