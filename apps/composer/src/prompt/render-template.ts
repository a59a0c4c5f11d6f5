/**
 * A tiny logic-less template renderer for prompt versions (a safe subset of Mustache):
 *   {{name}}            the value of `name` ('' when missing, null or false)
 *   {{#name}}…{{/name}} the block when `name` is truthy (non-empty string, non-zero number, true)
 *   {{^name}}…{{/name}} the block when `name` is falsy
 * Values are inserted in a single pass and never re-scanned, so a value that contains `{{…}}`
 * (reader-provided text, say) stays literal text. Escaping for the prompt's own tags is the
 * caller's job (see `readerText`), because only the caller knows which values are reader data.
 */
export type TemplateValue = string | number | boolean | null | undefined;
export type TemplateVars = Readonly<Record<string, TemplateValue>>;

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const SECTION = new RegExp(`\\{\\{([#^])\\s*(${NAME})\\s*\\}\\}([\\s\\S]*?)\\{\\{/\\s*\\2\\s*\\}\\}`, 'g');
const VARIABLE = new RegExp(`\\{\\{\\s*(${NAME})\\s*\\}\\}`, 'g');
const MAX_DEPTH = 8;

const truthy = (v: TemplateValue): boolean => (typeof v === 'string' ? v.trim().length > 0 : Boolean(v));

export function renderTemplate(template: string, vars: TemplateVars): string {
  return substitute(expandSections(template, vars, 0), vars);
}

/** Sections are resolved on the template text only (before any value is inserted). */
function expandSections(text: string, vars: TemplateVars, depth: number): string {
  if (depth >= MAX_DEPTH) return text;
  return text.replace(SECTION, (_m, kind: string, name: string, inner: string) => {
    const on = truthy(vars[name]);
    return (kind === '#' ? on : !on) ? expandSections(inner, vars, depth + 1) : '';
  });
}

function substitute(text: string, vars: TemplateVars): string {
  return text.replace(VARIABLE, (_m, name: string) => {
    const v = vars[name];
    return v === null || v === undefined || v === false ? '' : String(v);
  });
}

/** Placeholder names a template uses (for admin previews and tests). */
export function templateNames(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(new RegExp(`\\{\\{[#^/]?\\s*(${NAME})\\s*\\}\\}`, 'g'))) names.add(m[1]);
  return [...names];
}
