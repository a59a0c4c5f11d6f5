/**
 * The Mentor Zero web console: subscriber pages and the admin console in one small bundle.
 * The server sends the same HTML shell for every app route (src/console); this file draws the
 * layout, resolves the route and renders its page. No framework: pages are functions that return
 * DOM built with lib/dom.ts (text only — never innerHTML).
 */
import './styles/app.css';
import { mountToasts, toast } from './components/toast';
import { h, replace } from './lib/dom';
import { onUnauthorized } from './lib/http.client';
import { interceptLinks, matchRoute, navigate, onNavigate } from './lib/router';
import { forgetMe, loadMe, logout, type Me } from './lib/session';
import type { PageContext, RouteDef } from './pages/page';
import { ROUTES } from './routes';
import { consoleNeedsSignInPage, forbiddenPage, notFoundPage } from './pages/status.page';
import { adminLayout } from './pages/admin/admin-layout';

const root = document.getElementById('app') ?? document.body;
let renderSeq = 0;
let cleanups: (() => void)[] = [];

function header(user: Me | null, path: string): HTMLElement {
  const link = (href: string, label: string) => {
    const current = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
    return h('li', null, h('a', { href, class: 'nav-link', 'aria-current': current ? 'page' : undefined }, label));
  };
  const signOut = h('button', { type: 'button', class: 'btn btn-quiet btn-small' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    try {
      await logout();
    } catch {
      // The session may already be gone; either way the browser is signed out now.
    }
    toast('You are signed out.', 'info');
    navigate('/');
  });
  return h(
    'header',
    { class: 'site-header' },
    h(
      'div',
      { class: 'site-header-inner' },
      h('a', { href: '/', class: 'brand', 'aria-label': 'Mentor Zero, home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'M0'), h('span', { class: 'brand-name' }, 'Mentor Zero')),
      user
        ? h(
            'nav',
            { class: 'site-nav', 'aria-label': 'Main' },
            h('ul', null, link('/settings', 'Settings'), link('/letters', 'My letters'), user.role === 'admin' ? link('/admin', 'Admin') : null),
            h('span', { class: 'site-user', title: user.email }, user.email),
            signOut,
          )
        : h('nav', { class: 'site-nav', 'aria-label': 'Main' }, h('a', { href: '/#signin', class: 'btn btn-secondary btn-small' }, 'Sign in')),
    ),
  );
}

/** The site's contact address, from the shell's meta tag (CONTACT_EMAIL, else MAIL_FROM's address). */
function contactAddress(): string | null {
  const value = document.querySelector<HTMLMetaElement>('meta[name="mz-contact"]')?.content.trim() ?? '';
  return /^[^\s@<>"]+@[^\s@<>"]+$/.test(value) ? value : null;
}

function footer(): HTMLElement {
  const contact = contactAddress();
  return h(
    'footer',
    { class: 'site-footer' },
    h('p', null, 'Mentor Zero — one calm letter a day. Reply to it; that is the whole interface.'),
    // Server-rendered pages (docs/): a full navigation, not the client router.
    h(
      'p',
      { class: 'site-footer-links' },
      h('a', { href: '/guide', 'data-external': '' }, 'How it works'),
      ' · ',
      h('a', { href: '/architecture', 'data-external': '' }, 'Architecture'),
      contact ? ' · ' : null,
      contact ? h('a', { href: `mailto:${contact}`, 'data-external': '', 'data-testid': 'contact' }, `Contact: ${contact}`) : null,
    ),
  );
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  cleanups.forEach((fn) => fn());
  cleanups = [];
  const path = location.pathname;
  const match = matchRoute<RouteDef>(ROUTES, path);
  let user: Me | null = null;
  try {
    user = await loadMe();
  } catch {
    // The API is unreachable; render what needs no session and let pages show their own errors.
  }
  if (seq !== renderSeq) return;

  const main = h('main', { id: 'main', class: 'site-main', tabindex: '-1' });
  replace(root, header(user, path), main, footer());
  const ctx: PageContext = {
    params: match?.params ?? {},
    query: new URLSearchParams(location.search),
    user,
    onCleanup: (fn) => cleanups.push(fn),
    isCurrent: () => seq === renderSeq,
    rerender: () => void render(),
  };

  let title = 'Mentor Zero';
  let content: Node;
  if (!match) {
    content = notFoundPage();
    title = 'Not found · Mentor Zero';
  } else if (match.route.access !== 'public' && !user) {
    navigate(`/?signin=required&next=${encodeURIComponent(path)}#signin`, { replace: true });
    return;
  } else if (match.route.access === 'admin' && (user?.role !== 'admin' || user.sessionScope !== 'full')) {
    content = user?.role === 'admin' ? consoleNeedsSignInPage() : forbiddenPage();
    title = 'Admins only · Mentor Zero';
  } else {
    title = `${match.route.title} · Mentor Zero`;
    main.classList.add(`page-${match.route.name}`);
    const placeholder = h('div', { class: 'page-loading', 'aria-busy': 'true' });
    main.append(match.route.access === 'admin' ? adminLayout(path, placeholder) : placeholder);
    document.title = title;
    try {
      content = await match.route.render(ctx);
    } catch (err) {
      content = h('div', { class: 'callout callout-error', role: 'alert' }, h('p', null, err instanceof Error ? err.message : 'This page failed to load.'));
    }
    if (seq !== renderSeq) return;
    placeholder.replaceWith(content);
    placeholder.removeAttribute('aria-busy');
    afterRender(main);
    return;
  }
  document.title = title;
  main.append(content);
  afterRender(main);
}

/** Moves focus to the new page's heading so keyboard and screen-reader users start there. */
function afterRender(main: HTMLElement): void {
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) {
      target.scrollIntoView();
      if (target.matches('input, textarea, select, button')) target.focus();
      return;
    }
  }
  const heading = main.querySelector<HTMLElement>('h1');
  window.scrollTo(0, 0);
  if (!firstRender && heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  firstRender = false;
}
let firstRender = true;

mountToasts(document.body);
interceptLinks(document.body);
onNavigate(() => void render());
onUnauthorized(() => {
  forgetMe();
  toast('Your session has ended. Please sign in again.', 'info');
  navigate(`/?signin=required#signin`);
});
void render();
