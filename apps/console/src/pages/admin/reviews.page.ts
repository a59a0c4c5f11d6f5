import { badge, button, emptyState, statusBadge, withBusy } from '../../components/fields';
import { replyTextView } from '../../components/reply-text';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { adminApi, type AdminReply } from '../../lib/admin-api';
import { formatDateTime, formatPercent } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** Replies that might be an unsubscribe but were not clear enough to act on: a person decides. */
export async function reviewsPage(ctx: PageContext): Promise<HTMLElement> {
  const items = await adminApi.reviewQueue();
  return h(
    'div',
    null,
    adminHead('Replies to review', 'A reply that reads like “stop” but below the confidence threshold is kept as a note and waits here. Confirm to unsubscribe that topic, or dismiss to leave it as a note.'),
    items.length ? h('ol', { class: 'review-list' }, items.map((r) => reviewItem(ctx, r))) : emptyState('Nothing to review', 'Unclear unsubscribe requests will appear here.'),
  );
}

function reviewItem(ctx: PageContext, r: AdminReply): HTMLElement {
  const confirm = button('Confirm unsubscribe', { variant: 'danger', small: true });
  const dismiss = button('Dismiss (keep as note)', { variant: 'secondary', small: true });
  const act = async (btn: HTMLButtonElement, label: string, fn: () => Promise<unknown>, done: string) => {
    try {
      await withBusy(btn, label, fn);
      toast(done);
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  };
  confirm.addEventListener('click', () => void act(confirm, 'Unsubscribing…', () => adminApi.confirmUnsubscribe(r.id), `Unsubscribed ${r.userEmail ?? 'the subscriber'} from ${r.topic ?? 'the topic'}.`));
  dismiss.addEventListener('click', () => void act(dismiss, 'Dismissing…', () => adminApi.dismiss(r.id), 'Dismissed. The reply stays a note.'));
  return h(
    'li',
    { class: 'panel review-item' },
    h(
      'p',
      { class: 'thread-meta' },
      h('span', null, formatDateTime(r.receivedAt)),
      r.userId ? h('a', { href: `/admin/users/${r.userId}` }, r.userEmail ?? 'subscriber') : h('span', null, r.fromAddress ?? 'unknown sender'),
      r.topic ? badge(r.topic, 'info') : null,
      r.intent ? statusBadge(r.intent) : null,
      typeof r.confidence === 'number' ? h('span', null, `confidence ${formatPercent(r.confidence)}`) : null,
    ),
    r.text ? replyTextView(r.text, r.forwardedAt, 'blockquote', 'reply-text') : h('blockquote', { class: 'reply-text' }, '(no text)'),
    h('div', { class: 'cluster' }, confirm, dismiss, r.letterId ? h('a', { href: `/admin/letters/${r.letterId}`, class: 'small' }, 'The letter it answers') : null),
  );
}
