import { h } from '../lib/dom';
import { splitForwarded } from '../lib/format';

/**
 * A stored reply's text as the console shows it: what the subscriber wrote, then — marked, apart —
 * a message they forwarded (kept for reading; the rules, the model and the notes never read it).
 */
export function replyTextView(text: string, forwardedAt: number | null | undefined, tag: 'p' | 'blockquote', cls: string): HTMLElement {
  const { written, forwarded } = splitForwarded(text, forwardedAt);
  if (forwarded === null) return h(tag, { class: cls }, text);
  return h(
    'div',
    { class: 'reply-parts' },
    written ? h(tag, { class: cls }, written) : h('p', { class: 'muted' }, '(nothing written above the forward)'),
    h('div', { class: 'forwarded', 'data-testid': 'forwarded' }, h('p', { class: 'forwarded-label small muted' }, 'Forwarded message — shown for reading, not read by the rules or the model'), h(tag, { class: cls }, forwarded)),
  );
}
