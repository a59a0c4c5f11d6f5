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
/** An admin signed in from a letter's footer link: settings yes, console no (a letter can be forwarded). */
export function consoleNeedsSignInPage(): HTMLElement {
  return h(
    'section',
    { class: 'narrow status-page', 'data-testid': 'console-needs-sign-in' },
    h('h1', null, 'Sign in again to use the console'),
    h('p', null, 'You came in through the link in a letter. It opens your own settings and letters, but not the console: a letter can be forwarded, and the console must not travel with it.'),
    h('p', null, 'Sign out, then request a sign-in link on the home page; that link opens the console.'),
    h('p', null, h('a', { href: '/settings' }, 'Back to your settings')),
  );
}

export function forbiddenPage(): HTMLElement {
  return h(
    'section',
    { class: 'narrow status-page', 'data-testid': 'forbidden' },
    h('h1', null, 'Admins only'),
    h('p', null, 'This part of Mentor Zero is for the people who run it. Your account does not have access.'),
    h('p', null, h('a', { href: '/settings' }, 'Back to your settings')),
  );
}
