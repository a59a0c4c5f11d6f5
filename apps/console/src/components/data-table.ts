import { type Child, h } from '../lib/dom';
import { plural } from '../lib/format';

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  class?: string;
  /** The row header cell (scope="row"): usually the item's name. */
  rowHeader?: boolean;
}

/**
 * A data table with a caption for assistive tech; on phones it becomes a stack of labelled
 * rows (each cell carries its column label in data-label, shown by CSS).
 */
export function dataTable<T>(caption: string, columns: Column<T>[], rows: T[], opts: { rowAttrs?: (row: T) => Record<string, string>; testid?: string; stackOnPhone?: boolean } = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: ['data', opts.stackOnPhone !== false && 'stack-on-phone'], 'data-testid': opts.testid },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            opts.rowAttrs ? { dataset: opts.rowAttrs(row) } : null,
            columns.map((c) => (c.rowHeader ? h('th', { scope: 'row', class: c.class, 'data-label': c.label }, c.cell(row)) : h('td', { class: c.class, 'data-label': c.label }, c.cell(row)))),
          ),
        ),
      ),
    ),
  );
}

/** Previous/next links for a paged list; `href(page)` builds each link. */
export function pager(page: number, pageSize: number, total: number, href: (page: number) => string, noun = 'item'): HTMLElement | null {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return h('p', { class: 'pager' }, h('span', null, plural(total, noun)));
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? h('a', { href: href(page - 1), class: 'btn btn-secondary btn-small' }, '← Previous') : h('span'),
    h('span', null, `Page ${page} of ${pages} · ${plural(total, noun)}`),
    page < pages ? h('a', { href: href(page + 1), class: 'btn btn-secondary btn-small' }, 'Next →') : h('span'),
  );
}
