import { type Attrs, type Child, h, uniqueId } from '../lib/dom';

/** A labelled control with optional hint and an error slot wired through aria-describedby. */
export function field(label: Child, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, opts: { hint?: Child; class?: string } = {}): HTMLDivElement {
  const id = control.id || uniqueId('f');
  control.id = id;
  const hintId = `${id}-hint`;
  const described: string[] = [];
  const hint = opts.hint ? h('p', { class: 'field-hint', id: hintId }, opts.hint) : null;
  if (hint) described.push(hintId);
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  return h('div', { class: ['field', opts.class] }, h('label', { for: id }, label), control, hint);
}

/** A checkbox styled as a switch; the label stays clickable and readable. */
export function switchField(label: Child, input: HTMLInputElement, opts: { hint?: Child } = {}): HTMLLabelElement {
  input.type = 'checkbox';
  input.setAttribute('role', 'switch');
  input.classList.add('switch-input');
  return h('label', { class: 'switch' }, input, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label' }, label, opts.hint ? h('small', null, opts.hint) : null));
}

export function button(label: Child, attrs: Attrs & { variant?: 'primary' | 'secondary' | 'quiet' | 'danger'; small?: boolean } = {}): HTMLButtonElement {
  const { variant = 'secondary', small, class: cls, ...rest } = attrs;
  const extra = Array.isArray(cls) ? cls : [cls];
  return h('button', { type: 'button', ...rest, class: ['btn', `btn-${variant}`, small && 'btn-small', ...extra] }, label);
}

/**
 * Runs an async action from a button: disables it, shows a busy state to assistive tech, and
 * restores it afterwards whatever happens.
 */
export async function withBusy<T>(btn: HTMLButtonElement, busyLabel: string, fn: () => Promise<T>): Promise<T> {
  const label = btn.textContent ?? '';
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = busyLabel;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    btn.textContent = label;
  }
}

export function badge(text: string, tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info' = 'neutral'): HTMLSpanElement {
  return h('span', { class: ['badge', `badge-${tone}`] }, text);
}

const STATUS_TONE: Record<string, 'neutral' | 'good' | 'warn' | 'bad' | 'info'> = {
  sent: 'good',
  composed: 'info',
  scheduled: 'neutral',
  composing: 'info',
  sending: 'info',
  retrying: 'warn',
  failed: 'bad',
  skipped: 'neutral',
  cancelled: 'neutral',
  active: 'good',
  suspended: 'warn',
  deleted: 'bad',
  done: 'good',
  note: 'info',
  unsubscribe: 'bad',
  pause: 'warn',
};

export function statusBadge(status: string | null | undefined): HTMLSpanElement {
  const s = status ?? 'unknown';
  return badge(s.replace(/_/g, ' '), STATUS_TONE[s] ?? 'neutral');
}

/** A quiet empty state: what is missing and, when useful, what to do. */
export function emptyState(title: string, body?: Child): HTMLDivElement {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), body ? h('p', null, body) : null);
}

export function spinner(label = 'Loading…'): HTMLDivElement {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}

/** An inline message for a section that failed to load, with a retry. */
export function loadError(err: unknown, retry: () => void): HTMLDivElement {
  const msg = err instanceof Error ? err.message : 'Could not load this.';
  return h('div', { class: 'callout callout-error', role: 'alert' }, h('p', null, msg), button('Try again', { onClick: retry, small: true }));
}
