/**
 * Browser tests drive the real console in Debian's headless Chromium (`apt-get install chromium`;
 * never a downloaded browser) through playwright-core, against the built services started as real
 * processes, a capturing SMTP server and the offline composer (no LLM_BASE_URL).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { type CapturedMail, TestSmtpServer } from '../fakes/test-smtp-server';
import { type AppName, eventually, portBelowEphemeral, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface TrackedPage {
  ctx: BrowserContext;
  page: Page;
  /** Uncaught exceptions and CSP violations seen by the page (must stay empty). */
  problems: string[];
  /** Every error the browser console showed (failed requests included), for pages that must log none. */
  consoleErrors: string[];
}

/** A fresh browser context (own cookies) with a page that records script errors and CSP violations. */
export async function openPage(browser: Browser, opts: { viewport?: { width: number; height: number }; timezoneId?: string } = {}): Promise<TrackedPage> {
  const ctx = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, locale: 'en-GB', timezoneId: opts.timezoneId ?? 'Europe/Berlin', colorScheme: 'light' });
  const page = await ctx.newPage();
  const problems: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
  });
  return { ctx, page, problems, consoleErrors };
}

/** Full-page screenshot under test-artifacts/screenshots (scrolled to the top, so sticky headers sit where they belong). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/**
 * A small accessibility audit of what is on screen, run inside the page: landmarks (one main,
 * a banner), exactly one h1, every form control with an accessible name, every button and link
 * with a name, and WCAG AA contrast (4.5:1, 3:1 for large text) for visible text against its
 * effective background. Returns the problems found (empty = pass).
 */
export function auditAccessibility(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && Number(s.opacity) > 0.05;
    };
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;

    if (document.querySelectorAll('main').length !== 1) problems.push('expected exactly one <main>');
    if (!document.querySelector('header')) problems.push('no <header> (banner) landmark');
    const h1s = Array.from(document.querySelectorAll('h1')).filter(visible);
    if (h1s.length !== 1) problems.push(`expected one visible h1, found ${h1s.length}`);
    if (!document.documentElement.lang) problems.push('<html> has no lang');

    const nameOf = (el: HTMLElement): string => {
      const labelledby = el.getAttribute('aria-labelledby');
      if (labelledby) return labelledby.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label')!.trim();
      const labels = (el as HTMLInputElement).labels;
      if (labels && labels.length) return Array.from(labels).map((l) => l.textContent ?? '').join(' ').trim();
      return (el.getAttribute('title') ?? '').trim();
    };
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('input:not([type=hidden]), select, textarea'))) {
      if (!el.closest('[hidden]') && !nameOf(el)) problems.push(`form control without a label: ${describe(el)}`);
    }
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a[href]'))) {
      if (!visible(el)) continue;
      if (!(el.textContent ?? '').trim() && !nameOf(el)) problems.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
    }

    // Computed colours are "rgb(a)(…)" or, for color-mix(), "color(srgb r g b / a)" in 0..1.
    const rgba = (c: string): [number, number, number, number] => {
      const m = c.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
      const k = c.startsWith('color(') ? 255 : 1;
      return [m[0] * k, m[1] * k, m[2] * k, m[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const lin = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const [r, g, b, a] = rgba(getComputedStyle(e).backgroundColor);
        if (a > 0.9 && getComputedStyle(e).backgroundImage === 'none') return [r, g, b];
        if (getComputedStyle(e).backgroundImage !== 'none' && e.tagName !== 'SELECT') return [];
      }
      return [255, 255, 255];
    };
    const seen = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !(n.textContent ?? '').trim() || !visible(el) || el.closest('.sr-only, svg, [aria-hidden="true"], option, iframe')) continue;
      seen.add(el);
      const s = getComputedStyle(el);
      const fg = rgba(s.color);
      const bg = background(el);
      if (!bg.length || fg[3] < 0.5) continue;
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(s.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
      const disabled = el.closest('button:disabled, [aria-disabled="true"]');
      if (!disabled && ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}:1 for ${describe(el)} (${s.color} on rgb(${bg.join(',')}))`);
    }
    return problems;
  });
}

/** True when the page is wider than its viewport (a horizontal scrollbar on a phone). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

export interface ConsoleStack {
  env: TestEnv;
  ds: DataSource;
  smtp: TestSmtpServer;
  baseUrl: string;
  services: Partial<Record<AppName, ServiceProcess>>;
  stop(failed: boolean): Promise<void>;
}

/**
 * Own database (seeded, `adminEmails` as admins) and queue prefix, a capturing SMTP server, and the
 * given built services. The api listens on a known port so APP_BASE_URL — the origin of every link
 * and of the Origin check — is exactly the URL the browser uses.
 */
export async function startConsoleStack(apps: AppName[], opts: { adminEmails?: string[] } = {}): Promise<ConsoleStack> {
  const env = await createTestEnv();
  const ds = createDataSource({ url: env.databaseUrl, poolMax: 3 });
  await ds.initialize();
  await seedDatabase(ds, { adminEmails: opts.adminEmails ?? [] });
  const smtp = await TestSmtpServer.start();
  const vars: Record<string, string> = {
    ...env.vars,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    SMTP_URL: smtp.url,
    REPLY_DOMAIN: 'reply.browser.test',
    MAIL_FROM: 'Mentor Zero <mentor@browser.test>',
    DEFAULT_ADMIN_EMAILS: (opts.adminEmails ?? []).join(','),
    SESSION_SECRET: 'browser-test-session-secret-0123456789abcdef',
    RETRY_DELAY_SCALE: '0.01',
    SHUTDOWN_TIMEOUT_MS: '3000',
    SCHEDULER_TICK_MS: '500',
  };
  const services: Partial<Record<AppName, ServiceProcess>> = {};
  let baseUrl = '';
  const cleanup = async () => {
    await Promise.all(Object.values(services).map((s) => s!.kill()));
    await smtp.close();
    if (ds.isInitialized) await ds.destroy();
    await env.dispose();
  };
  try {
    // The api first: every other service builds links from its URL (APP_BASE_URL).
    if (apps.includes('api')) {
      services.api = await startOwnService('api', (port) => ({ ...vars, APP_BASE_URL: `http://127.0.0.1:${port}` }), (svc) => isOurApi(svc, ds));
      baseUrl = services.api.url;
    }
    vars.APP_BASE_URL = baseUrl || 'http://127.0.0.1:3000';
    await Promise.all(apps.filter((a) => a !== 'api').map(async (app) => (services[app] = await startOwnService(app, () => vars))));
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    env, ds, smtp, baseUrl, services,
    async stop(failed) {
      if (failed) for (const s of Object.values(services)) console.log(`--- ${s!.app} :${s!.port}\n${s!.output().slice(-5000)}`);
      await Promise.all(Object.values(services).map((s) => s!.stop(10_000)));
      await smtp.close();
      if (ds.isInitialized) await ds.destroy();
      await env.dispose();
    },
  };
}

/**
 * Starts a service on a port of our choosing and makes sure the process answering there is ours.
 * Other test runs on this machine pick ports at the same time (a port is free when probed and
 * taken a moment later): then our process dies with EADDRINUSE while the readiness check is
 * answered by theirs. Ports come from below the kernel's ephemeral range (where freePort() draws)
 * and a start that lost the race is retried on another port.
 */
async function startOwnService(app: AppName, envFor: (port: number) => Record<string, string>, isOurs?: (svc: ServiceProcess) => Promise<boolean>): Promise<ServiceProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await probePort(portBelowEphemeral());
    if (!port) continue;
    let svc: ServiceProcess | undefined;
    try {
      svc = await startServiceProcess(app, { ...envFor(port), PORT: String(port) }, { readyTimeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 300)); // a process that lost the bind exits right away
      if (svc.proc.exitCode === null && svc.proc.signalCode === null && (!isOurs || (await isOurs(svc)))) return svc;
      lastError = new Error(`${app} on :${port} was not ours:\n${svc.output().slice(-2000)}`);
    } catch (err) {
      lastError = err;
    }
    await svc?.kill();
  }
  throw lastError;
}

/** The port if nothing listens on it right now, else null. */
async function probePort(port: number): Promise<number | null> {
  const srv = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '0.0.0.0', () => resolve());
    });
  } catch {
    return null;
  }
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Our api knows a session that only our database holds. */
async function isOurApi(svc: ServiceProcess, ds: DataSource): Promise<boolean> {
  const [user] = await ds.query(`INSERT INTO app_user (email) VALUES ($1) RETURNING id`, [`probe-${randomBytes(6).toString('hex')}@browser.test`]);
  const token = randomBytes(32).toString('base64url');
  await ds.query(`INSERT INTO app_session (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 minute')`, [user.id, createHash('sha256').update(token).digest('hex')]);
  try {
    const res = await fetch(`${svc.url}/api/me`, { headers: { cookie: `mz_session=${token}` } });
    return res.status === 200;
  } catch {
    return false;
  } finally {
    await ds.query(`DELETE FROM app_user WHERE id = $1`, [user.id]);
  }
}

/** The sign-in link of the newest login mail to `email`. */
export async function loginLinkFor(smtp: TestSmtpServer, email: string, baseUrl: string, after = 0): Promise<string> {
  const isLogin = (m: CapturedMail) => m.envelope.to.includes(email) && /\/login\//.test(m.text ?? '');
  const msgs = await smtp.waitFor((all) => all.filter(isLogin).length > after, 20_000);
  const mail = msgs.filter(isLogin).at(-1)!;
  const link = new RegExp(`${escapeRegExp(baseUrl)}/login/[A-Za-z0-9_-]{20,}`).exec(mail.text ?? '')?.[0];
  if (!link) throw new Error('no sign-in link in the login mail');
  return link;
}

/**
 * The whole sign-in as a person does it: the landing page's form, the link from the mail, the
 * confirm page's button. Resolves on the page the server redirects to.
 */
export async function signInFromLanding(page: Page, stack: ConsoleStack, email: string): Promise<void> {
  const before = stack.smtp.messages.filter((m) => m.envelope.to.includes(email) && /\/login\//.test(m.text ?? '')).length;
  await page.goto(`${stack.baseUrl}/`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  const link = await loginLinkFor(stack.smtp, email, stack.baseUrl, before);
  // The mailer sends while the token row is locked and commits the minted hash right after the
  // SMTP server accepts; a person never clicks within those milliseconds, a test would.
  await eventually(
    async () => (await stack.ds.query(`SELECT 1 FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1 AND t.sent_at IS NOT NULL AND t.used_at IS NULL`, [email])).length > 0,
    'the login mail committed',
    10_000,
    25,
  );
  const res = await page.goto(link);
  if (res?.status() !== 200) {
    const tokens = await stack.ds.query(
      `SELECT t.purpose, t.token_hash IS NOT NULL AS minted, t.used_at, t.sent_at, t.expires_at > now() AS live FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1`,
      [email],
    );
    const mails = stack.smtp.messages.filter((m) => m.envelope.to.includes(email)).length;
    throw new Error(`confirm page answered ${res?.status()} for a fresh link; ${mails} mail(s) to ${email}; tokens ${JSON.stringify(tokens)}`);
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/settings' || url.pathname === '/admin');
}

/** Signs a user in through the real confirm page with a token minted directly (for secondary actors). */
export async function signInWithToken(page: Page, stack: ConsoleStack, userId: string, purpose: 'login' | 'footer_login' = 'login'): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  await stack.ds.query(
    `INSERT INTO login_token (user_id, token_hash, purpose, expires_at, sent_at) VALUES ($1, $2, $3, now() + interval '15 minutes', now())`,
    [userId, createHash('sha256').update(token).digest('hex'), purpose],
  );
  await page.goto(`${stack.baseUrl}/login/${token}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/settings' || url.pathname === '/admin');
}

/** Wall-clock HH:MM of an instant in a zone. */
export function wallClock(at: Date | string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
