/**
 * The admin's conversations list in a real browser against the built api: every subscriber's
 * thread with its message counts, last activity and last intent, newest first, filtered by last
 * intent, topic and address, and a row opening the existing per-user thread. The API refuses
 * subscribers and malformed filters.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { auditAccessibility, type ConsoleStack, launchBrowser, openPage, screenshot, signInWithToken, startConsoleStack, type TrackedPage } from './browser-harness';

jest.setTimeout(120_000);

const ADMIN = 'conv-admin@example.org';

describe('admin conversations (browser)', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let admin: TrackedPage;
  let failed = false;
  const users: Record<string, string> = {};

  async function person(email: string, topic: string, letters: number, replies: { intent: string; minutesAgo: number }[], letterMinutesAgo: number) {
    const [u] = await stack.ds.query(`INSERT INTO app_user (email) VALUES ($1) RETURNING id`, [email]);
    users[email] = u.id;
    const [s] = await stack.ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, timezone, send_time_local) SELECT $1, id, true, 'UTC', '07:30' FROM topic WHERE code = $2 RETURNING id, topic_id`,
      [u.id, topic],
    );
    let letterId: string | null = null;
    for (let i = 0; i < letters; i++) {
      letterId = randomUUID();
      await stack.ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, subject, body_text, sent_at)
         VALUES ($1, $2, $3, $4, 'send_now', 'sent', now(), current_date, $5, $6, 'Body', now() - make_interval(mins => $7))`,
        [letterId, s.id, u.id, s.topic_id, `<mz.${letterId}@reply.browser.test>`, `Letter ${i + 1} for ${email}`, letterMinutesAgo + i],
      );
    }
    for (const r of replies) {
      await stack.ds.query(
        `INSERT INTO inbound_message (message_id, raw, raw_size, source, from_address, envelope_from, subject, matched_user_id, matched_letter_id, matched_topic_id, kind, intent, reply_text, received_at, processed_at)
         VALUES ($1, $2, 10, 'smtp', $3, $3, 'Re: letter', $4, $5, $6, 'reply', $7, $8, now() - make_interval(mins => $9), now())`,
        [`<${randomUUID()}@mail.example>`, Buffer.from('x'), email, u.id, letterId, s.topic_id, r.intent, `reply saying ${r.intent}`, r.minutesAgo],
      );
    }
  }

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(['api'], { adminEmails: [ADMIN] }), launchBrowser()]);
    await person('ada@example.org', 'focus', 2, [{ intent: 'note', minutesAgo: 30 }, { intent: 'done', minutesAgo: 5 }], 120);
    await person('blaise@example.org', 'curiosity', 1, [{ intent: 'pause', minutesAgo: 60 }], 90);
    await person('carl@example.org', 'focus', 3, [], 10);
    await stack.ds.query(`INSERT INTO app_user (email) VALUES ('silent@example.org')`); // no letter, no reply: no conversation
    admin = await openPage(browser);
    const [a] = await stack.ds.query(`SELECT id FROM app_user WHERE email = $1`, [ADMIN]);
    await signInWithToken(admin.page, stack, a.id);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop(failed);
  });
  const track = (name: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      await screenshot(admin.page, `FAILED-conversations-${name}`).catch(() => undefined);
      throw err;
    }
  };

  const rows = async () => admin.page.getByTestId('conversations-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('th, td'), (c) => c.textContent?.trim())));

  it('lists every thread, newest activity first, with counts and last intent; filters; opens the thread', track('list', async () => {
    const { page } = admin;
    await page.goto(`${stack.baseUrl}/admin`);
    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Conversations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Conversations' }).waitFor();
    const all = await rows();
    expect(all.map((r) => r[0])).toEqual(['ada@example.org', 'carl@example.org', 'blaise@example.org']);
    expect(all[0].slice(1, 4)).toEqual(['4', '2', '2']);
    expect(all[0][5]).toMatch(/done/i);
    expect(all[1].slice(1, 4)).toEqual(['3', '3', '0']);
    expect(all[1][5]).toMatch(/no reply/);
    expect(all[2][5]).toMatch(/pause/i);
    await screenshot(page, 'admin-conversations');
    expect(await auditAccessibility(page)).toEqual([]);

    await page.getByLabel('Last intent').selectOption('pause');
    await page.waitForURL((u) => u.searchParams.get('lastIntent') === 'pause');
    await page.getByTestId('conversations-table').getByText('blaise@example.org').waitFor();
    expect((await rows()).map((r) => r[0])).toEqual(['blaise@example.org']);

    await page.goto(`${stack.baseUrl}/admin/conversations?topic=focus`);
    await page.getByTestId('conversations-table').waitFor();
    expect((await rows()).map((r) => r[0])).toEqual(['ada@example.org', 'carl@example.org']);

    await page.goto(`${stack.baseUrl}/admin/conversations?q=CARL`);
    await page.getByTestId('conversations-table').waitFor();
    expect((await rows()).map((r) => r[0])).toEqual(['carl@example.org']);

    await page.getByRole('link', { name: 'carl@example.org' }).click();
    await page.waitForURL((u) => u.pathname === `/admin/users/${users['carl@example.org']}`);
    await page.getByText('Letter 3 for carl@example.org').first().waitFor();
    expect(admin.problems).toEqual([]);
  }));

  it('refuses subscribers and malformed filters; a LIKE wildcard matches literally', track('forged', async () => {
    const get = (path: string) => admin.page.evaluate(async (p) => (await fetch(p)).status, path);
    expect(await get('/api/admin/conversations?lastIntent=drop%20table')).toBe(400);
    expect(await get('/api/admin/conversations?topic=%27%3B--')).toBe(400);
    expect(await get('/api/admin/conversations?pageSize=100000')).toBe(400);
    const wildcard = await admin.page.evaluate(async () => (await (await fetch('/api/admin/conversations?q=%25')).json()).total);
    expect(wildcard).toBe(0);
    const sub = await openPage(browser);
    await signInWithToken(sub.page, stack, users['ada@example.org']);
    expect(await sub.page.evaluate(async () => (await fetch('/api/admin/conversations')).status)).toBe(403);
    await sub.ctx.close();
  }));
});
