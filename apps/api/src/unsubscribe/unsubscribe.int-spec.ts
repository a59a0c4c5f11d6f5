/**
 * One-click unsubscribe (RFC 8058) over real HTTP: works with no cookie and a foreign Origin,
 * answers 200 without a redirect, is idempotent, and a GET never changes anything.
 */
import { randomUUID } from 'node:crypto';
import { JobName, QueueName } from '@mz/contracts';
import { letterMessageId, signUnsubscribeToken } from '@mz/domain';
import { QueueService } from '@mz/platform';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi, TEST_SESSION_SECRET } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('unsubscribe links', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApi(await createTestEnv());
  });
  afterAll(async () => {
    await h?.close();
  });

  async function subscription(topic = 'focus') {
    const user = await h.createUser();
    const [s] = await h.ds.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, next_run_at) SELECT $1, id, true, now() + interval '1 day' FROM topic WHERE code = $2 RETURNING id`,
      [user.id, topic],
    );
    return { user, id: s.id as string, token: signUnsubscribeToken(s.id, TEST_SESSION_SECRET) };
  }

  async function pendingLetter(sub: { id: string; user: { id: string } }) {
    const id = randomUUID();
    await h.ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, message_id)
       SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', now() + interval '1 hour', current_date, $2 FROM subscription s WHERE s.id = $3`,
      [id, letterMessageId(id, 'reply.mentor.test'), sub.id],
    );
    await h.svc.app.get(QueueService).enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id, delay: 60_000 });
    return id;
  }

  const state = async (id: string) => (await h.ds.query(`SELECT enabled, next_run_at FROM subscription WHERE id = $1`, [id]))[0];

  it('GET shows a confirm page with a POST form and changes nothing (also for HEAD)', async () => {
    const sub = await subscription('resilience');
    const res = await h.request('GET', `/u/${sub.token}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Unsubscribe from Resilience?');
    expect(html).toContain(`<form method="post" action="/u/${sub.token}">`);
    expect((await h.request('HEAD', `/u/${sub.token}`)).status).toBe(200);
    expect((await state(sub.id)).enabled).toBe(true);
    expect(await h.ds.query(`SELECT 1 FROM event_log WHERE subscription_id = $1`, [sub.id])).toHaveLength(0);
  });

  it('one-click POST from a mail provider (no cookie, foreign Origin) unsubscribes with 200, cancels pending letters and their jobs', async () => {
    const sub = await subscription();
    const pending = await pendingLetter(sub);
    const res = await h.request('POST', `/u/${sub.token}`, { origin: 'https://mail.provider.example', form: { 'List-Unsubscribe': 'One-Click' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('You are unsubscribed from Focus');
    expect(await state(sub.id)).toEqual({ enabled: false, next_run_at: null });
    const [l] = await h.ds.query(`SELECT status, skip_reason FROM letter WHERE id = $1`, [pending]);
    expect(l).toEqual({ status: 'cancelled', skip_reason: 'unsubscribed' });
    expect(await h.svc.app.get(QueueService).queue(QueueName.LettersCompose).getJob(pending)).toBeUndefined();
    const events = await h.ds.query(`SELECT type, metadata FROM event_log WHERE subscription_id = $1 AND type = 'UNSUBSCRIBE'`, [sub.id]);
    expect(events).toEqual([{ type: 'UNSUBSCRIBE', metadata: { source: 'one_click' } }]);

    // Idempotent: a second click answers the same and logs nothing new.
    const again = await h.request('POST', `/u/${sub.token}`, { origin: null, form: { 'List-Unsubscribe': 'One-Click' } });
    expect(again.status).toBe(200);
    expect(await h.ds.query(`SELECT 1 FROM event_log WHERE subscription_id = $1 AND type = 'UNSUBSCRIBE'`, [sub.id])).toHaveLength(1);
    expect(await (await h.request('GET', `/u/${sub.token}`)).text()).toContain('You are not subscribed to Focus');
  });

  it('the confirm page\'s own form works too; other topics are untouched', async () => {
    const a = await subscription('writing');
    const [b] = await h.ds.query(`INSERT INTO subscription (user_id, topic_id) SELECT $1, id FROM topic WHERE code = 'focus' RETURNING id`, [a.user.id]);
    expect((await h.request('POST', `/u/${a.token}`)).status).toBe(200);
    expect((await state(a.id)).enabled).toBe(false);
    expect((await state(b.id)).enabled).toBe(true);
  });

  it('refuses forged, tampered and other-secret tokens with 404 and changes nothing', async () => {
    const sub = await subscription();
    const forged = [
      `${sub.id}.${'A'.repeat(43)}`,
      `${sub.token.slice(0, -2)}xx`,
      signUnsubscribeToken(sub.id, 'another-secret-another-secret-another-secret'),
      'garbage',
    ];
    for (const t of forged) {
      expect((await h.request('GET', `/u/${encodeURIComponent(t)}`)).status).toBe(404);
      expect((await h.request('POST', `/u/${encodeURIComponent(t)}`, { form: { 'List-Unsubscribe': 'One-Click' } })).status).toBe(404);
    }
    expect((await state(sub.id)).enabled).toBe(true);
  });

  it('escapes the topic name in its pages', async () => {
    const sub = await subscription('discipline');
    await h.ds.query(`UPDATE topic SET name = '<script>alert(1)</script>' WHERE code = 'discipline'`);
    const html = await (await h.request('GET', `/u/${sub.token}`)).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const after = await (await h.request('POST', `/u/${sub.token}`)).text();
    expect(after).not.toContain('<script>');
    await h.ds.query(`UPDATE topic SET name = 'Discipline' WHERE code = 'discipline'`);
  });
});
