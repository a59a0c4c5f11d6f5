import type { Me } from '../lib/session';

export interface PageContext {
  params: Record<string, string>;
  query: URLSearchParams;
  user: Me | null;
  /** Runs when the user navigates away (timers, listeners). */
  onCleanup(fn: () => void): void;
  /** False once another navigation started: late async work must not touch the page. */
  isCurrent(): boolean;
  /** Renders the current route again (e.g. after sign-in state changed). */
  rerender(): void;
}

export interface RouteDef {
  name: string;
  path: string;
  title: string;
  access: 'public' | 'user' | 'admin';
  render(ctx: PageContext): Node | Promise<Node>;
}
