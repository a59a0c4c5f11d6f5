import { z } from 'zod';
import { LetterDraft } from '@mz/contracts';

type JsonSchema = { [key: string]: unknown };

/**
 * String length keywords are not in the JSON-schema subset that strict structured outputs accept
 * (OpenAI answers 400 to them); lengths are enforced by validating with LetterDraft afterwards and
 * the repair attempt. Array counts are accepted and kept.
 */
const UNPORTABLE = new Set(['$schema', 'minLength', 'maxLength']);

function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) if (!UNPORTABLE.has(k)) out[k] = portable(v);
  return out;
}

/** The LetterDraft zod schema as a strict JSON schema: every property required, nothing extra. */
export const LETTER_JSON_SCHEMA = portable(z.toJSONSchema(LetterDraft, { target: 'draft-7' })) as JsonSchema;

export const LETTER_RESPONSE_FORMAT = {
  type: 'json_schema' as const,
  json_schema: { name: 'letter', strict: true, schema: LETTER_JSON_SCHEMA },
};

export type LetterParse = { ok: true; draft: LetterDraft } | { ok: false; issues: string };

/**
 * Parses the model's content with the same schema. Tolerates what OpenAI-compatible servers
 * without schema enforcement add around the object (code fences, a sentence before it).
 */
export function parseLetterDraft(content: string | null | undefined): LetterParse {
  if (!content || !content.trim()) return { ok: false, issues: 'empty response' };
  let json: unknown;
  try {
    json = JSON.parse(extractObject(content));
  } catch (err) {
    return { ok: false, issues: `not valid JSON (${(err as Error).message.slice(0, 120)})` };
  }
  const result = LetterDraft.safeParse(json);
  if (result.success) return { ok: true, draft: result.data };
  return { ok: false, issues: result.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

function extractObject(content: string): string {
  const s = content.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(s);
  if (fenced) return fenced[1];
  if (s.startsWith('{')) return s;
  const start = s.indexOf('{');
  const end = s.lastIndexOf('}');
  return start >= 0 && end > start ? s.slice(start, end + 1) : s;
}
