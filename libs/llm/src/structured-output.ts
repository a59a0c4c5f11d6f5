import { z } from 'zod';
import { stripNulDeep } from '@mz/contracts';

type JsonSchema = { [key: string]: unknown };

/**
 * Keywords left out of the JSON schema we send: string lengths, patterns and formats are not in
 * the subset every OpenAI-compatible server enforces under `strict` (some answer 400 to them).
 * Nothing is lost: every answer is validated afterwards by the same zod schema, and the letter
 * writer's repair attempt names what failed. Numeric bounds and array counts are portable and kept.
 */
const UNPORTABLE = new Set(['$schema', 'minLength', 'maxLength', 'pattern', 'format']);

function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) if (!UNPORTABLE.has(k)) out[k] = portable(v);
  return out;
}

export interface JsonSchemaResponseFormat {
  type: 'json_schema';
  json_schema: { name: string; strict: true; schema: JsonSchema };
}

/** A zod object schema as a strict structured-output response format: every property required, nothing extra. */
export function jsonSchemaResponseFormat(name: string, schema: z.ZodType): JsonSchemaResponseFormat {
  return { type: 'json_schema', json_schema: { name, strict: true, schema: portable(z.toJSONSchema(schema, { target: 'draft-7' })) as JsonSchema } };
}

/**
 * The JSON object in a model's content. Tolerates what servers without schema enforcement add
 * around it (code fences, a sentence before it).
 */
export function extractJsonObject(content: string): string {
  const s = content.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(s);
  if (fenced) return fenced[1];
  if (s.startsWith('{')) return s;
  const start = s.indexOf('{');
  const end = s.lastIndexOf('}');
  return start >= 0 && end > start ? s.slice(start, end + 1) : s;
}

export type StructuredParse<T> = { ok: true; value: T } | { ok: false; issues: string };

/** The model's content validated with the schema it was asked for (the same zod schema). */
export function parseStructured<T>(content: string | null | undefined, schema: z.ZodType<T>, maxIssues = 8): StructuredParse<T> {
  if (!content || !content.trim()) return { ok: false, issues: 'empty response' };
  let json: unknown;
  try {
    json = JSON.parse(extractJsonObject(content));
  } catch (err) {
    return { ok: false, issues: `not valid JSON (${(err as Error).message.slice(0, 120)})` };
  }
  // LLM text enters the data layer here: a NUL, raw or decoded from a \u0000 escape, never reaches
  // Postgres (text and jsonb refuse it).
  const result = schema.safeParse(stripNulDeep(json));
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.slice(0, maxIssues).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
