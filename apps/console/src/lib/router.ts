/**
 * History-API routing for the console. Patterns are literal segments and `:params`; the server
 * serves the same HTML shell for every path listed here (src/console/console.controller.ts), so a
 * reload or a deep link lands on the same page.
 */
export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

export function matchRoute<R extends { path: string }>(routes: readonly R[], pathname: string): RouteMatch<R> | null {
  const clean = pathname.replace(/\/+$/, '') || '/';
  const parts = clean.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(':')) {
        try {
          params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
          break;
        }
      } else if (pattern[i] !== parts[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return null;
}

/** Paths the server owns (full page loads): Bull Board, the API and docs, no-JS pages. */
export function isServerPath(pathname: string): boolean {
  return /^\/(admin\/queues|api|login|u|assets|health|metrics|webhooks)(\/|$)/.test(pathname);
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function onNavigate(fn: Listener): void {
  listeners.add(fn);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin || isServerPath(url.pathname)) {
    location.assign(url.href);
    return;
  }
  if (opts.replace) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  listeners.forEach((fn) => fn());
}

/** Same-origin link clicks become in-app navigations (modifier clicks keep their meaning). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element).closest('a');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || isServerPath(url.pathname)) return;
    if (url.pathname === location.pathname && url.hash) return; // in-page anchor
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));
}
