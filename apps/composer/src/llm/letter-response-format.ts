import { LetterDraft } from '@mz/contracts';
import { jsonSchemaResponseFormat, parseStructured, type StructuredParse } from '@mz/llm';

/**
 * The LetterDraft zod schema as a strict structured output. Lengths the portable schema leaves
 * out are enforced when the answer is validated with the same schema (and by the repair attempt).
 */
export const LETTER_RESPONSE_FORMAT = jsonSchemaResponseFormat('letter', LetterDraft);

export type LetterParse = { ok: true; draft: LetterDraft } | { ok: false; issues: string };

export function parseLetterDraft(content: string | null | undefined): LetterParse {
  const r: StructuredParse<LetterDraft> = parseStructured(content, LetterDraft);
  return r.ok ? { ok: true, draft: r.value } : r;
}
