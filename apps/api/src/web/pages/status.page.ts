import { h } from '../lib/dom';

export function notFoundPage(): HTMLElement {
  return h(
    'section',
    { class: 'narrow status-page' },
    h('h1', null, 'Nothing here'),
    h('p', null, 'This page does not exist. It may have moved, or the link was cut short.'),
    h('p', null, h('a', { href: '/' }, 'Go to the start page')),
  );
}

/** Shown to signed-in users without the admin role; the admin API refuses them anyway. */
export function forbiddenPage(): HTMLElement {
  return h(
    'section',
    { class: 'narrow status-page', 'data-testid': 'forbidden' },
    h('h1', null, 'Admins only'),
    h('p', null, 'This part of Mentor Zero is for the people who run it. Your account does not have access.'),
    h('p', null, h('a', { href: '/settings' }, 'Back to your settings')),
  );
}
