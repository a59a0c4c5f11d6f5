/**
 * Signing up for something from the landing page, in a real browser against the real services
 * (api, offline composer, mailer, capturing SMTP server): read a topic's sample letter, tick two
 * topics, keep the time zone the browser reports and pick a time, ask for the link, open the link
 * from the captured mail (which names the choice) and confirm — and the subscriptions exist, in the browser's zone, once
 * (docs/architecture.md §5).
 */
import type { Browser } from 'playwright-core';
import { eventually } from '../support/services';
import { auditAccessibility, type ConsoleStack, launchBrowser, loginLinkFor, openPage, overflowsHorizontally, PHONE, screenshot, startConsoleStack, type TrackedPage, wallClock } from './browser-harness';

jest.setTimeout(120_000);

const EMAIL = 'chooser@example.org';
// Not the harness's default zone, and a half-hour offset: a zone that can only have come from the browser.
const BROWSER_ZONE = 'Australia/Adelaide';

describe('landing page sign-up (browser)', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let visitor: TrackedPage;
  let failed = false;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(['api', 'composer', 'mailer']), launchBrowser()]);
    visitor = await openPage(browser, { timezoneId: BROWSER_ZONE });
  });
  const track = (name: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      await screenshot(visitor.page, `FAILED-landing-${name}`).catch(() => undefined);
      throw err;
    }
  };
  afterAll(async () => {
    await browser?.close();
    await stack?.stop(failed);
  });

  const subscriptions = () =>
    stack.ds.query(
      `SELECT t.code, s.enabled, s.send_time_local, s.timezone, s.next_run_at FROM subscription s
         JOIN app_user u ON u.id = s.user_id JOIN topic t ON t.id = s.topic_id WHERE u.email = $1 ORDER BY t.code`,
      [EMAIL],
    );

  it('shows each topic\'s voice and a sample letter, and a Contact address in the footer', track('topics', async () => {
    const { page } = visitor;
    await page.goto(`${stack.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: /One calm letter a day/ }).waitFor();
    const card = page.locator('li[data-topic="resilience"]');
    await card.getByText('Seneca', { exact: true }).waitFor();
    await card.getByText('Read a sample letter from Seneca').click();
    // Written by the offline composer on the first request of the day, then the same for everyone.
    const subject = card.getByTestId('sample-subject-resilience');
    await subject.waitFor({ timeout: 20_000 });
    expect((await subject.textContent())!.length).toBeGreaterThan(3);
    const frame = card.locator('iframe.html-frame');
    expect(await frame.getAttribute('sandbox')).not.toContain('allow-scripts');
    await eventually(async () => ((await frame.contentFrame().locator('body').textContent()) ?? '').length > 200, 'the sample letter rendered', 10_000);
    const again = await (await page.request.get(`${stack.baseUrl}/api/topics/resilience/sample`)).json();
    expect(again.subject).toBe(await subject.textContent());

    const contact = page.getByTestId('contact');
    expect(await contact.getAttribute('href')).toBe('mailto:mentor@browser.test');
  }));

  it('picks two topics, keeps the browser\'s time zone, picks a time and asks for the link', track('choose', async () => {
    const { page } = visitor;
    // Without topics the card is a plain sign-in; the schedule appears once a topic is chosen.
    expect(await page.getByTestId('signup-time').isVisible()).toBe(false);
    await page.getByLabel('Send me Resilience').check();
    await page.getByLabel('Send me Curiosity').check();
    await page.getByTestId('signup-topics').filter({ hasText: 'Resilience, Curiosity' }).waitFor();
    // The zone is the browser's, shown and editable.
    expect(await page.getByTestId('signup-zone').inputValue()).toBe(BROWSER_ZONE);
    await page.getByTestId('signup-time').fill('06:15');
    await screenshot(page, 'landing-signup-choice');
    expect(await auditAccessibility(page)).toEqual([]);

    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.getByTestId('sent-choice').filter({ hasText: /Resilience, Curiosity.*06:15/ }).waitFor();

    // Stored with the token, nothing subscribed yet.
    const [token] = await stack.ds.query(`SELECT t.signup_choice FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1`, [EMAIL]);
    expect(token.signup_choice).toEqual({ topics: ['resilience', 'curiosity'], sendTime: '06:15', timezone: BROWSER_ZONE });
    expect(await subscriptions()).toEqual([]);
  }));

  it('opens the emailed link, sees what confirming will start, confirms: the subscriptions exist in the browser\'s zone, once', track('confirm', async () => {
    const { page, problems, consoleErrors } = visitor;
    const link = await loginLinkFor(stack.smtp, EMAIL, stack.baseUrl);
    // The mail itself says what confirming starts, before anyone opens the link.
    const mail = stack.smtp.messages.find((m) => m.envelope.to.includes(EMAIL) && (m.text ?? '').includes(link))!;
    expect(mail.text).toContain(`also starts your daily letters: Resilience, Curiosity, at 06:15 (${BROWSER_ZONE})`);
    await eventually(
      async () => (await stack.ds.query(`SELECT 1 FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1 AND t.sent_at IS NOT NULL`, [EMAIL])).length > 0,
      'the login mail committed',
      10_000,
      25,
    );
    expect((await page.goto(link))?.status()).toBe(200);
    await page.getByTestId('signup-choice').filter({ hasText: `Resilience, Curiosity, at 06:15 (${BROWSER_ZONE})` }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/settings');
    await page.getByText('You receive 2 letters a day: Curiosity, Resilience.').waitFor();

    const subs = await subscriptions();
    expect(subs.map((s: { code: string; enabled: boolean; send_time_local: string; timezone: string }) => [s.code, s.enabled, s.send_time_local, s.timezone])).toEqual([
      ['curiosity', true, '06:15', BROWSER_ZONE],
      ['resilience', true, '06:15', BROWSER_ZONE],
    ]);
    for (const s of subs) expect(wallClock(s.next_run_at, BROWSER_ZONE)).toBe('06:15');
    await screenshot(page, 'landing-signup-settings');
    // The whole visit and sign-up logged no error in the browser console — except the icon the
    // server-rendered confirm page does not name, which the browser then asks /favicon.ico for.
    expect(consoleErrors.filter((e) => !e.includes('/favicon.ico'))).toEqual([]);

    // The link is spent: opening it again shows the refusal and changes nothing.
    expect((await page.goto(link))?.status()).toBe(410);
    expect(await subscriptions()).toEqual(subs);
    expect(problems).toEqual([]);
  }));

  it('on a 390 px phone: the choice, time and zone fit, with a sample letter open', track('phone', async () => {
    const phone = await openPage(browser, { viewport: PHONE, timezoneId: BROWSER_ZONE });
    try {
      const { page } = phone;
      await page.goto(`${stack.baseUrl}/`);
      await page.getByLabel('Send me Focus').check();
      await page.getByTestId('signup-zone').waitFor();
      const card = page.locator('li[data-topic="focus"]');
      await card.getByText(/Read a sample letter/).click();
      await card.getByTestId('sample-subject-focus').waitFor({ timeout: 20_000 });
      expect(await overflowsHorizontally(page)).toBe(false);
      await screenshot(page, 'landing-signup-phone');
      expect(await auditAccessibility(page)).toEqual([]);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.ctx.close();
    }
  }));
});
