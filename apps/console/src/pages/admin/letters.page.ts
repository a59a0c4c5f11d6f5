import { dataTable, pager } from '../../components/data-table';
import { badge, button, emptyState, field, statusBadge, withBusy } from '../../components/fields';
import { htmlFrame } from '../../components/html-frame';
import { toast, toastError } from '../../components/toast';
import { type Child, h } from '../../lib/dom';
import { adminApi, type AdminLetter, type AdminLetterDetail, type AdminReply } from '../../lib/admin-api';
import { query } from '../../lib/http.client';
import { displaySubject, formatDateTime, formatDuration, formatNumber, formatUtc, humanize, relativeTime } from '../../lib/format';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

const STATUSES = ['failed', 'retrying', 'scheduled', 'composing', 'composed', 'sending', 'sent', 'skipped', 'cancelled'];
const RETRYABLE = new Set(['failed', 'retrying']);

/** Letters by status with their retry state, and Retry now. */
export async function adminLettersPage(ctx: PageContext): Promise<HTMLElement> {
  const q = {
    status: ctx.query.get('status') ?? undefined,
    topic: ctx.query.get('topic') ?? undefined,
    kind: ctx.query.get('kind') ?? undefined,
    errorType: ctx.query.get('errorType') ?? undefined,
    userId: ctx.query.get('userId') ?? undefined,
    page: Number(ctx.query.get('page')) || 1,
  };
  const [res, topics] = await Promise.all([adminApi.letters(q), adminApi.topics()]);
  const href = (patch: Record<string, string | number | undefined>) => `/admin/letters${query({ ...q, page: undefined, ...patch })}`;
  const total = Object.values(res.countsByStatus).reduce((a, b) => a + b, 0);

  const tabs = h(
    'nav',
    { class: 'segmented', 'aria-label': 'Status' },
    h('a', { href: href({ status: undefined }), 'aria-current': !q.status ? 'true' : undefined }, `All ${formatNumber(total)}`),
    STATUSES.map((s) => h('a', { href: href({ status: s }), 'aria-current': q.status === s ? 'true' : undefined, 'data-testid': `tab-${s}` }, `${humanize(s)} ${formatNumber(res.countsByStatus[s] ?? 0)}`)),
  );

  const topicSel = h('select', { name: 'topic' }, h('option', { value: '' }, 'All topics'), topics.map((t) => h('option', { value: t.code, selected: q.topic === t.code }, t.name)));
  const kindSel = h('select', { name: 'kind' }, h('option', { value: '' }, 'Any kind'), ['scheduled', 'send_now'].map((k) => h('option', { value: k, selected: q.kind === k }, humanize(k))));
  const errSel = h('select', { name: 'errorType' }, h('option', { value: '' }, 'Any error'), ['rate_limit', 'network', 'processing', 'permanent'].map((k) => h('option', { value: k, selected: q.errorType === k }, humanize(k))));
  for (const sel of [topicSel, kindSel, errSel]) sel.addEventListener('change', () => navigate(href({ [sel.name]: sel.value || undefined })));

  const retryButton = (l: AdminLetter) => {
    if (!RETRYABLE.has(l.status)) return null;
    const b = button('Retry now', { small: true, variant: l.status === 'failed' ? 'primary' : 'secondary', 'data-testid': `retry-${l.id}` });
    b.addEventListener('click', async () => {
      try {
        await withBusy(b, 'Retrying…', () => adminApi.retry(l.id));
        toast('Retry requested. The letter is back in the queue.');
        ctx.rerender();
      } catch (err) {
        toastError(err);
      }
    });
    return b;
  };

  const table = res.items.length
    ? dataTable<AdminLetter>(
        'Letters',
        [
          { label: 'Scheduled', cell: (l) => h('a', { href: `/admin/letters/${l.id}`, class: 'row-link nowrap' }, formatDateTime(l.scheduledFor)), rowHeader: true },
          {
            label: 'Letter',
            cell: (l) =>
              h(
                'span',
                { class: 'cell-stack' },
                h('span', null, h('strong', null, l.topicName), l.kind === 'send_now' ? h('span', { class: 'muted' }, ' · on request') : null),
                h('a', { href: `/admin/users/${l.userId}`, class: 'truncate small' }, l.userEmail),
              ),
          },
          { label: 'Status', cell: (l) => statusBadge(l.status) },
          { label: 'Retry state', cell: (l) => retryState(l) },
          { label: 'Actions', cell: (l) => retryButton(l), class: 'actions' },
        ],
        res.items,
        { rowAttrs: (l) => ({ letterId: l.id, status: l.status }), testid: 'letters-table' },
      )
    : emptyState(q.status ? `No ${q.status} letters` : 'No letters match', 'Try another filter.');

  return h(
    'div',
    null,
    adminHead('Letters', 'Every letter row with its state. Failed letters can be retried; retrying ones show when the next attempt happens.'),
    tabs,
    h('div', { class: 'toolbar' }, field('Topic', topicSel), field('Kind', kindSel), field('Error class', errSel)),
    table,
    pager(res.page, res.pageSize, res.total, (p) => `/admin/letters${query({ ...q, page: p })}`, 'letter'),
  );
}

/** Attempts, error class (last error on hover) and when the next attempt happens. */
function retryState(l: AdminLetter): HTMLElement {
  if (!l.attempts && !l.errorType) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    { class: 'cell-stack' },
    h('span', null, `${l.attempts} ${l.attempts === 1 ? 'attempt' : 'attempts'}`, l.errorType ? h('span', { title: l.lastError ?? '' }, ` · ${humanize(l.errorType)}`) : null),
    l.status === 'retrying' && l.nextRetryAt
      ? h(
          'span',
          { class: 'small muted' },
          // Past due means no worker has picked it up yet; the sweeper re-drives such rows.
          new Date(l.nextRetryAt) < new Date() ? 'next attempt overdue since ' : 'next ',
          h('time', { datetime: l.nextRetryAt, title: formatUtc(l.nextRetryAt) }, relativeTime(l.nextRetryAt)),
        )
      : l.status === 'failed'
        ? h('span', { class: 'small muted' }, 'no more automatic attempts')
        : null,
  );
}

/** One letter: its facts, body, the logged prompt, the events and replies. */
export async function adminLetterPage(ctx: PageContext): Promise<HTMLElement> {
  const l = await adminApi.letter(ctx.params.id);
  const retry = RETRYABLE.has(l.status) ? button('Retry now', { variant: 'primary', 'data-testid': 'retry-detail' }) : null;
  retry?.addEventListener('click', async () => {
    try {
      await withBusy(retry, 'Retrying…', () => adminApi.retry(l.id));
      toast('Retry requested. The letter is back in the queue.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });

  const facts: [string, Child][] = [
    ['Status', h('span', { 'data-testid': 'letter-status' }, statusBadge(l.status))],
    ['Subscriber', h('a', { href: `/admin/users/${l.userId}` }, l.userEmail)],
    ['Topic', `${l.topicName} (${l.topic})`],
    ['Subject line', l.subject ?? '—'],
    ['Kind', humanize(l.kind)],
    ['Scheduled for', `${formatDateTime(l.scheduledFor)} · ${formatUtc(l.scheduledFor)}`],
    ['Local date', l.localDate],
    ['Sent', l.sentAt ? `${formatDateTime(l.sentAt)} · ${formatUtc(l.sentAt)}` : '—'],
    ['Send attempts', String(l.attempts)],
    ['Error class', l.errorType ? humanize(l.errorType) : '—'],
    ['Last error', l.lastError ? h('code', null, l.lastError) : '—'],
    ['Next attempt', l.nextRetryAt ? `${formatDateTime(l.nextRetryAt)} (${relativeTime(l.nextRetryAt)})` : '—'],
    ['Skip reason', l.skipReason ? humanize(l.skipReason) : '—'],
    ['Model', l.fallbackReason ? `${l.model ?? '—'} (the LLM was failing: ${humanize(l.fallbackReason)})` : (l.model ?? '—')],
    ['Language', letterLanguage(l)],
    ['Prompt version', l.promptVersion ? `v${l.promptVersion}` : '—'],
    ['Tokens', l.promptTokens !== null || l.completionTokens !== null ? `${formatNumber(l.promptTokens ?? 0)} in · ${formatNumber(l.completionTokens ?? 0)} out` : '—'],
    ['Timings', `compose ${formatDuration(l.composeMs)} · send ${formatDuration(l.sendMs)}`],
    ['Message-ID', h('code', null, l.messageId)],
    ['SMTP response', l.smtpResponse ? h('code', null, l.smtpResponse) : '—'],
    ['Delivered', l.deliveredAt ? `${formatDateTime(l.deliveredAt)} · reported by ${humanize(l.deliveredBy ?? 'provider')}` : '—'],
  ];

  return h(
    'div',
    null,
    h('p', null, h('a', { href: '/admin/letters' }, '← All letters')),
    adminHead(displaySubject(l.subject) ?? `${l.topicName} letter`, undefined, ...(retry ? [retry] : [])),
    h(
      'div',
      { class: 'split' },
      h('section', { class: 'panel', 'aria-labelledby': 'facts-title' }, h('h2', { id: 'facts-title' }, 'Facts'), h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'body-title' },
        h('h2', { id: 'body-title' }, 'Letter'),
        l.bodyHtml ? htmlFrame(l.bodyHtml, { title: 'Letter body' }) : l.bodyText ? h('div', { class: 'letter-text' }, l.bodyText) : h('p', { class: 'muted' }, 'Not composed yet.'),
        l.summary ? h('p', { class: 'small muted' }, h('strong', null, 'Summary: '), l.summary) : null,
        l.themes?.length ? h('p', { class: 'cluster' }, l.themes.map((t) => badge(t, 'info')), (l.variationTags ?? []).map((t) => badge(t))) : null,
      ),
    ),
    promptSection(l),
    eventsSection(l),
    l.replies.length ? repliesSection(l.replies) : null,
  );
}

function promptSection(l: AdminLetterDetail): HTMLElement {
  if (!l.prompt) {
    return h('section', { class: 'panel' }, h('h2', null, 'Prompt'), h('p', { class: 'muted' }, 'Not logged. Turn on ', h('a', { href: '/admin/config' }, h('code', null, 'log_prompts')), ' to keep the exact messages of new letters.'));
  }
  const messages = Array.isArray(l.prompt.messages) ? (l.prompt.messages as { role?: string; content?: unknown }[]) : [];
  return h(
    'section',
    { class: 'panel', 'data-testid': 'logged-prompt' },
    h('h2', null, 'Logged prompt'),
    messages.length
      ? messages.map((m) => h('div', { class: 'prompt-message' }, h('p', { class: 'small' }, badge(m.role ?? 'message', m.role === 'system' ? 'info' : 'neutral')), h('pre', { class: 'template-text' }, typeof m.content === 'string' ? m.content : JSON.stringify(m.content, null, 2))))
      : h('pre', { class: 'json' }, JSON.stringify(l.prompt.messages, null, 2)),
    l.prompt.response ? h('details', { class: 'disclosure' }, h('summary', null, 'Raw model response'), h('div', { class: 'disclosure-body' }, h('pre', { class: 'json' }, l.prompt.response))) : null,
  );
}

function eventsSection(l: AdminLetterDetail): HTMLElement {
  return h(
    'section',
    { class: 'panel' },
    h('h2', null, 'History'),
    l.events.length
      ? h(
          'ol',
          { class: 'timeline' },
          l.events.map((e) =>
            h(
              'li',
              null,
              h('time', { datetime: e.createdAt }, formatUtc(e.createdAt)),
              ' ',
              h('strong', null, humanize(e.type.toLowerCase())),
              Object.keys(e.metadata ?? {}).length ? h('code', { class: 'small muted' }, ` ${JSON.stringify(e.metadata)}`) : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No events recorded.'),
  );
}

function repliesSection(replies: AdminReply[]): HTMLElement {
  return h(
    'section',
    { class: 'panel' },
    h('h2', null, 'Replies'),
    h(
      'ol',
      { class: 'thread' },
      replies.map((r) =>
        h(
          'li',
          { class: 'thread-item from-user' },
          h('p', { class: 'thread-meta' }, formatDateTime(r.receivedAt), r.kind ? statusBadge(r.kind) : null, r.intent ? statusBadge(r.intent) : null, r.needsReview ? badge('needs review', 'warn') : null),
          r.text ? h('p', { class: 'thread-text' }, r.text) : h('p', { class: 'muted' }, r.error ?? 'No text extracted.'),
        ),
      ),
    ),
  );
}

/** "de-AT", or "en (asked for de-AT: the offline composer writes English only)" — docs/architecture.md §3.3. */
function letterLanguage(l: AdminLetterDetail): string {
  if (!l.language) return '—';
  if (!l.subscriptionLanguage || l.subscriptionLanguage === l.language) return l.language;
  return l.model === 'offline' ? `${l.language} (asked for ${l.subscriptionLanguage}: the offline composer writes English only)` : `${l.language} (the subscription now asks for ${l.subscriptionLanguage})`;
}
