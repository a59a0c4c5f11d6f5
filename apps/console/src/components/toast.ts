import { h } from '../lib/dom';

/**
 * Page-level notices. Two live regions exist from the start (screen readers only announce
 * changes to regions already in the document): polite for confirmations, assertive for errors.
 */
let polite: HTMLElement | null = null;
let assertive: HTMLElement | null = null;

export function mountToasts(host: HTMLElement): void {
  polite = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  assertive = h('div', { class: 'toasts toasts-alert', role: 'alert', 'aria-live': 'assertive' });
  host.append(polite, assertive);
}

export function toast(message: string, kind: 'success' | 'info' | 'error' = 'success', ms = 5000): void {
  const region = kind === 'error' ? assertive : polite;
  if (!region) return;
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: ['toast', `toast-${kind}`] }, h('span', null, message), close);
  const remove = () => item.remove();
  close.addEventListener('click', remove);
  region.append(item);
  if (kind !== 'error') setTimeout(remove, ms);
  else setTimeout(remove, ms * 3);
}

/** Shows an Error's message as an error toast (ApiError messages are written for people). */
export function toastError(err: unknown, fallback = 'Something went wrong.'): void {
  const msg = err instanceof Error && err.message ? err.message : fallback;
  toast(msg, 'error');
}
