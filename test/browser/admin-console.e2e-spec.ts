/**
 * The admin console in a real browser against the real services (api, offline composer, mailer,
 * inbound with its replies.process worker, capturing SMTP server): an admin writes prompt v2 and
 * activates it, retries a failed letter until it is delivered, runs a reply through the real
 * inbound pipeline with the simulator, and opens Bull Board; a subscriber is refused all of it.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { makeSubscription, makeUser } from '../support/fixtures';
import { eventually } from '../support/services';
import { auditAccessibility, type ConsoleStack, launchBrowser, openPage, overflowsHorizontally, PHONE, screenshot, signInFromLanding, signInWithToken, startConsoleStack, type TrackedPage } from './browser-harness';

jest.setTimeout(120_000);

const ADMIN = 'admin@example.org';

describe('admin console (browser)', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let admin: TrackedPage;
  let failed = false;
  /** The letter that failed, was retried and delivered; the simulator replies to it. */
  let retriedLetterId: string;
  let subscriber: { id: string; email: string };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(['api', 'composer', 'mailer', 'inbound'], { adminEmails: [ADMIN] }), launchBrowser()]);
    admin = await openPage(browser);
    subscriber = await makeUser(stack.ds, { email: 'reader@example.org' });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop(failed);
  });

  const track = (name: string, page: () => TrackedPage | undefined, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      const p = page();
      if (p) await screenshot(p.page, `FAILED-admin-${name}`).catch(() => undefined);
      throw err;
    }
  };

  it('signs the seeded admin in and lands on the dashboard', track('sign-in', () => admin, async () => {
    const { page } = admin;
    await signInFromLanding(page, stack, ADMIN);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('heading', { name: 'Queues now' }).waitFor();
    await page.getByRole('rowheader', { name: 'letters.compose' }).waitFor();
    // The LLM cost panel: spend, per letter, the classifier's share and cache hits (the stack runs offline: no spend).
    const cost = page.getByRole('region', { name: 'LLM cost' });
    await cost.waitFor();
    for (const tile of ['LLM spend', 'Per letter', 'Reply classifier', 'Prompt cache hits']) expect(await cost.getByText(tile, { exact: true }).count()).toBe(1);
    expect(await cost.getByText('$0.00').count()).toBeGreaterThan(0);
    await screenshot(page, 'admin-overview');
    expect(await auditAccessibility(page)).toEqual([]);
  }));

  it('creates prompt v2 for a topic, sees its diff, and activates it', track('prompts', () => admin, async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Prompts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Prompts' }).waitFor();
    await page.getByLabel('Topic').selectOption({ label: 'Resilience (resilience)' });
    await page.getByRole('heading', { name: 'Resilience: versions' }).waitFor();

    await page.getByTestId('new-version').locator('summary').click();
    const system = page.getByLabel('System template');
    const v1System = await system.inputValue();
    await system.fill(`${v1System}\nKeep it under 200 words; end with one question.`);
    await page.getByLabel('Change note').fill('Shorter letters that end with a question');
    // The draft's diff against v1 updates as you type.
    await page.getByText('+1', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Create v2' }).click();

    const v2 = page.locator('li.version[data-version="2"]');
    await v2.waitFor();
    await v2.getByText('inactive').waitFor();
    await page.getByRole('heading', { name: 'Compare versions' }).waitFor();
    await page.locator('.diff-add', { hasText: 'end with one question' }).first().waitFor();

    await page.getByTestId('activate-v2').click();
    await page.locator('li.version[data-version="2"].is-active').waitFor();
    await page.locator('li.version[data-version="1"]').getByText('inactive').waitFor();
    await screenshot(page, 'admin-prompts');
    expect(await auditAccessibility(page)).toEqual([]);

    const rows = await stack.ds.query(
      `SELECT pt.version, pt.active, pt.change_note, pt.system_template FROM prompt_template pt JOIN topic t ON t.id = pt.topic_id
        WHERE t.code = 'resilience' ORDER BY pt.version`,
    );
    expect(rows.map((r: { version: number; active: boolean }) => [r.version, r.active])).toEqual([[1, false], [2, true]]);
    expect(rows[1].change_note).toBe('Shorter letters that end with a question');
    expect(rows[1].system_template).toBe(`${v1System}\nKeep it under 200 words; end with one question.`);
    const audit = await stack.ds.query(`SELECT metadata->>'action' AS action FROM event_log WHERE type = 'ADMIN_ACTION' ORDER BY id`);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['prompt.create', 'prompt.activate']);
  }));

  it('retries a failed letter from the letters page; it is written and delivered', track('retry', () => admin, async () => {
    const { page } = admin;
    const subscriptionId = await makeSubscription(stack.ds, subscriber.id, { topic: 'resilience', timezone: 'Europe/Paris' });
    retriedLetterId = randomUUID();
    // A letter whose composing failed for good: no body yet, attempts used up.
    await stack.ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, error_type, last_error)
       SELECT $1, s.id, s.user_id, s.topic_id, 'send_now', 'failed', now() - interval '1 hour', current_date, $3, 'processing', 'LLM answered 500 three times'
         FROM subscription s WHERE s.id = $2`,
      [retriedLetterId, subscriptionId, `<mz.${retriedLetterId}@reply.browser.test>`],
    );

    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Letters' }).click();
    await page.getByTestId('tab-failed').click();
    const row = page.locator(`tr[data-letter-id="${retriedLetterId}"]`);
    await row.waitFor();
    await row.getByText('Processing').waitFor();
    await row.getByText('no more automatic attempts').waitFor();
    await screenshot(page, 'admin-letters-failed');
    expect(await auditAccessibility(page)).toEqual([]);

    await row.getByRole('button', { name: 'Retry now' }).click();
    await page.getByText('Retry requested').waitFor();
    const mail = await stack.smtp.waitFor((all) => all.some((m) => m.envelope.to.includes(subscriber.email) && (m.messageId ?? '').includes(retriedLetterId)), 30_000);
    expect(mail.filter((m) => (m.messageId ?? '').includes(retriedLetterId))).toHaveLength(1);
    await eventually(async () => (await stack.ds.query(`SELECT status FROM letter WHERE id = $1`, [retriedLetterId]))[0].status === 'sent', 'letter marked sent', 10_000);
    const [letter] = await stack.ds.query(`SELECT model, error_type, last_error FROM letter WHERE id = $1`, [retriedLetterId]);
    expect(letter).toEqual({ model: 'offline', error_type: null, last_error: null });

    // The letter's own page tells the story.
    await page.goto(`${stack.baseUrl}/admin/letters/${retriedLetterId}`);
    await page.getByTestId('letter-status').getByText('sent').waitFor();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page.getByText('Letter retry requested').waitFor();
    await screenshot(page, 'admin-letter-detail');
    expect(await auditAccessibility(page)).toEqual([]);
  }));

  it('runs a reply through the real inbound pipeline with the simulator', track('simulator', () => admin, async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Reply simulator' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reply simulator' }).waitFor();
    await page.getByLabel('Letter to reply to').selectOption(retriedLetterId);
    await page.getByLabel('Reply text').fill('Done! I wrote the two lines this morning before work.');
    await page.getByRole('button', { name: 'Run the reply' }).click();

    const result = page.getByTestId('sim-result');
    await result.getByTestId('sim-effect').waitFor({ timeout: 30_000 });
    expect(await result.getByTestId('sim-kind').innerText()).toBe('reply');
    expect(await result.getByTestId('sim-intent').innerText()).toBe('done');
    expect(await result.getByTestId('sim-effect').innerText()).toMatch(/Marked done\. Streak is now 1 day\./);
    // Only what the subscriber wrote, not the quoted letter and footer.
    await result.locator('.reply-text', { hasText: /^Done! I wrote the two lines this morning before work\.$/ }).waitFor();
    await screenshot(page, 'admin-simulator');
    expect(await auditAccessibility(page)).toEqual([]);

    const [msg] = await stack.ds.query(`SELECT source, kind, intent, matched_letter_id FROM inbound_message`);
    expect(msg).toEqual({ source: 'simulator', kind: 'reply', intent: 'done', matched_letter_id: retriedLetterId });
    const [progress] = await stack.ds.query(`SELECT completed, streak_at_time FROM progress WHERE letter_id = $1`, [retriedLetterId]);
    expect(progress).toEqual({ completed: true, streak_at_time: 1 });

    // The conversation shows the letter and the reply as one thread.
    await result.getByRole('link', { name: 'Open the conversation' }).click();
    const thread = page.getByTestId('conversation');
    await thread.locator('.thread-item.from-user').getByText('Done! I wrote the two lines').waitFor();
    expect(await thread.locator('.thread-item').count()).toBe(2);
    await screenshot(page, 'admin-conversation');
    expect(await auditAccessibility(page)).toEqual([]);
  }));

  it("edits a persona's voice and previews a letter through the real composer, unsaved and unsent", track('voice', () => admin, async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Topics & personas' }).click();
    await page.getByRole('heading', { level: 1, name: 'Topics & personas' }).waitFor();
    const lettersBefore = (await stack.ds.query(`SELECT count(*)::int AS n FROM letter`))[0].n;

    // The topic form shows what it inherits from its persona.
    const topic = page.locator('details', { has: page.locator('summary', { hasText: 'Resilience' }) }).first();
    await topic.locator('summary').click();
    await topic.getByLabel('Length').locator('option', { hasText: 'Persona’s (medium)' }).waitFor({ state: 'attached' });
    expect(await topic.getByLabel('Creativity (0–1)').getAttribute('placeholder')).toBe('Persona’s (0.5)');
    // Unsaved edits: short, creative, one instruction → the preview uses them.
    await topic.getByLabel('Creativity (0–1)').fill('0.9');
    await topic.getByLabel('Length').selectOption('short');
    await topic.getByLabel('Instructions').fill('Mention the sea.');
    await topic.getByRole('button', { name: 'Preview a letter' }).click();
    const preview = topic.getByRole('region', { name: 'Letter preview' });
    await preview.waitFor();
    await preview.getByText(/^offline · temperature 1\.02 · \d+ words · budget 1,000 tokens · not sent$/).waitFor();
    expect(await preview.locator('h3').textContent()).toMatch(/\[mz:resilience\]$/);
    await screenshot(page, 'admin-topic-preview');

    // The persona's own voice: saved, audited; the topic still inherits it.
    const seneca = page.locator('details', { has: page.locator('summary', { hasText: /^Seneca/ }) }).first();
    await seneca.locator('summary').click();
    await seneca.getByLabel('Creativity (0–1)').fill('0.7');
    await seneca.getByLabel('Instructions').fill('Close with a question.');
    await seneca.getByRole('button', { name: 'Save persona' }).click();
    await eventually(async () => {
      const [p] = await stack.ds.query(`SELECT creativity::float8 AS creativity, instructions FROM persona WHERE name = 'Seneca'`);
      return p.creativity === 0.7 && p.instructions === 'Close with a question.' ? p : null;
    }, 'persona saved');
    const [t] = await stack.ds.query(`SELECT creativity, response_length, instructions FROM topic WHERE code = 'resilience'`);
    expect(t).toEqual({ creativity: null, response_length: null, instructions: null }); // the unsaved topic edits were never stored
    expect((await stack.ds.query(`SELECT count(*)::int AS n FROM letter`))[0].n).toBe(lettersBefore);
    await page.getByText('Persona saved.').waitFor(); // the page re-renders after a save
    await page.getByRole('heading', { level: 1, name: 'Topics & personas' }).waitFor();
    expect(await auditAccessibility(page)).toEqual([]);
  }));

  it('opens Bull Board from the console', track('bull-board', () => admin, async () => {
    const { page } = admin;
    await page.goto(`${stack.baseUrl}/admin`);
    const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/queues'), page.getByTestId('bull-board-link').click()]);
    expect(response.status()).toBe(200);
    await page.waitForURL(`${stack.baseUrl}/admin/queues`);
    await page.getByText('letters.compose').first().waitFor({ timeout: 20_000 });
    expect(await page.title()).toMatch(/Mentor Zero queues/i);
    await screenshot(page, 'admin-bull-board');
  }));

  it('works on a phone: the admin navigation and tables fit a 390 px screen', track('phone', () => admin, async () => {
    const phone = await openPage(browser, { viewport: PHONE });
    try {
      await phone.ctx.addCookies(await admin.ctx.cookies());
      for (const [path, heading, name] of [['/admin', 'Overview', 'admin-overview-phone'], ['/admin/letters', 'Letters', 'admin-letters-phone']] as const) {
        await phone.page.goto(`${stack.baseUrl}${path}`);
        await phone.page.getByRole('heading', { level: 1, name: heading }).waitFor();
        expect(await overflowsHorizontally(phone.page)).toBe(false);
        await screenshot(phone.page, name);
      }
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.ctx.close();
    }
    expect(admin.problems).toEqual([]);
  }));

  it('shows a suppressed subscriber why no mail comes, and the admin lifts the suppression', track('suppressions', () => admin, async () => {
    const bounced = await makeUser(stack.ds, { email: 'bounced@example.org' });
    await stack.ds.query(`INSERT INTO suppression (address, reason, detail) VALUES ('bounced@example.org', 'hard_bounce', 'bounce 5.1.1 user unknown')`);
    const reader = await openPage(browser);
    try {
      await signInWithToken(reader.page, stack, bounced.id);
      const notice = reader.page.getByTestId('suppression-notice');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/We are not sending mail to your address\..*refused one of our letters as undeliverable/);

      const { page } = admin;
      await page.goto(`${stack.baseUrl}/admin`);
      await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Suppressions' }).click();
      await page.getByRole('heading', { level: 1, name: 'Suppressions' }).waitFor();
      const row = page.getByTestId('suppressions-table').getByRole('row', { name: /bounced@example\.org/ });
      expect(await row.textContent()).toMatch(/Hard bounce.*bounce 5\.1\.1 user unknown/);
      await screenshot(page, 'admin-suppressions');
      expect(await auditAccessibility(page)).toEqual([]);
      await row.getByRole('button', { name: 'Lift the suppression of bounced@example.org' }).click();
      await page.getByRole('button', { name: 'Lift suppression' }).click();
      await page.getByText('bounced@example.org can receive mail again.').waitFor();
      expect(await stack.ds.query(`SELECT 1 FROM suppression WHERE address = 'bounced@example.org'`)).toEqual([]);
      expect((await stack.ds.query(`SELECT metadata->>'action' AS action FROM event_log WHERE type = 'ADMIN_ACTION' ORDER BY id DESC LIMIT 1`))[0].action).toBe('suppression.lift');

      await reader.page.reload();
      await reader.page.getByRole('heading', { level: 1, name: 'Your settings' }).waitFor();
      expect(await reader.page.getByTestId('suppression-notice').count()).toBe(0);
    } finally {
      await reader.ctx.close();
    }
  }));

  it('refuses the admin pages, the admin API and Bull Board to a subscriber', track('refused', () => admin, async () => {
    const reader = await openPage(browser);
    try {
      await signInWithToken(reader.page, stack, subscriber.id);
      expect(new URL(reader.page.url()).pathname).toBe('/settings');
      // No way in from the navigation…
      expect(await reader.page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      // …and typing the address gets a 403 and an explanation, not the console.
      for (const path of ['/admin', '/admin/prompts', '/admin/simulator']) {
        const res = await reader.page.goto(`${stack.baseUrl}${path}`);
        expect(res!.status()).toBe(403);
        await reader.page.getByRole('heading', { level: 1, name: 'Admins only' }).waitFor();
        expect(await reader.page.getByRole('navigation', { name: 'Admin sections' }).count()).toBe(0);
      }
      await screenshot(reader.page, 'admin-refused');
      expect(await auditAccessibility(reader.page)).toEqual([]);
      const api = await reader.page.evaluate(async () => (await fetch('/api/admin/users')).status);
      expect(api).toBe(403);
      const board = await reader.page.goto(`${stack.baseUrl}/admin/queues`);
      expect(board!.status()).toBe(403);
      expect(await reader.page.content()).not.toMatch(/letters\.compose/);
      expect(reader.problems).toEqual([]);
    } finally {
      await reader.ctx.close();
    }
  }));

  it("sends an admin who came in by a letter's footer link to settings, and explains that the console needs a sign-in link", track('footer-scope', () => admin, async () => {
    const other = await makeUser(stack.ds, { email: 'second-admin@example.org', role: 'admin' });
    const reader = await openPage(browser);
    try {
      await signInWithToken(reader.page, stack, other.id, 'footer_login');
      expect(new URL(reader.page.url()).pathname).toBe('/settings');
      await reader.page.getByRole('heading', { level: 1, name: 'Your settings' }).waitFor();
      for (const path of ['/admin', '/admin/suppressions']) {
        const res = await reader.page.goto(`${stack.baseUrl}${path}`);
        expect([path, res!.status()]).toEqual([path, 403]);
        await reader.page.getByRole('heading', { level: 1, name: 'Sign in again to use the console' }).waitFor();
        expect(await reader.page.getByTestId('console-needs-sign-in').textContent()).toMatch(/request a sign-in link on the home page/);
        expect(await reader.page.getByRole('navigation', { name: 'Admin sections' }).count()).toBe(0);
      }
      await screenshot(reader.page, 'admin-footer-session');
      expect(await auditAccessibility(reader.page)).toEqual([]);
      expect(await reader.page.evaluate(async () => (await fetch('/api/admin/suppressions')).status)).toBe(403);
      expect((await reader.page.goto(`${stack.baseUrl}/admin/queues`))!.status()).toBe(403);

      // A sign-in link the admin requested opens the console in the same browser.
      await signInWithToken(reader.page, stack, other.id);
      expect(new URL(reader.page.url()).pathname).toBe('/admin');
      await reader.page.getByRole('navigation', { name: 'Admin sections' }).waitFor();
      expect(reader.problems).toEqual([]);
    } finally {
      await reader.ctx.close();
    }
  }));
});
