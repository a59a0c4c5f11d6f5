/**
 * A newcomer's first visit, in a real browser against the real services (api, offline composer,
 * mailer, capturing SMTP server): sign up from the landing page with the link read from the mail,
 * confirm on the no-JS confirm page, turn a topic on, choose a time and a zone and see the next
 * send times computed by the scheduler's function, save, press "Send one now", and read the letter
 * that arrived — on a desktop and on a 390 px phone.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import {
  auditAccessibility, type ConsoleStack, launchBrowser, openPage, overflowsHorizontally, PHONE, screenshot, signInFromLanding, startConsoleStack, type TrackedPage, wallClock,
} from './browser-harness';

jest.setTimeout(120_000);

const EMAIL = 'newcomer@example.org';

describe('subscriber journey (browser)', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let desktop: TrackedPage;
  let failed = false;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(['api', 'composer', 'mailer']), launchBrowser()]);
    // The browser says the newcomer lives in New York: the zone picker must start there.
    desktop = await openPage(browser, { timezoneId: 'America/New_York' });
  });
  /** Marks the run failed (service logs are printed) and keeps a screenshot of where it broke. */
  const track = (name: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      await screenshot(desktop.page, `FAILED-subscriber-${name}`).catch(() => undefined);
      throw err;
    }
  };
  afterAll(async () => {
    await browser?.close();
    await stack?.stop(failed);
  });

  it('signs up from the landing page with the emailed link and the confirm page', track('signup', async () => {
    const { page } = desktop;
    await page.goto(`${stack.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: /One calm letter a day/ }).waitFor();
    // Topics and their voices come from the API.
    await page.getByRole('heading', { name: 'Resilience' }).waitFor();
    await expectVisible(page.getByText('Seneca', { exact: true }));
    await screenshot(page, 'landing-desktop');
    expect(await auditAccessibility(page)).toEqual([]);
    // A signed-out visitor is not an error: the start-up "who am I" probe must not log one.
    expect(desktop.consoleErrors).toEqual([]);

    // A typo is caught before anything is sent.
    await page.getByLabel('Email address').fill('not-an-address');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByText('Please enter a valid email address').waitFor();
    expect(stack.smtp.messages).toHaveLength(0);

    await signInFromLanding(page, stack, EMAIL);
    expect(new URL(page.url()).pathname).toBe('/settings');
    await page.getByRole('heading', { level: 1, name: 'Your settings' }).waitFor();
    await expectVisible(page.getByText(EMAIL));
    const [user] = await stack.ds.query(`SELECT role, status, last_login_at FROM app_user WHERE email = $1`, [EMAIL]);
    expect(user).toMatchObject({ role: 'subscriber', status: 'active' });
    expect(user.last_login_at).not.toBeNull();
  }));

  it('turns a topic on, picks a time and a zone, sees the next three send times, saves', track('settings', async () => {
    const { page } = desktop;
    const card = page.locator('section[data-topic="resilience"]');
    expect(await card.getByTestId('zone-resilience').isVisible()).toBe(false);
    await card.getByRole('switch', { name: 'Daily letter' }).check();
    // The zone starts at the browser's.
    expect(await card.getByTestId('zone-resilience').inputValue()).toBe('America/New_York');

    await card.getByLabel('Time of day').fill('06:45');
    await card.getByLabel('Time zone').selectOption('Asia/Tokyo');
    await card.getByLabel(/About you/).fill('I start a new job next month and want calmer mornings.');
    // The letter language starts at the browser's (en-GB here); the reader picks German.
    expect(await card.getByTestId('language-resilience').inputValue()).toBe('en-GB');
    await card.getByLabel('Letter language').selectOption('de');

    // The preview is the scheduler's own function, asked again as time and zone change.
    const runs = card.getByTestId('preview-resilience').locator('time');
    await waitUntil(async () => (await runs.count()) === 3 && (await runs.allTextContents()).every((t) => t.includes('06:45')), 'preview for 06:45 Tokyo');
    const utc = await runs.evaluateAll((els) => els.map((e) => e.getAttribute('datetime')!));
    expect(utc.map((u) => wallClock(u, 'Asia/Tokyo'))).toEqual(['06:45', '06:45', '06:45']);
    expect(new Date(utc[1]).getTime() - new Date(utc[0]).getTime()).toBe(86_400_000);
    expect(new Date(utc[0]).getTime()).toBeGreaterThan(Date.now());
    // Tokyo is not where the browser is: each time is also shown in New York time.
    await expectVisible(card.getByText(/where you are now/).first());

    await card.getByTestId('save-resilience').click();
    await card.getByTestId('status-resilience').filter({ hasText: /^Saved\. Next letter/ }).waitFor();
    const [sub] = await stack.ds.query(
      `SELECT s.enabled, s.send_time_local, s.timezone, s.context_note, s.language, s.next_run_at FROM subscription s
         JOIN app_user u ON u.id = s.user_id JOIN topic t ON t.id = s.topic_id WHERE u.email = $1 AND t.code = 'resilience'`,
      [EMAIL],
    );
    expect(sub).toMatchObject({ enabled: true, send_time_local: '06:45', timezone: 'Asia/Tokyo', context_note: 'I start a new job next month and want calmer mornings.', language: 'de' });
    // This stack has no LLM: the page says plainly that letters come in English for now.
    await expectVisible(card.getByTestId('language-notice-resilience').filter({ hasText: /^For now your letters come in English.*\(Deutsch\)/ }));
    // What the page promised is what the scheduler will do.
    expect(new Date(sub.next_run_at).toISOString()).toBe(new Date(utc[0]).toISOString());
    await expectVisible(page.getByText(/You receive 1 letter a day: Resilience/));
    await screenshot(page, 'settings-desktop');
    expect(await auditAccessibility(page)).toEqual([]);
  }));

  it('presses "Send one now" and the letter arrives by mail and on the letters page', track('send-now', async () => {
    const { page, problems } = desktop;
    const card = page.locator('section[data-topic="resilience"]');
    await card.getByTestId('send-now-resilience').click();
    await card.getByTestId('status-resilience').filter({ hasText: /being written now/ }).waitFor();

    const msgs = await stack.smtp.waitFor((all) => all.some((m) => m.envelope.to.includes(EMAIL) && /\[mz:resilience\]/.test(m.subject ?? '')), 30_000);
    const letter = msgs.find((m) => /\[mz:resilience\]/.test(m.subject ?? ''))!;
    const subject = (letter.subject ?? '').replace(/\s*\[mz:resilience\]$/, '');

    await page.getByRole('link', { name: 'My letters' }).click();
    await page.getByRole('heading', { level: 1, name: 'My letters' }).waitFor();
    // The mail left before the row says "sent"; the page may need one more look.
    await waitUntil(async () => {
      if (await page.getByRole('heading', { name: subject }).isVisible()) return true;
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'My letters' }).waitFor();
      return false;
    }, 'the sent letter on the letters page');

    // The newest letter is open, its HTML inside a sandboxed frame that cannot run scripts.
    const frame = page.locator('iframe.html-frame').first();
    const sandbox = (await frame.getAttribute('sandbox')) ?? '';
    expect(sandbox.split(/\s+/)).not.toContain('allow-scripts');
    const bodyText = (await frame.contentFrame().locator('body').innerText()).replace(/\s+/g, ' ').trim();
    const mailText = (letter.text ?? '').replace(/\s+/g, ' ');
    expect(bodyText.length).toBeGreaterThan(100);
    expect(mailText).toContain(bodyText.slice(0, 60));
    await screenshot(page, 'letters-desktop');
    expect(await auditAccessibility(page)).toEqual([]);
    expect(problems).toEqual([]);
  }));

  it('works on a 390 px phone: no sideways scrolling, same content', track('phone', async () => {
    const phone = await openPage(browser, { viewport: PHONE, timezoneId: 'America/New_York' });
    try {
      await phone.page.goto(`${stack.baseUrl}/`);
      await phone.page.getByRole('heading', { name: 'Resilience' }).waitFor();
      expect(await overflowsHorizontally(phone.page)).toBe(false);
      await screenshot(phone.page, 'landing-phone');

      await phone.ctx.addCookies(await desktop.ctx.cookies());
      for (const [path, heading, name] of [['/settings', 'Your settings', 'settings-phone'], ['/letters', 'My letters', 'letters-phone']] as const) {
        await phone.page.goto(`${stack.baseUrl}${path}`);
        await phone.page.getByRole('heading', { level: 1, name: heading }).waitFor();
        await phone.page.locator('.loading').first().waitFor({ state: 'detached' });
        expect(await overflowsHorizontally(phone.page)).toBe(false);
        await screenshot(phone.page, name);
        expect(await auditAccessibility(phone.page)).toEqual([]);
      }
      // Tap targets: WCAG 2.5.8 asks for 24 px; the navigation's are at least 36 px tall.
      const box = await phone.page.getByRole('link', { name: 'Settings' }).first().boundingBox();
      expect(box!.height).toBeGreaterThanOrEqual(36);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.ctx.close();
    }
  }));

  it('downloads my data and erases the account', track('data', async () => {
    const { page, problems } = desktop;
    await page.getByRole('link', { name: 'Settings' }).first().click();
    await page.getByRole('heading', { name: 'Your data' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data (JSON)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^mentor-zero-export-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(JSON.stringify(exported)).toContain(EMAIL);
    expect(JSON.stringify(exported)).toContain('I start a new job next month');

    // Erasing asks for the word first: the button stays disabled until it is typed.
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    const confirm = dialog.getByRole('button', { name: 'Delete everything' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await stack.ds.query(`SELECT 1 FROM app_user WHERE email = $1`, [EMAIL])).length).toBe(1);

    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await dialog.getByLabel('Type delete to confirm').fill('delete');
    await confirm.click();
    await page.getByText('Your account and data have been erased').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await page.getByRole('heading', { name: 'Start, or sign in' }).waitFor();
    expect((await stack.ds.query(`SELECT 1 FROM app_user WHERE email = $1`, [EMAIL])).length).toBe(0);
    // The old session is gone: the settings page sends us to sign in.
    await page.goto(`${stack.baseUrl}/settings`);
    await page.getByText('Please sign in to continue.').waitFor();
    expect(problems).toEqual([]);
  }));
});

async function expectVisible(locator: { waitFor(opts?: { state?: 'visible' }): Promise<void> }): Promise<void> {
  await locator.waitFor({ state: 'visible' });
}

async function waitUntil(fn: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}
