import { dataTable, pager } from '../../components/data-table';
import { emptyState, field, statusBadge } from '../../components/fields';
import { h } from '../../lib/dom';
import { adminApi, type Conversation } from '../../lib/admin-api';
import { loadTopics } from '../../lib/api-types';
import { query } from '../../lib/http.client';
import { humanize, relativeTime } from '../../lib/format';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

const INTENTS = ['done', 'note', 'pause', 'unsubscribe', 'none'] as const;

/** Every subscriber's thread, newest activity first; a row opens the per-user thread. */
export async function conversationsPage(ctx: PageContext): Promise<HTMLElement> {
  const q = {
    q: ctx.query.get('q') ?? undefined,
    lastIntent: ctx.query.get('lastIntent') ?? undefined,
    topic: ctx.query.get('topic') ?? undefined,
    page: Number(ctx.query.get('page')) || 1,
  };
  const [res, topics] = await Promise.all([adminApi.conversations(q), loadTopics().catch(() => [])]);

  const search = h('input', { type: 'search', name: 'q', value: q.q ?? '', placeholder: 'Email or name', autocomplete: 'off' });
  const intent = h(
    'select',
    { name: 'lastIntent' },
    h('option', { value: '' }, 'Any last intent'),
    INTENTS.map((i) => h('option', { value: i, selected: q.lastIntent === i }, i === 'none' ? 'No reply yet' : humanize(i))),
  );
  const topic = h('select', { name: 'topic' }, h('option', { value: '' }, 'All topics'), topics.map((t) => h('option', { value: t.code, selected: q.topic === t.code }, t.name)));
  const form = h('form', { class: 'toolbar', role: 'search' }, field('Search', search), field('Last intent', intent), field('Topic', topic), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/admin/conversations${query({ q: search.value.trim(), lastIntent: intent.value, topic: topic.value })}`);
  });
  intent.addEventListener('change', () => form.requestSubmit());
  topic.addEventListener('change', () => form.requestSubmit());

  const table = res.items.length
    ? dataTable<Conversation>(
        'Conversations',
        [
          { label: 'Subscriber', cell: (c) => h('a', { href: `/admin/users/${c.userId}`, class: 'row-link' }, c.email), rowHeader: true },
          { label: 'Messages', cell: (c) => String(c.messages), class: 'num' },
          { label: 'Letters', cell: (c) => String(c.lettersSent), class: 'num' },
          { label: 'Replies', cell: (c) => String(c.replies), class: 'num' },
          { label: 'Last activity', cell: (c) => (c.lastActivityAt ? relativeTime(c.lastActivityAt) : h('span', { class: 'muted' }, '—')) },
          { label: 'Last intent', cell: (c) => (c.lastIntent ? statusBadge(c.lastIntent) : h('span', { class: 'muted' }, 'no reply')) },
        ],
        res.items,
        { testid: 'conversations-table', rowAttrs: (c) => ({ userId: c.userId }) },
      )
    : emptyState('No conversations match', 'A conversation starts with the first letter sent.');

  return h(
    'div',
    null,
    adminHead('Conversations', 'Every subscriber\u2019s letters and replies: open one to read the thread.'),
    form,
    table,
    pager(res.page, res.pageSize, res.total, (p) => `/admin/conversations${query({ ...q, page: p })}`, 'conversation'),
  );
}
