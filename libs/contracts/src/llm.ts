import { z } from 'zod';
import { REPLY_INTENTS } from './enums';

/**
 * What the LLM must return for a letter. The same schema builds the JSON-schema response format
 * sent to the model and validates what comes back.
 */
export const LetterDraft = z.strictObject({
  subject: z.string().min(3).max(200),
  body: z.string().min(80).max(12_000),
  summary: z.string().min(3).max(600),
  themes: z.array(z.string().min(1).max(60)).min(1).max(8),
  tone: z.string().min(2).max(60),
  advice_focus: z.string().min(2).max(200),
  variation_tags: z.array(z.string().min(1).max(60)).max(10),
});
export type LetterDraft = z.infer<typeof LetterDraft>;

/** What the LLM returns when asked to classify a reply the rules could not settle. */
export const ReplyAnalysis = z.strictObject({
  intent: z.enum(REPLY_INTENTS),
  confidence: z.number().min(0).max(1),
  note: z.string().max(2000).nullable(),
  pause_days: z.number().int().min(1).max(365).nullable(),
  pause_until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
});
export type ReplyAnalysis = z.infer<typeof ReplyAnalysis>;

/**
 * Placeholders of a prompt version's templates. The system message may use only the stable ones
 * (persona and topic): it is then the same for every reader of a topic — with the response schema,
 * the long identical prefix that providers' prompt caches bill at the cached price — and
 * everything about one reader and one day goes in the user message, last (docs/architecture.md §7).
 */
export const STABLE_PROMPT_VARS = ['persona_name', 'persona_era', 'persona_style', 'topic_code', 'topic_name', 'topic_description', 'response_length', 'creativity'] as const;
export const READER_PROMPT_VARS = [
  'local_date', 'letter_number', 'streak', 'reader_name', 'context_note', 'recent_notes', 'recent_themes', 'avoid_tags', 'recent_summaries',
] as const;
export type PromptVarName = (typeof STABLE_PROMPT_VARS)[number] | (typeof READER_PROMPT_VARS)[number];

const READER_VAR_SET: ReadonlySet<string> = new Set(READER_PROMPT_VARS);

/** The per-reader placeholders a template uses ({{name}}, {{#name}}, {{^name}} or {{/name}}), each once. */
export function readerVarsIn(template: string): string[] {
  const found = new Set<string>();
  for (const m of template.matchAll(/\{\{[#^/]?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) if (READER_VAR_SET.has(m[1])) found.add(m[1]);
  return [...found];
}

/**
 * Creativity (0 steady … 1 surprising) as a sampling temperature: linear over [0.3, 1.1]. Below
 * 0.3 letters turn formulaic; above 1.1 most models drift from the voice and the schema. A topic
 * may still set its own temperature as an override.
 */
export const TEMPERATURE_RANGE = Object.freeze({ min: 0.3, max: 1.1 });

export function temperatureFor(creativity: number): number {
  const c = Math.min(1, Math.max(0, creativity));
  return Math.round((TEMPERATURE_RANGE.min + c * (TEMPERATURE_RANGE.max - TEMPERATURE_RANGE.min)) * 100) / 100;
}
