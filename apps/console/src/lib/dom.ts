/**
 * A tiny element builder. Every string child becomes a Text node and every attribute goes
 * through setAttribute or a DOM property, so server, LLM or mail text can never turn into markup
 * here. There is deliberately no way to set innerHTML: HTML from the server (letters, footer
 * previews) is shown only inside a sandboxed iframe (components/html-frame.ts).
 */
export type Child = Node | string | number | null | undefined | false | Child[];

type Handler<E extends Event = Event> = (event: E) => void;

export interface Attrs {
  class?: string | (string | false | null | undefined)[];
  /** DOM properties rather than attributes (they track user edits). */
  value?: string;
  checked?: boolean;
  disabled?: boolean;
  selected?: boolean;
  hidden?: boolean;
  dataset?: Record<string, string>;
  onClick?: Handler<MouseEvent>;
  onInput?: Handler<Event>;
  onChange?: Handler<Event>;
  onSubmit?: Handler<SubmitEvent>;
  onKeydown?: Handler<KeyboardEvent>;
  onToggle?: Handler<Event>;
  onLoad?: Handler<Event>;
  [attr: string]: unknown;
}

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);
const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [key, raw] of Object.entries(attrs)) {
    if (raw === undefined || raw === null || raw === false) continue;
    if (key === 'class') {
      const cls = Array.isArray(raw) ? raw.filter(Boolean).join(' ') : String(raw);
      if (cls) el.setAttribute('class', cls);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(raw as Record<string, string>)) (el as HTMLElement).dataset[k] = v;
    } else if (/^on[A-Z]/.test(key) && typeof raw === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), raw as EventListener);
    } else if (PROPS.has(key)) {
      (el as unknown as Record<string, unknown>)[key] = raw;
    } else if (key === 'innerHTML' || key === 'outerHTML' || key === 'srcdoc' || key === 'style') {
      // srcdoc is set only by html-frame.ts; style attributes would break the CSP.
      throw new Error(`h(): refusing to set ${key}`);
    } else {
      el.setAttribute(key, raw === true ? '' : String(raw));
    }
  }
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces all children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
/** A page-unique id for label/aria wiring. */
export function uniqueId(prefix = 'mz'): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Text for screen readers only. */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'sr-only' }, text);
}
