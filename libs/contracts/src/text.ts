import { z } from 'zod';

/**
 * Outside text on its way to Postgres. A `text` or `jsonb` value cannot hold U+0000 (Postgres
 * refuses it with `invalid byte sequence for encoding "UTF8": 0x00`, SQLSTATE 22021 / 22P05), so
 * every boundary where text from outside enters the data layer either refuses it (the api: a 400
 * naming the field) or strips it (mail and LLM text, where refusing would lose a subscriber's reply
 * or a letter over a byte that carries no meaning).
 */
const NUL_ANYWHERE = /\u0000/g;
/** C0 controls, DEL and C1 controls: meaningless in a name, a code or a search term. */
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;

export const NUL_MESSAGE = 'must not contain NUL (U+0000)';
export const CONTROL_CHAR_MESSAGE = 'must not contain control characters';

export function stripNul(s: string): string {
  return s.includes('\u0000') ? s.replace(NUL_ANYWHERE, '') : s;
}

/** Strips NUL from every string (keys included) of a plain JSON-like value; other values pass as they are. */
export function stripNulDeep<T>(value: T): T {
  if (typeof value === 'string') return stripNul(value) as T;
  if (Array.isArray(value)) return value.map((v) => stripNulDeep(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[stripNul(k)] = stripNulDeep(v);
    return out as T;
  }
  return value;
}

/**
 * An object literal of any realm (a worker thread's structured clone, a test VM): its prototype is
 * null or some realm's Object.prototype. Dates, Buffers and class instances are left alone.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** No request body of ours nests deeper; a deeper one is refused before anything walks it. */
export const MAX_INPUT_DEPTH = 64;

/** True when arrays/objects nest deeper than `max` (iterative: a 100,000-deep body cannot overflow the stack). */
export function nestedDeeperThan(value: unknown, max = MAX_INPUT_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/**
 * The dotted path of the first string (value or key) holding NUL, `''` for the value itself, or
 * null when there is none. Callers refuse values nested deeper than MAX_INPUT_DEPTH first.
 */
export function findNul(value: unknown, path: string[] = [], depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') : null;
  if (!value || typeof value !== 'object' || depth > MAX_INPUT_DEPTH) return null;
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (k.includes('\u0000')) return [...path, k.replace(NUL_ANYWHERE, '\\0')].join('.');
    const found = findNul(v, [...path, k], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

export function hasControlChars(s: string): boolean {
  return CONTROL_CHAR.test(s);
}

/** A one-line, human-typed value (a name, a search term): trimmed, bounded, no control characters. */
export const singleLine = (max: number) => z.string().trim().max(max).refine((s) => !hasControlChars(s), CONTROL_CHAR_MESSAGE);

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text into HTML (element content or a quoted attribute): the one escaper of the mail and the pages. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]);
}

/** A `{{name}}` placeholder of the footer and prompt templates. */
export const TEMPLATE_PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Replaces `{{name}}` placeholders that have a value; unknown ones are left visible for the admin to notice. */
export function fillTemplate(template: string, values: Record<string, string>, encode: (v: string) => string = (v) => v): string {
  return template.replace(TEMPLATE_PLACEHOLDER, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(values, name) ? encode(values[name]) : whole);
}
