/**
 * The subscriber API over real HTTP (in-process api, real Postgres/Redis, the real LetterCommands):
 * topics, settings validation and schedule effects, the preview endpoint across DST, send-now,
 * my letters (sanitised), export of only my data, and erasure that leaves nothing personal behind.
 */
import { randomUUID } from 'node:crypto';
import { JobName, QueueName } from '@mz/contracts';
import { hashToken, letterMessageId } from '@mz/domain';
import { QueueService } from '@mz/platform';
import { nextRun } from '@mz/schedule';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('subscriber API', () => {
  let h: ApiHarness;
  let queues: QueueService;

  beforeAll(async () => {
    h = await startApi(await createTestEnv(), { TRUST_PROXY: 'loopback' });
    queues = h.svc.app.get(QueueService);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function subscriber(name?: string) {
    const user = await h.createUser({ name });
    return { user, cookie: await h.signIn(user) };
  }

  async function subscribe(cookie: string, topic: string, settings: Record<string, unknown> = {}) {
    const res = await h.request('PUT', `/api/subscriptions/${topic}`, { cookie, json: { enabled: true, sendTime: '07:30', timezone: 'Europe/Paris', ...settings } });
    expect(res.status).toBe(200);
    const [row] = await h.ds.query(`SELECT s.* FROM subscription s JOIN topic t ON t.id = s.topic_id JOIN app_user u ON u.id = s.user_id WHERE t.code = $1 AND u.id = (SELECT user_id FROM app_session WHERE token_hash = $2)`, [
      topic, hashToken(cookie.split('=')[1]),
    ]);
    return row as { id: string; user_id: string; topic_id: string };
  }

  async function letter(sub: { id: string; user_id: string; topic_id: string }, fields: Record<string, unknown> = {}) {
    const id = randomUUID();
    const f = { status: 'sent', kind: 'send_now', subject: 'A letter', body_text: 'Body text', body_html: '<p>Body</p>', sent_at: new Date(), ...fields };
    await h.ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, subject, body_text, body_html, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), current_date, $7, $8, $9, $10, $11)`,
      [id, sub.id, sub.user_id, sub.topic_id, f.kind, f.status, letterMessageId(id, 'reply.mentor.test'), f.subject, f.body_text, f.body_html, f.sent_at],
    );
    return id;
  }

  async function reply(userId: string, letterId: string | null, text: string, extra: Record<string, unknown> = {}) {
    const [row] = await h.ds.query(
      `INSERT INTO inbound_message (message_id, raw, raw_size, source, from_address, envelope_from, subject, matched_user_id, matched_letter_id, kind, intent, reply_text, note)
       VALUES ($1, $2, $3, 'smtp', $4, $4, 'Re: A letter', $5, $6, 'reply', 'note', $7, $8) RETURNING id`,
      [`<${randomUUID()}@mail.example>`, Buffer.from(`From: ${extra.from ?? 'x@example.test'}\r\n\r\n${text}`), 10, extra.from ?? null, userId, letterId, text, extra.note ?? text],
    );
    return row.id as string;
  }

  describe('topics and settings', () => {
    it('lists active topics publicly, with their persona', async () => {
      const res = await h.request('GET', '/api/topics');
      expect(res.status).toBe(200);
      const { topics } = await res.json();
      expect(topics).toHaveLength(6);
      expect(topics.find((t: { code: string }) => t.code === 'resilience')).toMatchObject({ name: 'Resilience', persona: { name: 'Seneca' } });
    });

    it('lists every topic for a newcomer as not yet subscribed', async () => {
      const { cookie } = await subscriber();
      const { subscriptions } = await (await h.request('GET', '/api/subscriptions', { cookie })).json();
      expect(subscriptions).toHaveLength(6);
      expect(subscriptions.every((s: { subscribed: boolean; enabled: boolean }) => !s.subscribed && !s.enabled)).toBe(true);
      expect((await h.request('GET', '/api/subscriptions')).status).toBe(401);
    });

    it('saves a topic and computes its next run with the scheduler\'s own function', async () => {
      const { cookie } = await subscriber();
      const before = new Date();
      const res = await h.request('PUT', '/api/subscriptions/focus', {
        cookie, json: { enabled: true, sendTime: '06:45', timezone: 'America/New_York', contextNote: 'I am a night-shift nurse' },
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({ topic: { code: 'focus' }, subscribed: true, enabled: true, sendTime: '06:45', timezone: 'America/New_York', contextNote: 'I am a night-shift nurse' });
      const expected = nextRun({ timezone: 'America/New_York', sendTimeLocal: '06:45', now: before }).at;
      expect(new Date(body.nextRunAt).getTime()).toBe(expected.getTime());

      // contextNote omitted keeps it; null clears it.
      const kept = await (await h.request('PUT', '/api/subscriptions/focus', { cookie, json: { enabled: true, sendTime: '07:00', timezone: 'America/New_York' } })).json();
      expect(kept.contextNote).toBe('I am a night-shift nurse');
      const cleared = await (await h.request('PUT', '/api/subscriptions/focus', { cookie, json: { enabled: true, sendTime: '07:00', timezone: 'America/New_York', contextNote: null } })).json();
      expect(cleared.contextNote).toBeNull();
    });

    it('returns the last scheduled local date, which the settings preview passes on so it never shows a run the scheduler will skip', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'writing', { timezone: 'Europe/Paris' });
      const list = async () => (await (await h.request('GET', '/api/subscriptions', { cookie })).json()).subscriptions.find((x: { topic: { code: string } }) => x.topic.code === 'writing');
      expect((await list()).lastScheduledLocalDate).toBeNull();
      await h.ds.query(`UPDATE subscription SET last_scheduled_local_date = '2031-05-04' WHERE id = $1`, [sub.id]);
      expect((await list()).lastScheduledLocalDate).toBe('2031-05-04');
    });

    it('refuses a bad zone, time or note with 400 and changes nothing', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'writing', { sendTime: '08:00', timezone: 'Europe/Paris', contextNote: 'keep me' });
      const [before] = await h.ds.query(`SELECT * FROM subscription WHERE id = $1`, [sub.id]);
      const bad: Record<string, unknown>[] = [
        { enabled: true, sendTime: '08:00', timezone: 'Mars/Olympus_Mons' },
        { enabled: true, sendTime: '08:00', timezone: 'europe/paris' },
        { enabled: true, sendTime: '08:00', timezone: '+02:00' },
        { enabled: true, sendTime: '24:00', timezone: 'Europe/Paris' },
        { enabled: true, sendTime: '8:00', timezone: 'Europe/Paris' },
        { enabled: true, sendTime: '08:00', timezone: 'Europe/Paris', contextNote: 'x'.repeat(2001) },
        { enabled: 'yes', sendTime: '08:00', timezone: 'Europe/Paris' },
        { enabled: true, sendTime: '08:00', timezone: 'Europe/Paris', surprise: 1 },
      ];
      for (const json of bad) {
        const res = await h.request('PUT', '/api/subscriptions/writing', { cookie, json });
        expect([JSON.stringify(json).slice(0, 80), res.status]).toEqual([JSON.stringify(json).slice(0, 80), 400]);
        expect((await res.json()).issues.length).toBeGreaterThan(0);
      }
      const bulk = await h.request('PUT', '/api/subscriptions', {
        cookie,
        json: { subscriptions: [{ topic: 'writing', enabled: false, sendTime: '09:00', timezone: 'UTC' }, { topic: 'focus', enabled: true, sendTime: '25:00', timezone: 'UTC' }] },
      });
      expect(bulk.status).toBe(400);
      const unknown = await h.request('PUT', '/api/subscriptions', {
        cookie,
        json: { subscriptions: [{ topic: 'writing', enabled: false, sendTime: '09:00', timezone: 'UTC' }, { topic: 'no-such-topic', enabled: true, sendTime: '09:00', timezone: 'UTC' }] },
      });
      expect(unknown.status).toBe(404);
      const [after] = await h.ds.query(`SELECT * FROM subscription WHERE id = $1`, [sub.id]);
      expect(after).toEqual(before);
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM subscription WHERE user_id = $1`, [sub.user_id]);
      expect(n).toBe(1);
    });

    it('a language: English until chosen, stored canonical, omitted keeps it; without an LLM letters are English', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'writing');
      const view = async () => (await (await h.request('GET', '/api/subscriptions', { cookie })).json()).subscriptions.find((x: { topic: { code: string } }) => x.topic.code === 'writing');
      expect(await view()).toMatchObject({ language: 'en', letterLanguage: 'en' });
      const saved = await (await h.request('PUT', '/api/subscriptions/writing', { cookie, json: { enabled: true, sendTime: '07:30', timezone: 'Europe/Paris', language: 'DE-at' } })).json();
      // This api runs without LLM_BASE_URL: the offline composer writes English, and the view says so.
      expect(saved).toMatchObject({ language: 'de-AT', letterLanguage: 'en' });
      await h.request('PUT', '/api/subscriptions/writing', { cookie, json: { enabled: true, sendTime: '08:00', timezone: 'Europe/Paris' } });
      const [row] = await h.ds.query(`SELECT language FROM subscription WHERE id = $1`, [sub.id]);
      expect(row.language).toBe('de-AT');
      const bulk = await h.request('PUT', '/api/subscriptions', { cookie, json: { subscriptions: [{ topic: 'writing', enabled: true, sendTime: '08:00', timezone: 'UTC', language: 'iw' }] } });
      expect((await bulk.json()).subscriptions.find((x: { topic: { code: string } }) => x.topic.code === 'writing').language).toBe('he');
    });

    it('refuses a forged or invalid language with 400 and changes nothing', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'writing', { language: 'fr' });
      const [before] = await h.ds.query(`SELECT * FROM subscription WHERE id = $1`, [sub.id]);
      const tags: unknown[] = ['en_US', 'english', 'x-klingon', 'qaa', 'und', '', ' ', 'de-', '<script>', "fr'; DROP TABLE subscription; --", `en-${'a'.repeat(40)}`, 'en-US-u-ca-gregory-x-' + 'a'.repeat(30), 42, null, ['en'], { tag: 'en' }];
      for (const language of tags) {
        const res = await h.request('PUT', '/api/subscriptions/writing', { cookie, json: { enabled: true, sendTime: '08:00', timezone: 'Europe/Paris', language } });
        expect([JSON.stringify(language).slice(0, 40), res.status]).toEqual([JSON.stringify(language).slice(0, 40), 400]);
        expect((await res.json()).issues.length).toBeGreaterThan(0);
      }
      const bulk = await h.request('PUT', '/api/subscriptions', { cookie, json: { subscriptions: [{ topic: 'focus', enabled: true, sendTime: '09:00', timezone: 'UTC', language: 'es' }, { topic: 'writing', enabled: true, sendTime: '09:00', timezone: 'UTC', language: 'zz_ZZ' }] } });
      expect(bulk.status).toBe(400);
      const [after] = await h.ds.query(`SELECT * FROM subscription WHERE id = $1`, [sub.id]);
      expect(after).toEqual(before);
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM subscription WHERE user_id = $1`, [sub.user_id]);
      expect(n).toBe(1);
    });

    it('disabling a topic cancels its pending letters and removes their jobs', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'discipline');
      const pending = await letter(sub, { status: 'scheduled', kind: 'scheduled', subject: null, body_text: null, body_html: null, sent_at: null });
      const sent = await letter(sub);
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: pending }, { jobId: pending, delay: 60_000 });
      const res = await h.request('PUT', '/api/subscriptions', { cookie, json: { subscriptions: [{ topic: 'discipline', enabled: false, sendTime: '07:30', timezone: 'Europe/Paris' }] } });
      expect(res.status).toBe(200);
      const rows = await h.ds.query(`SELECT id, status FROM letter WHERE subscription_id = $1`, [sub.id]);
      expect(Object.fromEntries(rows.map((r: { id: string; status: string }) => [r.id, r.status]))).toEqual({ [pending]: 'cancelled', [sent]: 'sent' });
      expect(await queues.queue(QueueName.LettersCompose).getJob(pending)).toBeUndefined();
      const [s] = await h.ds.query(`SELECT enabled, next_run_at FROM subscription WHERE id = $1`, [sub.id]);
      expect(s).toEqual({ enabled: false, next_run_at: null });
    });
  });

  describe('GET /api/schedule/preview', () => {
    const preview = (q: Record<string, string>) => h.request('GET', `/api/schedule/preview?${new URLSearchParams(q)}`);

    it('shifts a send time inside the spring-forward gap by the gap (Paris, 29 March 2026)', async () => {
      const res = await preview({ timezone: 'Europe/Paris', sendTime: '02:30', after: '2026-03-28T12:00:00Z', count: '3' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        runs: [
          { utc: '2026-03-29T01:30:00.000Z', local: '2026-03-29T03:30' },
          { utc: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30' },
          { utc: '2026-03-31T00:30:00.000Z', local: '2026-03-31T02:30' },
        ],
      });
    });

    it('uses the first of a repeated hour once (Paris, 25 October 2026) and honours lastLocalDate', async () => {
      const res = await preview({ timezone: 'Europe/Paris', sendTime: '02:30', after: '2026-10-24T12:00:00Z', count: '2' });
      expect((await res.json()).runs).toEqual([
        { utc: '2026-10-25T00:30:00.000Z', local: '2026-10-25T02:30' },
        { utc: '2026-10-26T01:30:00.000Z', local: '2026-10-26T02:30' },
      ]);
      const skipped = await (await preview({ timezone: 'Europe/Paris', sendTime: '02:30', after: '2026-10-24T12:00:00Z', lastLocalDate: '2026-10-25', count: '1' })).json();
      expect(skipped.runs).toEqual([{ utc: '2026-10-26T01:30:00.000Z', local: '2026-10-26T02:30' }]);
    });

    it('defaults to 3 runs from now and refuses bad input with 400', async () => {
      const res = await preview({ timezone: 'UTC', sendTime: '07:30' });
      const { runs } = await res.json();
      expect(runs).toHaveLength(3);
      expect(new Date(runs[0].utc).getTime()).toBeGreaterThan(Date.now() - 1000);
      const bad: Record<string, string>[] = [
        { timezone: 'Nowhere/City', sendTime: '07:30' },
        { timezone: 'UTC', sendTime: '7:30' },
        { timezone: 'UTC', sendTime: '07:30', count: '31' },
        { timezone: 'UTC', sendTime: '07:30', count: '0' },
        { timezone: 'UTC', sendTime: '07:30', after: 'yesterday' },
        { timezone: 'UTC', sendTime: '07:30', lastLocalDate: '2026-02-30' },
        { sendTime: '07:30' },
      ];
      for (const q of bad) {
        expect([q, (await preview(q)).status]).toEqual([q, 400]);
      }
    });
  });

  describe('send-now', () => {
    it('creates a send_now letter and queues its compose job, without moving the schedule', async () => {
      const { cookie } = await subscriber();
      const sub = await subscribe(cookie, 'curiosity');
      const [{ next_run_at: before }] = await h.ds.query(`SELECT next_run_at FROM subscription WHERE id = $1`, [sub.id]);
      const res = await h.request('POST', '/api/subscriptions/curiosity/send-now', { cookie });
      expect(res.status).toBe(202);
      const body = await res.json();
      expect(body.queued).toBe(true);
      const [row] = await h.ds.query(`SELECT kind, status, subscription_id FROM letter WHERE id = $1`, [body.letterId]);
      expect(row).toEqual({ kind: 'send_now', status: 'scheduled', subscription_id: sub.id });
      const job = await queues.queue(QueueName.LettersCompose).getJob(body.letterId);
      expect(job?.name).toBe(JobName.ComposeLetter);
      expect(job?.data).toEqual({ v: 1, letterId: body.letterId });
      const [{ next_run_at: after }] = await h.ds.query(`SELECT next_run_at FROM subscription WHERE id = $1`, [sub.id]);
      expect(after).toEqual(before);
    });

    it('answers 404 when not subscribed and 409 when the topic is off', async () => {
      const { cookie } = await subscriber();
      expect((await h.request('POST', '/api/subscriptions/focus/send-now', { cookie })).status).toBe(404);
      await subscribe(cookie, 'focus', { enabled: false });
      expect((await h.request('POST', '/api/subscriptions/focus/send-now', { cookie })).status).toBe(409);
      expect((await h.request('POST', '/api/subscriptions/focus/send-now')).status).toBe(401);
    });
  });

  describe('my letters', () => {
    it('returns only my letters with replies, newest first, with HTML sanitised and script inert', async () => {
      const me = await subscriber();
      const other = await subscriber();
      const mine = await subscribe(me.cookie, 'resilience');
      const theirs = await subscribe(other.cookie, 'resilience');
      const old = await letter(mine, { sent_at: new Date(Date.now() - 86_400_000), subject: 'old' });
      const evil = await letter(mine, { subject: '<script>alert(1)</script>', body_html: '<p>Hi<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a></p>' });
      await h.ds.query(`UPDATE letter SET scheduled_for = now() - interval '1 day' WHERE id = $1`, [old]);
      const pending = await letter(mine, { status: 'composed', subject: 'not yet' });
      await letter(mine, { status: 'cancelled', subject: 'cancelled one' });
      const foreign = await letter(theirs, { subject: 'not mine' });
      await reply(me.user.id, evil, 'Thanks! <script>alert("reply")</script>');

      const res = await h.request('GET', '/api/letters', { cookie: me.cookie });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const page = await res.json();
      const ids = page.items.map((l: { id: string }) => l.id);
      expect(page.total).toBe(3);
      expect(ids).not.toContain(foreign);
      expect(ids[ids.length - 1]).toBe(old);
      const e = page.items.find((l: { id: string }) => l.id === evil);
      expect(e.bodyHtml).toBe('<p>Hi<a rel="noopener noreferrer nofollow" target="_blank">x</a></p>');
      expect(e.subject).toBe('<script>alert(1)</script>'); // plain text field, documented as such
      expect(e.replies).toHaveLength(1);
      expect(e.replies[0].text).toBe('Thanks! <script>alert("reply")</script>');
      const p = page.items.find((l: { id: string }) => l.id === pending);
      expect(p).toMatchObject({ status: 'composed', subject: null, bodyText: null, bodyHtml: null });

      expect((await h.request('GET', `/api/letters/${foreign}`, { cookie: me.cookie })).status).toBe(404);
      expect((await h.request('GET', `/api/letters/${evil}`, { cookie: me.cookie })).status).toBe(200);
      const second = await (await h.request('GET', '/api/letters?page=2&pageSize=2', { cookie: me.cookie })).json();
      expect(second.items.map((l: { id: string }) => l.id)).toEqual([old]);
    });
  });

  describe('mark done from the web', () => {
    const streakOf = async (subId: string) =>
      (await h.ds.query(`SELECT count(*)::int AS done_rows, max(streak_at_time)::int AS streak FROM progress WHERE subscription_id = $1 AND completed`, [subId]))[0];
    const doneEvents = async (letterId: string) => (await h.ds.query(`SELECT actor, metadata FROM event_log WHERE letter_id = $1 AND type = 'LETTER_DONE'`, [letterId]));

    it('marks a sent letter done once: one progress row, the streak counted once, one event — a second click (or two at once) changes nothing', async () => {
      const me = await subscriber();
      const sub = await subscribe(me.cookie, 'focus');
      const first = await letter(sub, { sent_at: new Date(Date.now() - 86_400_000) });
      const second = await letter(sub);

      const a = await h.request('POST', `/api/letters/${first}/done`, { cookie: me.cookie });
      expect(a.status).toBe(200);
      expect(await a.json()).toEqual({ letterId: first, changed: true, streak: 1 });
      const [b1, b2] = await Promise.all([1, 2].map(() => h.request('POST', `/api/letters/${second}/done`, { cookie: me.cookie })));
      const both = [await b1.json(), await b2.json()];
      expect(both.filter((r) => r.changed)).toHaveLength(1);
      expect(both.map((r) => r.streak)).toEqual([2, 2]);
      const again = await (await h.request('POST', `/api/letters/${first}/done`, { cookie: me.cookie })).json();
      expect(again).toEqual({ letterId: first, changed: false, streak: 2 });

      expect(await streakOf(sub.id)).toEqual({ done_rows: 2, streak: 2 });
      expect(await doneEvents(first)).toEqual([{ actor: `user:${me.user.id}`, metadata: { source: 'web', streak: 1 } }]);
      expect(await doneEvents(second)).toHaveLength(1);
      const { items } = await (await h.request('GET', '/api/letters', { cookie: me.cookie })).json();
      expect(items.filter((l: { done: boolean }) => l.done)).toHaveLength(2);
      const { subscriptions } = await (await h.request('GET', '/api/subscriptions', { cookie: me.cookie })).json();
      expect(subscriptions.find((x: { topic: { code: string } }) => x.topic.code === 'focus').streak).toBe(2);
    });

    it('after a "done" reply the button changes nothing (one effect per letter, whichever way it came)', async () => {
      const me = await subscriber();
      const sub = await subscribe(me.cookie, 'curiosity');
      const id = await letter(sub);
      const inbound = await reply(me.user.id, id, 'done');
      await h.ds.query(`INSERT INTO progress (subscription_id, letter_id, inbound_message_id, completed, streak_at_time) VALUES ($1, $2, $3, true, 1)`, [sub.id, id, inbound]);
      expect(await (await h.request('POST', `/api/letters/${id}/done`, { cookie: me.cookie })).json()).toEqual({ letterId: id, changed: false, streak: 1 });
      expect(await streakOf(sub.id)).toEqual({ done_rows: 1, streak: 1 });
      expect(await doneEvents(id)).toHaveLength(0);
    });

    it('refuses someone else\'s letter (404), an unsent or cancelled one (409/404), a bad id (400), no session (401) and a cross-site post (403)', async () => {
      const me = await subscriber();
      const other = await subscriber();
      const theirs = await letter(await subscribe(other.cookie, 'focus'));
      const mine = await subscribe(me.cookie, 'focus');
      const unsent = await letter(mine, { status: 'composed', sent_at: null });
      const cancelled = await letter(mine, { status: 'cancelled', sent_at: null });
      const sent = await letter(mine);
      expect((await h.request('POST', `/api/letters/${theirs}/done`, { cookie: me.cookie })).status).toBe(404);
      expect((await h.request('POST', `/api/letters/${randomUUID()}/done`, { cookie: me.cookie })).status).toBe(404);
      expect((await h.request('POST', `/api/letters/${unsent}/done`, { cookie: me.cookie })).status).toBe(409);
      expect((await h.request('POST', `/api/letters/${cancelled}/done`, { cookie: me.cookie })).status).toBe(404);
      expect((await h.request('POST', `/api/letters/not-a-uuid'%20OR%201=1/done`, { cookie: me.cookie })).status).toBe(400);
      expect((await h.request('POST', `/api/letters/${sent}/done`)).status).toBe(401);
      expect((await h.request('POST', `/api/letters/${sent}/done`, { cookie: me.cookie, origin: 'https://evil.example' })).status).toBe(403);
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM progress WHERE letter_id = ANY($1::uuid[])`, [[theirs, unsent, cancelled, sent]]);
      expect(n).toBe(0);
    });
  });

  describe('export and erasure', () => {
    it('exports all of my data and nothing of anyone else', async () => {
      const me = await subscriber('Ada Example');
      const other = await subscriber('Other Person');
      const mine = await subscribe(me.cookie, 'focus', { contextNote: 'my own note' });
      const theirs = await subscribe(other.cookie, 'focus', { contextNote: 'their secret note' });
      const myLetter = await letter(mine, { subject: 'for me' });
      const theirLetter = await letter(theirs, { subject: 'for them' });
      await reply(me.user.id, myLetter, 'my reply text');
      await reply(other.user.id, theirLetter, 'their reply text');
      await h.ds.query(`INSERT INTO progress (subscription_id, letter_id, completed, note, streak_at_time) VALUES ($1, $2, true, 'did it', 3), ($3, $4, true, 'they did it', 9)`, [mine.id, myLetter, theirs.id, theirLetter]);

      const res = await h.request('GET', '/api/me/export', { cookie: me.cookie });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/attachment/);
      const text = await res.text();
      const data = JSON.parse(text);
      expect(data.user).toMatchObject({ id: me.user.id, email: me.user.email, name: 'Ada Example' });
      expect(data.subscriptions).toHaveLength(1);
      expect(data.subscriptions[0].contextNote).toBe('my own note');
      expect(data.letters.map((l: { id: string }) => l.id)).toEqual([myLetter]);
      expect(data.replies.map((r: { text: string }) => r.text)).toEqual(['my reply text']);
      expect(data.progress).toHaveLength(1);
      expect(data.events.length).toBeGreaterThan(0);
      expect(data.sessions).toHaveLength(1);
      for (const foreign of [other.user.id, other.user.email, 'Other Person', theirs.id, theirLetter, 'their secret note', 'their reply text', 'they did it']) {
        expect([foreign, text.includes(foreign)]).toEqual([foreign, false]);
      }
      expect(text).not.toMatch(/[0-9a-f]{64}/); // no token hashes
    });

    it('erases me: nothing personal is left in any table, pending letters are cancelled, the session ends', async () => {
      const me = await subscriber('Zelda Unique');
      const email = me.user.email;
      const sub = await subscribe(me.cookie, 'persistence', { contextNote: 'private context zq7' });
      const sent = await letter(sub, { subject: 'Dear Zelda Unique' });
      const pending = await letter(sub, { status: 'scheduled', kind: 'scheduled', subject: null, body_text: null, body_html: null, sent_at: null });
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: pending }, { jobId: pending, delay: 60_000 });
      await reply(me.user.id, sent, 'reply words xk9', { from: email, note: 'reply note xk9' });
      await reply(me.user.id, null, 'unmatched words from me', { from: email });
      await h.ds.query(`INSERT INTO progress (subscription_id, letter_id, completed, note) VALUES ($1, $2, true, 'progress note pp4')`, [sub.id, sent]);
      await h.ds.query(`INSERT INTO suppression (address, reason) VALUES ($1, 'manual')`, [email]);
      // A mail provider's event about the letter (its address, and what the provider said).
      await h.ds.query(
        `INSERT INTO provider_event (provider, event_key, type, recipient, letter_id, message_id, detail) VALUES ('mailgun', 'ev-1', 'delivery', $1, $2, '<mz.xk9@reply>', $3::jsonb)`,
        [email, sent, JSON.stringify({ description: `delivered to ${email} xk9` })],
      );
      await h.ds.query(`INSERT INTO event_log (type, user_id, metadata) VALUES ('REPLY_PROCESSED', $1, $2::jsonb)`, [me.user.id, JSON.stringify({ intent: 'note', note: 'reply note xk9', from: email })]);
      await h.loginToken(me.user.id);

      const res = await h.request('DELETE', '/api/me', { cookie: me.cookie });
      expect(res.status).toBe(204);
      expect(res.headers.getSetCookie().join(';')).toMatch(/mz_session=;/);
      expect((await h.request('GET', '/api/me', { cookie: me.cookie })).status).toBe(401);

      const personal = [email, email.split('@')[0], 'Zelda Unique', 'private context zq7', 'xk9', 'progress note pp4', 'unmatched words from me'];
      const tables: { table_name: string }[] = await h.ds.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.length).toBeGreaterThan(15);
      for (const { table_name } of tables) {
        const rows: { row: string }[] = await h.ds.query(`SELECT t::text AS row FROM "${table_name}" t`);
        // bytea columns print as hex: decode them too.
        const dump = rows.map((r) => r.row.replace(/\\\\x([0-9a-f]+)/g, (_, hex) => Buffer.from(hex, 'hex').toString('utf8'))).join('\n');
        for (const p of personal) expect([table_name, p, dump.includes(p)]).toEqual([table_name, p, false]);
      }
      const [u] = await h.ds.query(`SELECT email, name, status FROM app_user WHERE id = $1`, [me.user.id]);
      expect(u).toEqual({ email: `deleted+${me.user.id}@invalid`, name: null, status: 'deleted' });
      expect(await h.ds.query(`SELECT 1 FROM letter WHERE user_id = $1`, [me.user.id])).toHaveLength(0);
      expect(await queues.queue(QueueName.LettersCompose).getJob(pending)).toBeUndefined();
      const [ev] = await h.ds.query(`SELECT actor, metadata FROM event_log WHERE user_id = $1 AND type = 'USER_DELETED'`, [me.user.id]);
      expect(ev).toEqual({ actor: me.user.id, metadata: { by: 'self' } });

      // No more mail: a login link for the old address signs up a new, separate account.
      await h.request('POST', '/api/auth/login-link', { json: { email }, headers: { 'x-forwarded-for': '203.0.113.77' } });
      const [fresh] = await h.ds.query(`SELECT id FROM app_user WHERE email = $1`, [email]);
      expect(fresh.id).not.toBe(me.user.id);
    });
  });
});
