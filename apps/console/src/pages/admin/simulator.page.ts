import { badge, emptyState, field, statusBadge, withBusy } from '../../components/fields';
import { h, replace } from '../../lib/dom';
import { adminApi, type AdminLetter, type AdminReplyDetail } from '../../lib/admin-api';
import { ApiError } from '../../lib/http.client';
import { formatDateTime, formatPercent, humanize, plural } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

const SAMPLES = ['Done — I did it this morning before work.', 'Not today. I was too tired, but I wrote down why.', 'Please pause for a week, I am travelling.', 'Unsubscribe me please.'];
const POLL_MS = 400;
const POLL_LIMIT_MS = 30_000;

/**
 * Runs the real inbound pipeline on a reply written here: the API stores it as an inbound
 * message (source "simulator") and queues it for the inbound worker; we then watch the message
 * until the worker has processed it and show what it understood and what changed.
 */
export async function simulatorPage(ctx: PageContext): Promise<HTMLElement> {
  const recent = await adminApi.letters({ status: 'sent' });
  const preselect = ctx.query.get('letter');
  if (!recent.items.length && !preselect) {
    return h('div', null, adminHead('Reply simulator'), emptyState('No sent letters yet', 'Send a letter first (a subscriber’s “Send one now” works), then reply to it here.'));
  }

  const letterSel = h(
    'select',
    { name: 'letterId', required: true, 'data-testid': 'sim-letter' },
    recent.items.map((l) => h('option', { value: l.id, selected: l.id === preselect }, letterLabel(l))),
  );
  if (preselect && !recent.items.some((l) => l.id === preselect)) letterSel.prepend(h('option', { value: preselect, selected: true }, `Letter ${preselect.slice(0, 8)}…`));
  const text = h('textarea', { name: 'text', rows: '5', required: true, maxlength: '20000', 'data-testid': 'sim-text', placeholder: 'Write as the subscriber would, e.g. “Done!”' });
  const from = h('input', { type: 'email', name: 'from', autocomplete: 'off', placeholder: 'Leave empty to reply as the subscriber' });
  const run = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sim-run' }, 'Run the reply');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('section', { class: 'panel sim-result', 'aria-live': 'polite', 'aria-labelledby': 'sim-result-title', 'data-testid': 'sim-result' }, h('h2', { id: 'sim-result-title' }, 'Result'), h('p', { class: 'muted' }, 'Run a reply to see what the inbound pipeline makes of it.'));

  const samples = h(
    'div',
    { class: 'cluster' },
    h('span', { class: 'small muted' }, 'Try:'),
    SAMPLES.map((s) => {
      const b = h('button', { type: 'button', class: 'chip', title: s }, s.length > 30 ? `${s.slice(0, 28)}…` : s);
      b.addEventListener('click', () => {
        text.value = s;
        text.focus();
      });
      return b;
    }),
  );

  const form = h(
    'form',
    { class: 'panel stack', novalidate: true },
    field('Letter to reply to', letterSel, { hint: 'Recent sent letters, newest first.' }),
    field('Reply text', text),
    samples,
    field('From address (optional)', from, { hint: 'Another address shows what happens to a stranger’s reply: it must change nothing.' }),
    error,
    h('div', { class: 'cluster' }, run),
  );

  let polling = true;
  ctx.onCleanup(() => {
    polling = false;
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!text.value.trim()) {
      error.textContent = 'Write a reply first.';
      text.focus();
      return;
    }
    if (from.value && !from.checkValidity()) {
      error.textContent = 'The From address is not a valid email address.';
      from.focus();
      return;
    }
    const letterId = letterSel.value;
    const letter = recent.items.find((l) => l.id === letterId);
    await withBusy(run, 'Running…', async () => {
      try {
        const started = await adminApi.simulateReply({ letterId, text: text.value, from: from.value.trim() || undefined });
        replace(result, h('h2', { id: 'sim-result-title' }, 'Result'), h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Stored; waiting for the inbound worker…'));
        const processed = await waitProcessed(started.inboundMessageId, () => polling && ctx.isCurrent());
        if (!ctx.isCurrent()) return;
        const after = letter ? await streakOf(letter).catch(() => null) : null;
        replace(result, h('h2', { id: 'sim-result-title' }, 'Result'), processed ? resultView(processed, letter, after) : timeoutView(started.inboundMessageId));
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : 'The simulation failed.';
      }
    });
  });

  return h(
    'div',
    null,
    adminHead('Reply simulator', 'Write a reply to a real letter and run it through the real inbound pipeline: parsing, matching, intent, and its effect on the subscriber’s progress. It changes real data.'),
    h('div', { class: 'split' }, form, result),
  );
}

function letterLabel(l: AdminLetter): string {
  return `${l.topicName} · ${l.userEmail} · ${formatDateTime(l.sentAt ?? l.scheduledFor)} — ${l.subject ?? '(no subject)'}`.slice(0, 140);
}

async function waitProcessed(id: string, alive: () => boolean): Promise<AdminReplyDetail | null> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (Date.now() < deadline && alive()) {
    const r = await adminApi.reply(id);
    if (r.processedAt || r.error) return r;
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  return null;
}

async function streakOf(letter: AdminLetter): Promise<{ streak: number; enabled: boolean; pausedUntil: string | null } | null> {
  const detail = await adminApi.user(letter.userId);
  const sub = (detail.subscriptions as { topic: { code: string }; streak: number; enabled: boolean; pausedUntil: string | null }[]).find((s) => s.topic.code === letter.topic);
  return sub ? { streak: sub.streak, enabled: sub.enabled, pausedUntil: sub.pausedUntil } : null;
}

/** What the pipeline did, in words an admin can check against the reply. */
export function effectOf(r: Pick<AdminReplyDetail, 'kind' | 'intent' | 'needsReview' | 'error'> & { analysis?: Record<string, unknown> | null }, after: { streak: number; enabled: boolean; pausedUntil: string | null } | null): string {
  if (r.error) return `Not processed: ${r.error}`;
  switch (r.kind) {
    case 'unmatched':
      return 'Nothing changed: the message could not be matched to one of our letters and its recipient.';
    case 'auto_reply':
      return 'Ignored as an automatic reply (never answered, never counted).';
    case 'bounce':
      return 'Treated as a bounce: the address may be suppressed.';
    case 'complaint':
      return 'Treated as a complaint: the address is suppressed and the topic disabled.';
    default:
      break;
  }
  const reason = typeof r.analysis?.reviewReason === 'string' ? r.analysis.reviewReason : '';
  if (r.needsReview && reason.startsWith('untrusted:')) {
    return `Nothing changed, flagged for review: we could not verify that the subscriber sent it (${humanize(reason.slice('untrusted:'.length))}).`;
  }
  if (r.needsReview) return 'Kept as a note and flagged for review: the unsubscribe was not clear enough to act on.';
  switch (r.intent) {
    case 'done':
      return after ? `Marked done. Streak is now ${plural(after.streak, 'day')}.` : 'Marked done.';
    case 'note':
      return after ? `Saved as a note. Streak stays at ${plural(after.streak, 'day')}.` : 'Saved as a note.';
    case 'unsubscribe':
      return after && !after.enabled ? 'Unsubscribed: the topic is off and its pending letters are cancelled.' : 'Unsubscribe requested.';
    case 'pause':
      return after?.pausedUntil ? `Paused until ${formatDateTime(after.pausedUntil)}.` : 'Paused.';
    default:
      return 'Processed.';
  }
}

/** DMARC/SPF/DKIM as the inbound worker saw them (mailauth), e.g. "DMARC pass · SPF pass · DKIM pass". */
function authSummary(analysis: Record<string, unknown> | null | undefined): string {
  const a = analysis?.authentication as { dmarc?: { result?: string }; spf?: { result?: string } | null; dkim?: { result?: string }[] } | undefined;
  if (!a) return '—';
  const dkim = a.dkim?.length ? (a.dkim.some((d) => d.result === 'pass') ? 'pass' : a.dkim[0].result) : 'none';
  return `DMARC ${a.dmarc?.result ?? 'none'} · SPF ${a.spf?.result ?? 'not checked'} · DKIM ${dkim}`;
}

function resultView(r: AdminReplyDetail, letter: AdminLetter | undefined, after: { streak: number; enabled: boolean; pausedUntil: string | null } | null): HTMLElement {
  const fact = (label: string, value: Node | string, testid?: string) => h('div', { class: 'sim-fact' }, h('p', { class: 'label' }, label), h('p', { class: 'value', 'data-testid': testid }, value));
  return h(
    'div',
    { class: 'stack' },
    h(
      'div',
      { class: 'sim-facts' },
      fact('Kind', r.kind ? statusBadge(r.kind) : '—', 'sim-kind'),
      fact('Intent', r.intent ? statusBadge(r.intent) : '—', 'sim-intent'),
      fact('Confidence', r.confidence !== null && r.confidence !== undefined ? formatPercent(r.confidence) : '—'),
      fact('Review', r.needsReview ? badge('needs review', 'warn') : 'no'),
      fact('Authentication', authSummary(r.analysis), 'sim-auth'),
    ),
    h('p', { class: 'callout callout-info', 'data-testid': 'sim-effect' }, h('strong', null, 'Effect: '), effectOf(r, after)),
    r.text ? h('div', null, h('h3', { class: 'small' }, 'What the subscriber wrote (quoted letter and footer stripped)'), h('p', { class: 'thread-text reply-text' }, r.text)) : null,
    r.note && r.note !== r.text ? h('p', null, h('span', { class: 'muted' }, 'Note: '), r.note) : null,
    letter ? h('p', { class: 'small' }, h('a', { href: `/admin/users/${letter.userId}` }, 'Open the conversation'), ' · ', h('a', { href: `/admin/letters/${letter.id}` }, 'Open the letter')) : null,
    r.analysis ? h('details', { class: 'disclosure' }, h('summary', null, 'Analysis (raw)'), h('div', { class: 'disclosure-body' }, h('pre', { class: 'json' }, JSON.stringify(r.analysis, null, 2)))) : null,
    h('p', { class: 'small muted' }, `Source ${r.source} · ${humanize(r.kind ?? 'unprocessed')}`),
  );
}

function timeoutView(id: string): HTMLElement {
  return h(
    'div',
    { class: 'callout callout-warn', 'data-testid': 'sim-timeout' },
    h('p', null, 'The reply was stored and queued, but no inbound worker processed it within 30 seconds.'),
    h('p', { class: 'small' }, 'Is the inbound service running? Message ', h('code', null, id), ' will be processed when it is.'),
  );
}
