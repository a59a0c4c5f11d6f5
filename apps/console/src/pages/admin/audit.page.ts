import { dataTable, pager } from '../../components/data-table';
import { emptyState, field } from '../../components/fields';
import { h } from '../../lib/dom';
import { adminApi, type AuditEntry } from '../../lib/admin-api';
import { query } from '../../lib/http.client';
import { formatUtc } from '../../lib/format';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** Every admin action: who, what, when, on what. */
export async function auditPage(ctx: PageContext): Promise<HTMLElement> {
  const q = { action: ctx.query.get('action') ?? undefined, actor: ctx.query.get('actor') ?? undefined, page: Number(ctx.query.get('page')) || 1 };
  const res = await adminApi.audit(q);
  const action = h('input', { type: 'search', name: 'action', value: q.action ?? '', placeholder: 'e.g. prompt.activate', pattern: '[a-z_.-]{1,64}' });
  const form = h('form', { class: 'toolbar', role: 'search' }, field('Action', action), h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/admin/audit${query({ action: action.value.trim(), actor: q.actor })}`);
  });

  const details = (a: AuditEntry) => {
    const rest = { ...a.metadata };
    delete rest.action;
    const text = JSON.stringify(rest);
    return text === '{}' ? h('span', { class: 'muted' }, '—') : h('code', { class: 'small' }, text.length > 240 ? `${text.slice(0, 240)}…` : text);
  };

  return h(
    'div',
    null,
    adminHead('Audit log', 'Every change made from this console, newest first.'),
    form,
    res.items.length
      ? dataTable<AuditEntry>(
          'Admin actions',
          [
            { label: 'When', cell: (a) => h('time', { datetime: a.at }, formatUtc(a.at)), rowHeader: true },
            { label: 'Admin', cell: (a) => h('a', { href: `/admin/audit${query({ actor: a.actorId })}` }, a.actorEmail ?? a.actorId) },
            { label: 'Action', cell: (a) => h('a', { href: `/admin/audit${query({ action: a.action })}` }, h('code', null, a.action)) },
            {
              label: 'Subject',
              cell: (a) =>
                a.letterId ? h('a', { href: `/admin/letters/${a.letterId}` }, 'letter') : a.userId ? h('a', { href: `/admin/users/${a.userId}` }, 'user') : h('span', { class: 'muted' }, '—'),
            },
            { label: 'Details', cell: details, class: 'wrap' },
          ],
          res.items,
          { testid: 'audit-table' },
        )
      : emptyState('No admin actions recorded', q.action ? `Nothing for “${q.action}”.` : undefined),
    pager(res.page, res.pageSize, res.total, (p) => `/admin/audit${query({ ...q, page: p })}`, 'action'),
  );
}
