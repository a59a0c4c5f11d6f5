import { confirmDialog } from '../../components/confirm-dialog';
import { dataTable, pager } from '../../components/data-table';
import { button, emptyState, field, withBusy } from '../../components/fields';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { adminApi, type AdminSuppression } from '../../lib/admin-api';
import { query } from '../../lib/http.client';
import { formatUtc, humanize } from '../../lib/format';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

const REASONS = ['hard_bounce', 'complaint', 'manual'] as const;

/** Addresses no mail goes to: why, since when, what did it — and lifting (audited). */
export async function suppressionsPage(ctx: PageContext): Promise<HTMLElement> {
  const reasonParam = ctx.query.get('reason');
  const q = {
    q: ctx.query.get('q') ?? undefined,
    reason: REASONS.find((r) => r === reasonParam),
    page: Number(ctx.query.get('page')) || 1,
  };
  const res = await adminApi.suppressions(q);
  const search = h('input', { type: 'search', name: 'q', value: q.q ?? '', placeholder: 'part of an address', maxlength: '320' });
  const reason = h('select', { name: 'reason' }, h('option', { value: '' }, 'Any reason'), REASONS.map((r) => h('option', { value: r, selected: r === q.reason }, humanize(r))));
  const form = h('form', { class: 'toolbar', role: 'search' }, field('Address', search), field('Reason', reason), h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/admin/suppressions${query({ q: search.value.trim(), reason: reason.value })}`);
  });

  const source = (s: AdminSuppression) => {
    const parts: (HTMLElement | string)[] = [];
    if (s.letterId) parts.push(h('a', { href: `/admin/letters/${s.letterId}` }, 'letter'));
    if (s.userId) parts.push(h('a', { href: `/admin/users/${s.userId}` }, 'user'));
    if (s.inboundMessageId) parts.push(h('code', { class: 'small', title: 'inbound message' }, s.inboundMessageId.slice(0, 8)));
    const detail = s.detail ? h('span', { class: 'small muted' }, s.detail.length > 160 ? `${s.detail.slice(0, 160)}…` : s.detail) : null;
    return h('span', { class: 'stack-tight' }, parts.length ? h('span', { class: 'cluster' }, parts) : null, detail);
  };
  const lift = (s: AdminSuppression) => {
    const b = button('Lift', { variant: 'secondary', small: true, 'aria-label': `Lift the suppression of ${s.address}` });
    b.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Send mail to ${s.address} again?`,
        body: h('p', null, `It was suppressed for ${humanize(s.reason).toLowerCase()} on ${formatUtc(s.createdAt)}. Lift it only when the mailbox works again or its owner asked for mail: repeated bounces and complaints hurt delivery for every subscriber.`),
        confirmLabel: 'Lift suppression',
      });
      if (!ok) return;
      try {
        await withBusy(b, 'Lifting…', () => adminApi.liftSuppression(s.id));
        toast(`${s.address} can receive mail again.`);
        ctx.rerender();
      } catch (err) {
        toastError(err);
      }
    });
    return b;
  };

  return h(
    'div',
    null,
    adminHead('Suppressions', 'Addresses no letter or sign-in mail is sent to: hard bounces, spam complaints and manual stops. Lifting one is recorded in the audit log.'),
    form,
    res.items.length
      ? dataTable<AdminSuppression>(
          'Suppressed addresses',
          [
            { label: 'Address', cell: (s) => s.address, rowHeader: true },
            { label: 'Reason', cell: (s) => humanize(s.reason) },
            { label: 'Since', cell: (s) => h('time', { datetime: s.createdAt }, formatUtc(s.createdAt)) },
            { label: 'Source', cell: source, class: 'wrap' },
            { label: 'Action', cell: lift },
          ],
          res.items,
          { testid: 'suppressions-table' },
        )
      : emptyState('No suppressed addresses', q.q || q.reason ? 'Nothing matches this filter.' : 'Every address can receive mail.'),
    pager(res.page, res.pageSize, res.total, (p) => `/admin/suppressions${query({ ...q, page: p })}`, 'address'),
  );
}
