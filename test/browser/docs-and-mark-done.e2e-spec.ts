/**
 * In a real browser against the built api: a subscriber marks a letter done from "My letters"
 * (the button becomes the badge, a second try changes nothing, the streak counts it once), and
 * reaches the guide and the architecture pages — rendered from docs/ without scripts — from the
 * site footer; an admin reaches the architecture page from the console's navigation.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { auditAccessibility, type ConsoleStack, launchBrowser, openPage, screenshot, signInWithToken, startConsoleStack, type TrackedPage } from './browser-harness';

jest.setTimeout(120_000);

const ADMIN = 'docs-admin@example.org';

describe('docs pages and mark done (browser)', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let reader: TrackedPage;
  let failed = false;
  let userId: string;
  let subscriptionId: string;
  const letters: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(['api'], { adminEmails: [ADMIN] }), launchBrowser()]);
    const [user] = await stack.ds.query(`INSERT INTO app_user (email, name) VALUES ('reader@example.org', 'Reader') RETURNING id`);
    userId = user.id;
    const [sub] = await stack.ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, timezone, send_time_local) SELECT $1, id, true, 'Europe/Berlin', '07:30' FROM topic WHERE code = 'focus' RETURNING id, topic_id`,
      [userId],
    );
    subscriptionId = sub.id;
    for (const [i, subject] of ['Yesterday’s letter', 'Today’s letter'].entries()) {
      const id = randomUUID();
      letters.push(id);
      await stack.ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, subject, body_text, sent_at)
         VALUES ($1, $2, $3, $4, 'scheduled', 'sent', now() - make_interval(days => $5), current_date - $5, $6, $7, 'Attend to what is yours.', now() - make_interval(days => $5))`,
        [id, sub.id, userId, sub.topic_id, 1 - i, `<mz.${id}@reply.browser.test>`, subject],
      );
    }
    reader = await openPage(browser);
  });
  const track = (name: string, page: () => TrackedPage, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      await screenshot(page().page, `FAILED-docs-done-${name}`).catch(() => undefined);
      throw err;
    }
  };
  afterAll(async () => {
    await browser?.close();
    await stack?.stop(failed);
  });

  const progress = async () => (await stack.ds.query(`SELECT letter_id, streak_at_time FROM progress WHERE subscription_id = $1 AND completed ORDER BY created_at`, [subscriptionId]));

  it('marks a letter done from My letters: the button becomes the badge, once', track('mark-done', () => reader, async () => {
    const { page } = reader;
    await signInWithToken(page, stack, userId);
    await page.goto(`${stack.baseUrl}/letters`);
    const older = page.locator(`article[data-letter-id="${letters[0]}"]`);
    const newer = page.locator(`article[data-letter-id="${letters[1]}"]`);
    await older.getByRole('button', { name: 'Mark done' }).click();
    await older.getByText('Done ✓').waitFor();
    await page.getByText(/streak is 1 letter/).waitFor();
    expect(await older.getByRole('button', { name: 'Mark done' }).count()).toBe(0);
    await newer.getByRole('button', { name: 'Mark done' }).click();
    await page.getByText(/streak is 2 letters/).waitFor();
    await screenshot(page, 'letters-marked-done');
    expect(await auditAccessibility(page)).toEqual([]);

    // After a reload both letters are done and offer no button; the streak counted each once.
    await page.reload();
    await newer.getByText('Done ✓').waitFor();
    expect(await page.getByRole('button', { name: 'Mark done' }).count()).toBe(0);
    expect(await progress()).toEqual([{ letter_id: letters[0], streak_at_time: 1 }, { letter_id: letters[1], streak_at_time: 2 }]);

    // A replayed click (the same request again from the page) changes nothing.
    const again = await page.evaluate(async (id) => (await fetch(`/api/letters/${id}/done`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json(), letters[0]);
    expect(again).toEqual({ letterId: letters[0], changed: false, streak: 2 });
    expect(await progress()).toHaveLength(2);
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM event_log WHERE type = 'LETTER_DONE' AND user_id = $1`, [userId]);
    expect(n).toBe(2);
    expect(reader.problems).toEqual([]);
  }));

  it('reaches the guide and the architecture from the footer; both are rendered markdown without scripts', track('docs', () => reader, async () => {
    const { page } = reader;
    await page.goto(`${stack.baseUrl}/letters`);
    await page.getByRole('link', { name: 'How it works' }).click();
    await page.waitForURL((u) => u.pathname === '/guide');
    await page.getByRole('heading', { level: 1, name: /guide for subscribers/ }).waitFor();
    await page.getByRole('heading', { level: 2, name: /My letters and "Mark done"/ }).waitFor();
    expect(await page.locator('script').count()).toBe(0);
    await screenshot(page, 'guide');
    expect(await auditAccessibility(page)).toEqual([]);

    await page.getByRole('link', { name: 'Architecture', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/architecture');
    // Sections are anchors code can cite (docs/architecture.md §3 → #3-the-daily-letter).
    expect(await page.locator('h2[id="3-the-daily-letter"]').textContent()).toBe('3. The daily letter');
    expect(await page.locator('table').count()).toBeGreaterThan(0);
    expect(reader.problems).toEqual([]);
  }));

  it('an admin reaches the architecture from the console navigation', track('admin', () => reader, async () => {
    const admin = await openPage(browser);
    const [a] = await stack.ds.query(`SELECT id FROM app_user WHERE email = $1`, [ADMIN]);
    await signInWithToken(admin.page, stack, a.id);
    await admin.page.goto(`${stack.baseUrl}/admin`);
    await admin.page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: /Architecture/ }).click();
    await admin.page.waitForURL((u) => u.pathname === '/architecture');
    await admin.page.getByRole('heading', { level: 1, name: /architecture/i }).waitFor();
    expect(admin.problems).toEqual([]);
    await admin.ctx.close();
  }));
});
