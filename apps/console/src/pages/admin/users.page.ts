import { confirmDialog } from '../../components/confirm-dialog';
import { dataTable, pager } from '../../components/data-table';
import { badge, button, emptyState, field, statusBadge, withBusy } from '../../components/fields';
import { htmlFrame } from '../../components/html-frame';
import { replyTextView } from '../../components/reply-text';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { adminApi, type AdminUser, type ThreadItem } from '../../lib/admin-api';
import type { Subscription } from '../../lib/api-types';
import { query } from '../../lib/http.client';
import { displaySubject, formatDate, formatDateTime, formatPercent, humanize, plural, relativeTime } from '../../lib/format';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** Search users by email or name, filter by status/role. */
export async function usersPage(ctx: PageContext): Promise<HTMLElement> {
  const q = { q: ctx.query.get('q') ?? undefined, status: ctx.query.get('status') ?? undefined, role: ctx.query.get('role') ?? undefined, page: Number(ctx.query.get('page')) || 1 };
  const res = await adminApi.users(q);

  const search = h('input', { type: 'search', name: 'q', value: q.q ?? '', placeholder: 'Email or name', autocomplete: 'off', 'data-testid': 'user-search' });
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'Any status'), ['active', 'suspended', 'deleted'].map((s) => h('option', { value: s, selected: q.status === s }, humanize(s))));
  const role = h('select', { name: 'role' }, h('option', { value: '' }, 'Any role'), ['subscriber', 'admin'].map((s) => h('option', { value: s, selected: q.role === s }, humanize(s))));
  const form = h('form', { class: 'toolbar', role: 'search' }, field('Search', search), field('Status', status), field('Role', role), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/admin/users${query({ q: search.value.trim(), status: status.value, role: role.value })}`);
  });
  status.addEventListener('change', () => form.requestSubmit());
  role.addEventListener('change', () => form.requestSubmit());

  const table = res.items.length
    ? dataTable<AdminUser>(
        'Users',
        [
          { label: 'Email', cell: (u) => h('a', { href: `/admin/users/${u.id}`, class: 'row-link' }, u.email), rowHeader: true },
          { label: 'Role', cell: (u) => (u.role === 'admin' ? badge('admin', 'info') : 'subscriber') },
          { label: 'Status', cell: (u) => statusBadge(u.status) },
          { label: 'Topics on', cell: (u) => String(u.activeSubscriptions ?? 0), class: 'num' },
          { label: 'Letters sent', cell: (u) => String(u.lettersSent ?? 0), class: 'num' },
          { label: 'Joined', cell: (u) => h('span', { class: 'nowrap' }, formatDate(u.createdAt)) },
          { label: 'Last sign-in', cell: (u) => (u.lastLoginAt ? relativeTime(u.lastLoginAt) : h('span', { class: 'muted' }, 'never')) },
        ],
        res.items,
        { testid: 'users-table' },
      )
    : emptyState('No users match', q.q ? `Nobody matches “${q.q}”.` : undefined);

  return h('div', null, adminHead('Users', 'Find a subscriber, open their conversation, suspend, export or erase an account.'), form, table, pager(res.page, res.pageSize, res.total, (p) => `/admin/users${query({ ...q, page: p })}`, 'user'));
}

/** One user: facts, topics, actions, and the conversation (letters and replies as one thread). */
export async function userPage(ctx: PageContext): Promise<HTMLElement> {
  const [detail, thread] = await Promise.all([adminApi.user(ctx.params.id), adminApi.thread(ctx.params.id)]);
  const u = detail.user;
  const isSelf = ctx.user?.id === u.id;
  const subs = detail.subscriptions as Subscription[];

  const suspend = button(u.status === 'suspended' ? 'Unsuspend' : 'Suspend', { variant: 'secondary', 'data-testid': 'suspend', disabled: isSelf || u.status === 'deleted' });
  suspend.addEventListener('click', async () => {
    const suspending = u.status !== 'suspended';
    if (suspending) {
      const ok = await confirmDialog({ title: `Suspend ${u.email}?`, body: h('p', null, 'Their sessions end now and no letters are sent while suspended. You can undo this.'), confirmLabel: 'Suspend' });
      if (!ok) return;
    }
    try {
      await withBusy(suspend, suspending ? 'Suspending…' : 'Unsuspending…', () => (suspending ? adminApi.suspend(u.id) : adminApi.unsuspend(u.id)));
      toast(suspending ? 'Account suspended.' : 'Account active again.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  const exportBtn = button('Export data', { variant: 'secondary' });
  exportBtn.addEventListener('click', async () => {
    try {
      const data = await withBusy(exportBtn, 'Exporting…', () => adminApi.exportUser(u.id));
      downloadJson(data, `mentor-zero-export-${u.id}.json`);
      toast('Export downloaded (and recorded in the audit log).');
    } catch (err) {
      toastError(err);
    }
  });
  const del = button('Delete account…', { variant: 'danger', disabled: isSelf || u.status === 'deleted', 'data-testid': 'delete-user' });
  del.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Erase this account?',
      body: h('p', null, 'Personal data, settings, letters and replies of ', h('strong', null, u.email), ' are removed and no more mail is sent. This cannot be undone.'),
      confirmLabel: 'Erase account',
      danger: true,
      typeToConfirm: 'delete',
    });
    if (!ok) return;
    try {
      await withBusy(del, 'Erasing…', () => adminApi.deleteUser(u.id));
      toast('Account erased.');
      navigate('/admin/users');
    } catch (err) {
      toastError(err);
    }
  });

  const c = detail.counts ?? {};
  return h(
    'div',
    null,
    h('p', null, h('a', { href: '/admin/users' }, '← All users')),
    adminHead(u.email, `${humanize(u.role)} · joined ${formatDateTime(u.createdAt)} · last sign-in ${u.lastLoginAt ? relativeTime(u.lastLoginAt) : 'never'}`, suspend, exportBtn, del),
    h(
      'div',
      { class: 'stats' },
      stat('Status', statusBadge(u.status)),
      stat('Letters', String(c.letters ?? 0)),
      stat('Failed letters', String(c.failedLetters ?? 0)),
      stat('Replies', String(c.replies ?? 0)),
      stat('Signed-in sessions', String(c.activeSessions ?? 0)),
    ),
    h(
      'section',
      { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', null, 'Topics'), h('a', { href: `/admin/letters?userId=${u.id}` }, 'All their letters →')),
      subs.length
        ? dataTable<Subscription>(
            'Topics',
            [
              { label: 'Topic', cell: (s) => s.topic.name, rowHeader: true },
              { label: 'State', cell: (s) => (s.enabled ? (s.pausedUntil && new Date(s.pausedUntil) > new Date() ? badge(`paused until ${formatDateTime(s.pausedUntil)}`, 'warn') : badge('on', 'good')) : badge('off')) },
              { label: 'Time', cell: (s) => `${s.sendTime} ${s.timezone ?? ''}` },
              { label: 'Next letter', cell: (s) => (s.nextRunAt ? formatDateTime(s.nextRunAt) : '—') },
              { label: 'Streak', cell: (s) => plural(s.streak, 'day'), class: 'num' },
            ],
            subs,
          )
        : h('p', { class: 'muted' }, 'Not subscribed to anything.'),
    ),
    conversation(thread.items),
  );
}

function stat(label: string, value: Node | string): HTMLElement {
  return h('div', { class: 'stat' }, h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value));
}

function conversation(items: ThreadItem[]): HTMLElement {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'thread-title', 'data-testid': 'conversation' },
    h('h2', { id: 'thread-title' }, 'Conversation'),
    items.length
      ? h(
          'ol',
          { class: 'thread' },
          items.map((it) => {
            if (it.type === 'letter') {
              const l = it.letter;
              const body = h('div', null);
              const details = h('details', null, h('summary', null, 'Show letter'), body);
              details.addEventListener('toggle', () => {
                if (details.open && !body.childElementCount) body.append(l.bodyHtml ? htmlFrame(l.bodyHtml, { title: l.subject ?? 'Letter' }) : h('div', { class: 'letter-text' }, l.bodyText ?? 'Not written yet.'));
              });
              return h(
                'li',
                { class: 'thread-item' },
                h('p', { class: 'thread-meta' }, h('span', null, formatDateTime(it.at)), badge(l.topicName, 'info'), l.status !== 'sent' ? statusBadge(l.status) : null, l.promptVersion ? h('span', null, `prompt v${String(l.promptVersion)}`) : null),
                h('p', { class: 'thread-text' }, h('a', { href: `/admin/letters/${l.id}` }, displaySubject(l.subject) ?? '(not written yet)')),
                l.bodyHtml || l.bodyText ? details : null,
              );
            }
            const r = it.reply;
            return h(
              'li',
              { class: 'thread-item from-user' },
              h(
                'p',
                { class: 'thread-meta' },
                h('span', null, formatDateTime(it.at)),
                r.kind ? statusBadge(r.kind) : null,
                r.intent ? statusBadge(r.intent) : null,
                typeof r.confidence === 'number' ? h('span', null, formatPercent(r.confidence)) : null,
                r.needsReview ? badge('needs review', 'warn') : null,
                r.source === 'simulator' ? badge('simulated') : null,
              ),
              r.text ? replyTextView(r.text, r.forwardedAt, 'p', 'thread-text') : h('p', { class: 'thread-text' }, r.note ?? (typeof r.error === 'string' ? r.error : '(no text)')),
            );
          }),
        )
      : h('p', { class: 'muted' }, 'No letters or replies yet.'),
  );
}

export function downloadJson(data: unknown, filename: string): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
