import { h } from '../../lib/dom';

export const ADMIN_SECTIONS: { href: string; label: string }[] = [
  { href: '/admin', label: 'Overview' },
  { href: '/admin/letters', label: 'Letters' },
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/conversations', label: 'Conversations' },
  { href: '/admin/reviews', label: 'Replies to review' },
  { href: '/admin/suppressions', label: 'Suppressions' },
  { href: '/admin/prompts', label: 'Prompts' },
  { href: '/admin/topics', label: 'Topics & personas' },
  { href: '/admin/footer', label: 'Footer' },
  { href: '/admin/config', label: 'Config' },
  { href: '/admin/simulator', label: 'Reply simulator' },
  { href: '/admin/audit', label: 'Audit log' },
];

/** Admin chrome: section navigation beside (desktop) or above (phone) the page content. */
export function adminLayout(path: string, content: Node): HTMLElement {
  const isCurrent = (href: string) => (href === '/admin' ? path === '/admin' || path === '/admin/' : path === href || path.startsWith(`${href}/`));
  return h(
    'div',
    { class: 'admin' },
    h(
      'nav',
      { class: 'admin-nav', 'aria-label': 'Admin sections' },
      h('p', { class: 'admin-nav-title' }, 'Console'),
      h(
        'ul',
        null,
        ADMIN_SECTIONS.map((s) => h('li', null, h('a', { href: s.href, 'aria-current': isCurrent(s.href) ? 'page' : undefined }, s.label))),
        h('li', { class: 'admin-nav-ext' }, h('a', { href: '/admin/queues', 'data-external': '', 'data-testid': 'bull-board-link' }, 'Queues (Bull Board) ↗')),
        h('li', { class: 'admin-nav-ext' }, h('a', { href: '/architecture', 'data-external': '' }, 'Architecture ↗')),
      ),
    ),
    h('div', { class: 'admin-content' }, content),
  );
}

/** The heading block at the top of each admin page. */
export function adminHead(title: string, intro?: string, ...actions: Node[]): HTMLElement {
  return h('div', { class: 'page-head' }, h('div', null, h('h1', null, title), intro ? h('p', null, intro) : null), actions.length ? h('div', { class: 'cluster' }, actions) : null);
}
