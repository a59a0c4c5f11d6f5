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
