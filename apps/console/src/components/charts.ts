import { h, svg } from '../lib/dom';
import { formatNumber } from '../lib/format';

/**
 * Small charts in inline SVG (geometry lives in attributes, so the strict CSP is fine). Each
 * chart is a <figure> with a caption and the same numbers as a table for screen readers and for
 * anyone who wants the exact values.
 */
export interface Datum {
  label: string;
  value: number;
  /** Optional second series drawn over the first (e.g. failed within sent). */
  secondary?: number;
  /** Text shown instead of the value (e.g. a percentage). */
  display?: string;
}

export function barList(caption: string, data: Datum[], opts: { max?: number; unit?: string; secondaryLabel?: string } = {}): HTMLElement {
  const max = opts.max ?? Math.max(1, ...data.map((d) => d.value));
  const rows = data.map((d) => {
    const pct = Math.max(0, Math.min(100, (d.value / max) * 100));
    const sec = d.secondary !== undefined ? Math.max(0, Math.min(100, (d.secondary / max) * 100)) : null;
    return h(
      'div',
      { class: 'barlist-row' },
      h('span', { class: 'barlist-label' }, d.label),
      svg(
        'svg',
        { class: 'barlist-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
        svg('rect', { class: 'bar-bg', x: 0, y: 0, width: 100, height: 10, rx: 2 }),
        svg('rect', { class: 'bar-fg', x: 0, y: 0, width: pct.toFixed(2), height: 10, rx: 2 }),
        sec !== null ? svg('rect', { class: 'bar-sec', x: 0, y: 0, width: sec.toFixed(2), height: 10, rx: 2 }) : null,
      ),
      h('span', { class: 'barlist-value' }, d.display ?? `${formatNumber(d.value)}${opts.unit ?? ''}`),
    );
  });
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', null, caption),
    data.length ? h('div', { class: 'barlist', 'aria-hidden': 'true' }, rows) : h('p', { class: 'muted' }, 'No data yet.'),
    dataTable(caption, data, opts.secondaryLabel),
  );
}

export function columnChart(caption: string, data: Datum[], opts: { unit?: string; secondaryLabel?: string; primaryLabel?: string } = {}): HTMLElement {
  const max = Math.max(1, ...data.map((d) => Math.max(d.value, d.secondary ?? 0)));
  const barW = 10;
  const gap = 4;
  const height = 100;
  const width = Math.max(1, data.length * (barW + gap) - gap);
  const bars = data.map((d, i) => {
    const x = i * (barW + gap);
    const hPrimary = (d.value / max) * height;
    const hSec = d.secondary !== undefined ? (d.secondary / max) * height : 0;
    return svg(
      'g',
      null,
      svg('title', null, `${d.label}: ${formatNumber(d.value)}${opts.unit ?? ''}${d.secondary !== undefined ? `, ${opts.secondaryLabel ?? 'secondary'} ${formatNumber(d.secondary)}` : ''}`),
      svg('rect', { class: 'col-fg', x, y: (height - hPrimary).toFixed(2), width: barW, height: Math.max(hPrimary, d.value > 0 ? 1 : 0).toFixed(2), rx: 1.5 }),
      hSec > 0 ? svg('rect', { class: 'col-sec', x, y: (height - hSec).toFixed(2), width: barW, height: hSec.toFixed(2), rx: 1.5 }) : null,
    );
  });
  const first = data[0]?.label ?? '';
  const last = data[data.length - 1]?.label ?? '';
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', null, caption, legend(opts.primaryLabel, opts.secondaryLabel)),
    data.some((d) => d.value > 0 || (d.secondary ?? 0) > 0)
      ? h(
          'div',
          { class: 'columns', 'aria-hidden': 'true' },
          svg('svg', { class: 'columns-svg', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', focusable: 'false' }, svg('line', { class: 'axis', x1: 0, y1: height, x2: width, y2: height }), bars),
          h('div', { class: 'columns-axis' }, h('span', null, first), h('span', null, `max ${formatNumber(max)}${opts.unit ?? ''}`), h('span', null, last)),
        )
      : h('p', { class: 'muted chart-empty' }, 'Nothing in this period yet.'),
    dataTable(caption, data, opts.secondaryLabel),
  );
}

function legend(primary?: string, secondary?: string): HTMLElement | null {
  if (!primary && !secondary) return null;
  return h(
    'span',
    { class: 'legend', 'aria-hidden': 'true' },
    primary ? h('span', { class: 'legend-item legend-fg' }, primary) : null,
    secondary ? h('span', { class: 'legend-item legend-sec' }, secondary) : null,
  );
}

function dataTable(caption: string, data: Datum[], secondaryLabel?: string): HTMLElement {
  return h(
    'table',
    { class: 'sr-only' },
    h('caption', null, caption),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col' }, 'Value'), secondaryLabel ? h('th', { scope: 'col' }, secondaryLabel) : null)),
    h(
      'tbody',
      null,
      data.map((d) => h('tr', null, h('th', { scope: 'row' }, d.label), h('td', null, d.display ?? formatNumber(d.value)), secondaryLabel ? h('td', null, formatNumber(d.secondary ?? 0)) : null)),
    ),
  );
}

/** A big number with a label, for the top of the dashboard. */
export function statTile(label: string, value: string, detail?: string, tone: 'neutral' | 'good' | 'warn' | 'bad' = 'neutral'): HTMLElement {
  return h('div', { class: ['stat', `stat-${tone}`] }, h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value), detail ? h('p', { class: 'stat-detail' }, detail) : null);
}
