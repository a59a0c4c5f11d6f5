import { badge, emptyState, loadError, spinner, statusBadge } from '../components/fields';
import { htmlFrame } from '../components/html-frame';
import { toast, toastError } from '../components/toast';
import { h, replace } from '../lib/dom';
import { api, query } from '../lib/http.client';
import { loadTopics, type MyLetter, type Paged, type Reply } from '../lib/api-types';
import { displaySubject, formatDateTime, humanize, plural, relativeTime } from '../lib/format';
import type { PageContext } from './page';

const PAGE_SIZE = 10;

/** My letters, newest first, each with the replies I sent to it. */
export function lettersPage(ctx: PageContext): HTMLElement {
  const topic = ctx.query.get('topic') ?? '';
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  const list = h('div', { class: 'letter-list' }, spinner('Loading your letters…'));
  const filters = h('nav', { class: 'letter-filters', 'aria-label': 'Filter by topic' });

  const href = (t: string, p = 1) => `/letters${query({ topic: t, page: p > 1 ? p : undefined })}`;
  loadTopics().then(
    (topics) => {
      if (!ctx.isCurrent() || !topics.length) return;
      const item = (code: string, label: string) => h('a', { href: href(code), 'aria-current': code === topic ? 'true' : undefined }, label);
      replace(filters, h('div', { class: 'segmented' }, item('', 'All'), topics.map((t) => item(t.code, t.name))));
    },
    () => undefined,
  );

  const load = () => {
    replace(list, spinner('Loading your letters…'));
    api.get<Paged<MyLetter>>(`/api/letters${query({ topic, page, pageSize: PAGE_SIZE })}`).then(
      (res) => {
        if (!ctx.isCurrent()) return;
        if (!res.items.length) {
          replace(
            list,
            emptyState(
              topic ? 'No letters for this topic yet' : 'No letters yet',
              h('span', null, 'Turn on a topic in ', h('a', { href: '/settings' }, 'your settings'), ' — or press “Send one now” there to get a letter right away.'),
            ),
          );
          return;
        }
        const pages = Math.max(1, Math.ceil(res.total / res.pageSize));
        replace(
          list,
          res.items.map((l) => letterCard(l, page === 1 && l.id === res.items.find((x) => x.status === 'sent')?.id)),
          pages > 1
            ? h(
                'nav',
                { class: 'pager', 'aria-label': 'Pages' },
                page > 1 ? h('a', { href: href(topic, page - 1), class: 'btn btn-secondary btn-small' }, '← Newer') : h('span'),
                h('span', null, `Page ${page} of ${pages} · ${plural(res.total, 'letter')}`),
                page < pages ? h('a', { href: href(topic, page + 1), class: 'btn btn-secondary btn-small' }, 'Older →') : h('span'),
              )
            : null,
        );
      },
      (err) => ctx.isCurrent() && replace(list, loadError(err, load)),
    );
  };
  load();
  // Letters being written show up without a reload.
  const timer = window.setInterval(() => {
    if (list.querySelector('[data-pending="true"]')) load();
  }, 15_000);
  ctx.onCleanup(() => window.clearInterval(timer));

  return h(
    'div',
    { class: 'letters' },
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'My letters'), h('p', null, 'Reply to any letter from your inbox to mark it done, leave a note, or pause. Your replies show up here.')),
      h('a', { href: '/settings', class: 'btn btn-secondary' }, 'Settings'),
    ),
    filters,
    list,
  );
}

const PENDING = new Set(['scheduled', 'composing', 'composed', 'sending', 'retrying']);

function letterCard(letter: MyLetter, open: boolean): HTMLElement {
  const pending = PENDING.has(letter.status);
  const when = letter.sentAt ?? letter.scheduledFor;
  const title = displaySubject(letter.subject) ?? (pending ? `${letter.topic.name} letter, on its way` : `${letter.topic.name} letter`);
  const head = h(
    'header',
    { class: 'letter-head' },
    h('p', { class: 'letter-meta' }, badge(letter.topic.name, 'info'), ' ', h('time', { datetime: when }, formatDateTime(when)), letter.kind === 'send_now' ? h('span', { class: 'muted' }, ' · sent on request') : null),
    h('h2', { class: 'letter-subject' }, title),
    h(
      'p',
      { class: 'letter-flags' },
      letter.status !== 'sent' ? statusBadge(letter.status) : null,
      letter.done ? badge('Done ✓', 'good') : null,
      letter.replies.length ? badge(plural(letter.replies.length, 'reply', 'replies'), 'neutral') : null,
      letter.status === 'sent' && !letter.done ? markDoneButton(letter) : null,
    ),
  );
  const article = h('article', { class: 'letter card', 'data-pending': pending ? 'true' : 'false', 'data-letter-id': letter.id }, head);

  if (letter.status === 'sent' && (letter.bodyHtml || letter.bodyText)) {
    const body = h('div', { class: 'letter-body' });
    const details = h('details', { class: 'letter-details', open }, h('summary', null, 'Read the letter'), body);
    let rendered = false;
    const render = () => {
      if (rendered || !details.open) return;
      rendered = true;
      if (letter.bodyHtml) body.append(htmlFrame(letter.bodyHtml, { title: `Letter: ${title}` }));
      else body.append(h('div', { class: 'letter-text' }, letter.bodyText ?? ''));
    };
    details.addEventListener('toggle', render);
    article.append(details);
    if (open) queueMicrotask(render);
  } else if (pending) {
    const due = new Date(letter.scheduledFor).getTime() <= Date.now();
    article.append(
      h(
        'p',
        { class: 'muted' },
        letter.status === 'retrying'
          ? 'Delivery hit a snag; we are retrying automatically.'
          : due
            ? 'Being written and sent — it arrives in a minute or two.'
            : `Scheduled for ${formatDateTime(letter.scheduledFor)} (${relativeTime(letter.scheduledFor)}).`,
      ),
    );
  } else if (letter.status === 'failed') {
    article.append(h('p', { class: 'muted' }, 'This letter could not be delivered. The team has been notified.'));
  } else if (letter.status === 'skipped') {
    article.append(h('p', { class: 'muted' }, 'This letter was skipped (its time slot passed while we were away, or the address could not receive mail).'));
  }

  if (letter.replies.length) {
    article.append(h('section', { class: 'replies', 'aria-label': 'Your replies' }, h('h3', null, 'Your replies'), h('ol', null, letter.replies.map(replyItem))));
  }
  return article;
}

function replyItem(r: Reply): HTMLLIElement {
  return h(
    'li',
    { class: 'reply' },
    h('p', { class: 'reply-meta' }, h('time', { datetime: r.receivedAt }, formatDateTime(r.receivedAt)), ' ', r.intent ? statusBadge(r.intent) : null),
    r.text ? h('blockquote', { class: 'reply-text' }, r.text) : null,
    r.note && r.note !== r.text ? h('p', { class: 'reply-note' }, h('span', { class: 'muted' }, 'Noted: '), r.note) : null,
    !r.text && !r.note && r.intent ? h('p', { class: 'muted' }, humanize(r.intent)) : null,
  );
}

/**
 * "Mark done": the web's way of replying "done" (POST /api/letters/:id/done — once per letter;
 * a second click, or a click after a "done" reply, changes nothing). The button becomes the badge.
 */
function markDoneButton(letter: MyLetter): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-action': 'mark-done' }, 'Mark done') as HTMLButtonElement;
  button.addEventListener('click', () => {
    button.disabled = true;
    api.post<{ changed: boolean; streak: number }>(`/api/letters/${encodeURIComponent(letter.id)}/done`).then(
      (r) => {
        button.replaceWith(badge('Done ✓', 'good'));
        toast(r.changed ? `Marked done — your ${letter.topic.name} streak is ${plural(r.streak, 'letter')}.` : 'This letter was already done.', 'success');
      },
      (err: unknown) => {
        button.disabled = false;
        toastError(err, 'Could not mark it done.');
      },
    );
  });
  return button;
}
