import { barList, columnChart, statTile } from '../../components/charts';
import { dataTable } from '../../components/data-table';
import { h } from '../../lib/dom';
import { adminApi, type AdminMetrics } from '../../lib/admin-api';
import { formatDuration, formatNumber, formatPercent, formatUsd, humanize } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

const RANGES = [7, 14, 30, 90];

/** The dashboard: sends, failures, lateness, replies, done-rates, queue depths. */
export async function overviewPage(ctx: PageContext): Promise<HTMLElement> {
  const days = RANGES.includes(Number(ctx.query.get('days'))) ? Number(ctx.query.get('days')) : 14;
  const [m, review] = await Promise.all([adminApi.metrics(days), adminApi.reviewQueue().catch(() => [])]);

  const range = h(
    'nav',
    { class: 'segmented', 'aria-label': 'Time range' },
    RANGES.map((d) => h('a', { href: `/admin?days=${d}`, 'aria-current': d === days ? 'true' : undefined }, `${d} days`)),
  );

  const totals = m.perDay.reduce((a, d) => ({ sent: a.sent + d.sent, failed: a.failed + d.failed, replies: a.replies + d.replies, skipped: a.skipped + d.skipped }), { sent: 0, failed: 0, replies: 0, skipped: 0 });
  const done = m.doneRateByTopic.reduce((a, t) => a + t.done, 0);
  const sentInTopics = m.doneRateByTopic.reduce((a, t) => a + t.sent, 0);
  const replied = m.doneRateByTopic.reduce((a, t) => a + t.replied, 0);
  const failingNow = (m.lettersByStatus.failed ?? 0) + (m.lettersByStatus.retrying ?? 0);

  return h(
    'div',
    null,
    adminHead('Overview', `The last ${days} days, computed from the database. Updated ${new Date(m.generatedAt).toLocaleTimeString()}.`, range),
    h(
      'div',
      { class: 'stats' },
      statTile('Letters sent', formatNumber(totals.sent), `${formatNumber(totals.skipped)} skipped`),
      statTile('Failed', formatNumber(totals.failed), `${formatNumber(failingNow)} failed or retrying now`, totals.failed ? 'bad' : 'neutral'),
      statTile('Replies', formatNumber(totals.replies), sentInTopics ? `${formatPercent(replied / sentInTopics)} of letters got one` : undefined),
      statTile('Done-rate', sentInTopics ? formatPercent(done / sentInTopics) : '—', `${formatNumber(done)} marked done`, 'good'),
      statTile('Lateness p50', formatDuration(secMs(m.lateness?.p50Sec)), `p99 ${formatDuration(secMs(m.lateness?.p99Sec))} · max ${formatDuration(secMs(m.lateness?.maxSec))}`),
      statTile('To review', formatNumber(review.length), review.length ? 'unclear unsubscribes' : 'nothing waiting', review.length ? 'warn' : 'neutral'),
    ),
    h(
      'div',
      { class: 'split' },
      h('section', { class: 'panel' }, columnChart('Letters sent per day', m.perDay.map((d) => ({ label: shortDay(d.day), value: d.sent, secondary: d.failed })), { primaryLabel: 'sent', secondaryLabel: 'failed' })),
      h('section', { class: 'panel' }, columnChart('Replies per day', m.perDay.map((d) => ({ label: shortDay(d.day), value: d.replies })), { primaryLabel: 'replies' })),
    ),
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { class: 'panel' },
        barList(
          'Done-rate by topic',
          m.doneRateByTopic.map((t) => ({ label: t.name, value: t.doneRate ?? 0, display: t.sent ? `${formatPercent(t.doneRate)} of ${t.sent}` : 'no letters' })),
          { max: 1 },
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        barList(
          'Done-rate by prompt version',
          m.doneRateByPromptVersion.map((p) => ({ label: `${p.topic} v${p.promptVersion || '?'}`, value: p.doneRate ?? 0, display: `${formatPercent(p.doneRate)} of ${p.sent}` })),
          { max: 1 },
        ),
      ),
    ),
    h('section', { class: 'panel' }, columnChart('Median lateness per day (scheduled letters)', m.perDay.map((d) => ({ label: shortDay(d.day), value: Math.max(0, d.latenessP50Sec ?? 0) })), { unit: ' s' })),
    llmCostPanel(m),
    queuesPanel(m),
    h(
      'section',
      { class: 'panel' },
      barList(
        'Letters by status (all time)',
        Object.entries(m.lettersByStatus)
          .sort((a, b) => b[1] - a[1])
          .map(([s, n]) => ({ label: humanize(s), value: n })),
      ),
    ),
  );
}

/** What the LLM cost: per letter, per day, per topic and prompt version, the classifier's share, cache hits. */
function llmCostPanel(m: AdminMetrics): HTMLElement {
  const c = m.llmCost;
  const unpriced = c.letters.unpricedLetters;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'llm-cost-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'llm-cost-title' }, 'LLM cost')),
    h(
      'div',
      { class: 'stats' },
      statTile('LLM spend', formatUsd(c.totalUsd), `${formatNumber(c.letters.letters)} letters · ${formatNumber(c.replies.replies)} replies classified`),
      statTile('Per letter', formatUsd(c.perLetterUsd), unpriced ? `${formatNumber(unpriced)} letters of a model without a price` : 'at the configured model prices', unpriced ? 'warn' : 'neutral'),
      statTile('Reply classifier', formatPercent(c.replyShare), `of the spend (${formatUsd(c.replies.usd)})`),
      statTile('Prompt cache hits', formatPercent(c.cacheHitShare), 'of prompt tokens served from the provider cache'),
    ),
    h(
      'div',
      { class: 'split' },
      columnChart('LLM spend per day (USD)', c.perDay.map((d) => ({ label: shortDay(d.day), value: d.lettersUsd, secondary: d.repliesUsd })), { primaryLabel: 'letters', secondaryLabel: 'replies' }),
      barList('Cost per letter by topic', c.byTopic.map((t) => ({ label: t.name, value: t.perLetterUsd ?? 0, display: `${formatUsd(t.perLetterUsd)} × ${formatNumber(t.letters)}` }))),
    ),
    barList('Cost per letter by prompt version', c.byPromptVersion.map((p) => ({ label: `${p.topic} v${p.promptVersion || '?'}`, value: p.perLetterUsd ?? 0, display: `${formatUsd(p.perLetterUsd)} × ${formatNumber(p.letters)}` }))),
  );
}

function queuesPanel(m: AdminMetrics): HTMLElement {
  const states = ['waiting', 'active', 'delayed', 'failed', 'completed'];
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'queues-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'queues-title' }, 'Queues now'), h('a', { href: '/admin/queues', 'data-external': '' }, 'Open Bull Board ↗')),
    dataTable(
      'Queue depths',
      [
        { label: 'Queue', cell: (q: AdminMetrics['queues'][number]) => h('code', null, q.queue), rowHeader: true },
        ...states.map((s) => ({ label: humanize(s), class: 'num', cell: (q: AdminMetrics['queues'][number]) => (q.counts ? formatNumber(q.counts[s] ?? 0) : h('span', { class: 'muted' }, q.error ?? '—')) })),
      ],
      m.queues,
      { stackOnPhone: false },
    ),
  );
}

function secMs(sec: number | null | undefined): number | null {
  return sec === null || sec === undefined ? null : sec * 1000;
}

function shortDay(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}
