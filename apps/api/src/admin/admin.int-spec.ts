/**
 * The admin API over real HTTP against the in-process api (real Postgres/Redis, real
 * LetterCommands): catalogue and prompt versions, users, letters and Retry now, conversations,
 * review of flagged replies, footer, config, metrics, the reply simulator and the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { JobName, QueueName } from '@mz/contracts';
import { letterMessageId, mailAddressSecret, signedAddress, signUnsubscribeToken } from '@mz/domain';
import { QueueService } from '@mz/platform';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi, TEST_SESSION_SECRET } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('admin API', () => {
  let h: ApiHarness;
  let admin: { id: string; email: string };
  let cookie: string;
  let queues: QueueService;

  beforeAll(async () => {
    h = await startApi(await createTestEnv());
    admin = await h.createUser({ role: 'admin', email: 'admin@example.test' });
    cookie = await h.signIn(admin);
    queues = h.svc.app.get(QueueService);
  });
  afterAll(async () => {
    await h?.close();
  });

  const api = async (method: string, path: string, json?: unknown) => {
    const res = await h.request(method, path, { cookie, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const audit = async (action: string) =>
    h.ds.query(`SELECT actor, user_id, letter_id, metadata FROM event_log WHERE type = 'ADMIN_ACTION' AND metadata->>'action' = $1 ORDER BY id`, [action]);
  const topicId = async (code: string) => (await h.ds.query(`SELECT id FROM topic WHERE code = $1`, [code]))[0].id as string;

  async function subscribed(code = 'focus', userFields: { name?: string; email?: string } = {}) {
    const user = await h.createUser(userFields);
    const [s] = await h.ds.query(`INSERT INTO subscription (user_id, topic_id) SELECT $1, id FROM topic WHERE code = $2 RETURNING id, user_id, topic_id`, [user.id, code]);
    return { user, sub: s as { id: string; user_id: string; topic_id: string } };
  }

  async function letter(sub: { id: string; user_id: string; topic_id: string }, fields: Record<string, unknown> = {}) {
    const id = randomUUID();
    const f: Record<string, unknown> = { status: 'sent', subject: 'Subject', body_text: 'A body of text.\nSecond line.', body_html: '<p>A body</p>', sent_at: new Date(), scheduled_for: new Date(), ...fields };
    await h.ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, subject, body_text, body_html, sent_at,
                           attempts, error_type, last_error, next_retry_at, prompt_version)
       VALUES ($1, $2, $3, $4, $17, $5, $6, COALESCE($18::date, ($6::timestamptz)::date), $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [id, sub.id, sub.user_id, sub.topic_id, f.status, f.scheduled_for, letterMessageId(id, 'reply.mentor.test'), f.subject, f.body_text, f.body_html, f.sent_at,
        f.attempts ?? 0, f.error_type ?? null, f.last_error ?? null, f.next_retry_at ?? null, f.prompt_version ?? 1, f.kind ?? 'send_now', f.local_date ?? null],
    );
    return id;
  }

  describe('catalogue', () => {
    it('creates a topic with a first prompt version, edits it and writes what changed to the audit log', async () => {
      const [persona] = await h.ds.query(`SELECT id FROM persona WHERE name = 'Seneca'`);
      const created = await api('POST', '/api/admin/topics', { code: 'gratitude', name: 'Gratitude', description: 'Noticing what is good.', personaId: persona.id });
      expect(created.status).toBe(201);
      // A new topic inherits its persona's voice: no overrides, the effective settings are Seneca's.
      expect(created.body).toMatchObject({
        code: 'gratitude', personaName: 'Seneca', temperature: null, creativity: null, responseLength: null, instructions: null, active: true,
        effective: { creativity: 0.5, responseLength: 'medium', instructions: '' }, activePrompts: [{ version: 1, weight: 100 }],
      });
      const patched = await api('PATCH', `/api/admin/topics/${created.body.id}`, { temperature: 0.9, responseLength: 'long', description: 'Noticing what is good, daily.' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ temperature: 0.9, responseLength: 'long', effective: { responseLength: 'long', creativity: 0.5 } });
      const [entry] = await audit('topic.update');
      expect(entry.actor).toBe(admin.id);
      expect(entry.metadata.changes).toEqual({
        temperature: { from: null, to: 0.9 }, responseLength: { from: null, to: 'long' }, description: { from: 'Noticing what is good.', to: 'Noticing what is good, daily.' },
      });
      // null goes back to inheriting
      expect((await api('PATCH', `/api/admin/topics/${created.body.id}`, { responseLength: null })).body.effective.responseLength).toBe('medium');
      expect((await api('PATCH', `/api/admin/topics/${created.body.id}`, { instructions: 'x'.repeat(4001) })).status).toBe(400);
      expect((await api('PATCH', `/api/admin/topics/${created.body.id}`, { code: 'other' })).status).toBe(400);
      expect((await api('PATCH', `/api/admin/topics/${created.body.id}`, { temperature: 3 })).status).toBe(400);
      expect((await api('POST', '/api/admin/topics', { code: 'gratitude', name: 'x', description: 'y', personaId: persona.id })).status).toBe(409);
      expect((await api('GET', '/api/admin/topics')).body.topics).toHaveLength(7);
    });

    it('previews a letter: validates the voice, 404 for an unknown topic (the composer path is in the browser suite)', async () => {
      const [{ id: topicId }] = await h.ds.query(`SELECT id FROM topic WHERE code = 'focus'`);
      const voice = { creativity: 0.5, responseLength: 'medium', temperature: null, instructions: '' };
      expect((await api('POST', `/api/admin/topics/${randomUUID()}/preview`, voice)).status).toBe(404);
      for (const bad of [{ ...voice, creativity: 2 }, { ...voice, responseLength: 'epic' }, { ...voice, instructions: 'x'.repeat(4001) }, { ...voice, extra: 1 }, {}]) {
        expect((await api('POST', `/api/admin/topics/${topicId}/preview`, bad)).status).toBe(400);
      }
    });

    it('manages personas; one in use cannot be deleted', async () => {
      const made = await api('POST', '/api/admin/personas', { name: 'Hypatia', era: 'Alexandria, 4th century', styleNotes: 'Clear, mathematical, patient.' });
      expect(made.status).toBe(201);
      expect((await api('POST', '/api/admin/personas', { name: 'Hypatia', era: 'x', styleNotes: 'y' })).status).toBe(409);
      expect(made.body).toMatchObject({ creativity: 0.5, responseLength: 'medium', instructions: '' });
      expect((await api('PATCH', `/api/admin/personas/${made.body.id}`, { era: 'Alexandria' })).body.era).toBe('Alexandria');
      const voiced = await api('PATCH', `/api/admin/personas/${made.body.id}`, { creativity: 0.8, responseLength: 'short', instructions: 'Prefer geometry.' });
      expect(voiced.body).toMatchObject({ creativity: 0.8, responseLength: 'short', instructions: 'Prefer geometry.' });
      expect((await audit('persona.update')).map((e: { metadata: { changes: object } }) => e.metadata.changes)).toContainEqual({ creativity: { from: 0.5, to: 0.8 }, responseLength: { from: 'medium', to: 'short' }, instructions: { from: '', to: 'Prefer geometry.' } });
      expect((await api('PATCH', `/api/admin/personas/${made.body.id}`, { creativity: 1.5 })).status).toBe(400);
      const [seneca] = await h.ds.query(`SELECT id FROM persona WHERE name = 'Seneca'`);
      expect((await api('DELETE', `/api/admin/personas/${seneca.id}`)).status).toBe(409);
      expect((await api('DELETE', `/api/admin/personas/${made.body.id}`)).status).toBe(204);
      expect((await audit('persona.delete'))[0].metadata).toMatchObject({ personaId: made.body.id });
    });
  });

  describe('prompt versions', () => {
    it('creates immutable versions, diffs them, activates one and sets A/B weights', async () => {
      const id = await topicId('curiosity');
      const [v1] = await h.ds.query(`SELECT system_template, user_template FROM prompt_template WHERE topic_id = $1 AND version = 1`, [id]);
      const system = `${v1.system_template}\nAlways end with a question.`;
      const v2 = await api('POST', `/api/admin/topics/${id}/prompts`, { systemTemplate: system, userTemplate: v1.user_template, changeNote: 'End with a question' });
      expect(v2.status).toBe(201);
      expect(v2.body).toMatchObject({ version: 2, active: false, createdByEmail: 'admin@example.test', changeNote: 'End with a question' });
      // The system message is the prefix providers cache for every reader: per-reader placeholders are refused there.
      const perReader = await api('POST', `/api/admin/topics/${id}/prompts`, { systemTemplate: 'You are {{persona_name}}. Streak: {{streak}}.{{#context_note}}x{{/context_note}}', userTemplate: 'Write.' });
      expect(perReader.status).toBe(400);
      expect(JSON.stringify(perReader.body)).toMatch(/systemTemplate.*\{\{streak\}\}, \{\{context_note\}\}/);
      const v3 = await api('POST', `/api/admin/topics/${id}/prompts`, { systemTemplate: 'Short system.', userTemplate: 'Short user.' });
      expect(v3.body.version).toBe(3);

      const diff = await api('GET', `/api/admin/topics/${id}/prompts/diff?from=1&to=2`);
      expect(diff.status).toBe(200);
      expect(diff.body.system.lines.filter((l: { op: string }) => l.op !== ' ')).toEqual([
        { op: '+', text: 'Always end with a question.', oldLine: null, newLine: v1.system_template.split('\n').length + 1 },
      ]);
      expect(diff.body.user.lines.every((l: { op: string }) => l.op === ' ')).toBe(true);
      expect(diff.body.system.unified).toContain('+Always end with a question.');
      expect((await api('GET', `/api/admin/topics/${id}/prompts/diff?from=1&to=9`)).status).toBe(404);

      const activated = await api('POST', `/api/admin/prompts/${v2.body.id}/activate`);
      expect(activated.status).toBe(200);
      let active = await h.ds.query(`SELECT version, weight FROM prompt_template WHERE topic_id = $1 AND active ORDER BY version`, [id]);
      expect(active).toEqual([{ version: 2, weight: 100 }]);

      const ab = await api('PUT', `/api/admin/topics/${id}/prompts/weights`, { weights: [{ version: 2, weight: 70 }, { version: 3, weight: 30 }] });
      expect(ab.status).toBe(200);
      active = await h.ds.query(`SELECT version, weight FROM prompt_template WHERE topic_id = $1 AND active ORDER BY version`, [id]);
      expect(active).toEqual([{ version: 2, weight: 70 }, { version: 3, weight: 30 }]);
      expect((await api('PUT', `/api/admin/topics/${id}/prompts/weights`, { weights: [{ version: 2, weight: 0 }] })).status).toBe(400);
      expect((await api('PUT', `/api/admin/topics/${id}/prompts/weights`, { weights: [{ version: 99, weight: 10 }] })).status).toBe(400);

      // The stored text of a version never changes.
      const [stored] = await h.ds.query(`SELECT system_template FROM prompt_template WHERE id = $1`, [v2.body.id]);
      expect(stored.system_template).toBe(system);
      expect((await audit('prompt.create')).length).toBe(2);
      expect((await audit('prompt.weights'))[0].metadata.after).toEqual([{ version: 2, weight: 70 }, { version: 3, weight: 30 }]);
    });
  });

  describe('users', () => {
    it('searches by email fragment, suspends (ending sessions) and unsuspends', async () => {
      const u = await h.createUser({ email: 'findable.person@example.test' });
      const userCookie = await h.signIn(u);
      const found = await api('GET', '/api/admin/users?q=findable');
      expect(found.body.items.map((x: { id: string }) => x.id)).toEqual([u.id]);
      expect((await api('GET', '/api/admin/users?q=%25')).body.total).toBe(0); // wildcards are literal

      const suspended = await api('POST', `/api/admin/users/${u.id}/suspend`);
      expect(suspended.status).toBe(200);
      expect(suspended.body.user.status).toBe('suspended');
      expect((await h.request('GET', '/api/me', { cookie: userCookie })).status).toBe(401);
      expect((await api('POST', `/api/admin/users/${u.id}/unsuspend`)).body.user.status).toBe('active');
      expect((await audit('user.suspend'))[0]).toMatchObject({ actor: admin.id, user_id: u.id, metadata: { from: 'active', to: 'suspended' } });
      expect((await api('POST', `/api/admin/users/${admin.id}/suspend`)).status).toBe(409);
    });

    it('exports and erases a user, logged as admin actions', async () => {
      const { user, sub } = await subscribed('writing', { name: 'Erase Me' });
      await letter(sub);
      const exp = await api('GET', `/api/admin/users/${user.id}/export`);
      expect(exp.status).toBe(200);
      expect(exp.body.user.email).toBe(user.email);
      expect(exp.body.letters).toHaveLength(1);
      expect((await api('DELETE', `/api/admin/users/${user.id}`)).status).toBe(204);
      const [row] = await h.ds.query(`SELECT email, name, status FROM app_user WHERE id = $1`, [user.id]);
      expect(row).toEqual({ email: `deleted+${user.id}@invalid`, name: null, status: 'deleted' });
      expect((await audit('user.export'))[0].user_id).toBe(user.id);
      expect((await audit('user.delete'))[0].user_id).toBe(user.id);
      expect((await api('DELETE', `/api/admin/users/${user.id}`)).status).toBe(404);
      expect((await api('DELETE', `/api/admin/users/${admin.id}`)).status).toBe(409);
    });
  });

  describe('letters', () => {
    it('filters by status and shows the retry state; Retry now requeues a failed letter at its stage', async () => {
      const { user, sub } = await subscribed('persistence');
      const nextRetry = new Date(Date.now() + 600_000);
      const retrying = await letter(sub, { status: 'retrying', subject: null, body_text: null, body_html: null, sent_at: null, attempts: 0, error_type: 'rate_limit', last_error: 'LLM 429', next_retry_at: nextRetry });
      const failed = await letter(sub, { status: 'failed', sent_at: null, attempts: 5, error_type: 'network', last_error: 'ECONNRESET', scheduled_for: new Date(Date.now() - 3_600_000) });
      const sent = await letter(sub);

      const list = await api('GET', `/api/admin/letters?userId=${user.id}&status=failed`);
      expect(list.body.items.map((l: { id: string }) => l.id)).toEqual([failed]);
      expect(list.body.items[0]).toMatchObject({ status: 'failed', attempts: 5, errorType: 'network', lastError: 'ECONNRESET', userEmail: user.email, topic: 'persistence' });
      expect(list.body.countsByStatus).toEqual({ retrying: 1, failed: 1, sent: 1 });
      const r = (await api('GET', `/api/admin/letters?userId=${user.id}&status=retrying`)).body.items[0];
      expect(r).toMatchObject({ id: retrying, errorType: 'rate_limit', lastError: 'LLM 429' });
      expect(new Date(r.nextRetryAt).getTime()).toBe(nextRetry.getTime());
      expect((await api('GET', '/api/admin/letters?status=bogus')).status).toBe(400);

      const retry = await api('POST', `/api/admin/letters/${failed}/retry`);
      expect(retry.status).toBe(202);
      expect(retry.body).toMatchObject({ letterId: failed, stage: 'send', status: 'composed', previousStatus: 'failed' });
      const [row] = await h.ds.query(`SELECT status, error_type, last_error FROM letter WHERE id = $1`, [failed]);
      expect(row).toEqual({ status: 'composed', error_type: null, last_error: null });
      const job = await queues.queue(QueueName.LettersSend).getJob(failed);
      expect(job?.name).toBe(JobName.SendLetter);
      expect((await audit('letter.retry'))[0]).toMatchObject({ actor: admin.id, letter_id: failed, metadata: { from: 'failed', to: 'composed' } });

      const retry2 = await api('POST', `/api/admin/letters/${retrying}/retry`);
      expect(retry2.body).toMatchObject({ stage: 'compose', status: 'scheduled' });
      expect((await queues.queue(QueueName.LettersCompose).getJob(retrying))?.name).toBe(JobName.ComposeLetter);

      expect((await api('POST', `/api/admin/letters/${sent}/retry`)).status).toBe(409);
      expect((await api('POST', `/api/admin/letters/${randomUUID()}/retry`)).status).toBe(404);
    });

    it('shows one letter with its logged prompt, sanitised body, events and replies', async () => {
      const { user, sub } = await subscribed('focus');
      const id = await letter(sub, { body_html: '<p>Hello<script>alert(1)</script><img src=x onerror=alert(1)></p>' });
      await h.ds.query(`INSERT INTO letter_prompt (letter_id, messages, response) VALUES ($1, $2::jsonb, '{"subject":"x"}')`, [
        id, JSON.stringify([{ role: 'system', content: 'You are Epictetus' }, { role: 'user', content: 'Write' }]),
      ]);
      await h.ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_user_id, matched_letter_id, kind, intent, reply_text)
                        VALUES ('<r1@x>', '\\x00', 1, 'smtp', $1, $2, 'reply', 'done', 'Done! <script>x</script>')`, [user.id, id]);
      const d = await api('GET', `/api/admin/letters/${id}`);
      expect(d.status).toBe(200);
      expect(d.body.bodyHtml).toBe('<p>Hello</p>');
      expect(d.body.prompt.messages[0]).toEqual({ role: 'system', content: 'You are Epictetus' });
      expect(d.body.replies[0]).toMatchObject({ intent: 'done', text: 'Done! <script>x</script>' });
      expect(JSON.stringify(d.body)).not.toContain('raw');
      const noPrompt = await api('GET', `/api/admin/letters/${await letter(sub)}`);
      expect(noPrompt.body.prompt).toBeNull();
      expect(noPrompt.body.fallbackReason).toBeNull();
      const offline = await letter(sub);
      await h.ds.query(`UPDATE letter SET model = 'offline', fallback_reason = 'circuit_open' WHERE id = $1`, [offline]);
      const degraded = await api('GET', `/api/admin/letters/${offline}`);
      expect(degraded.body).toMatchObject({ model: 'offline', fallbackReason: 'circuit_open' });
      // The language it was written in beside the one the subscription asks for (offline: English).
      await h.ds.query(`UPDATE subscription SET language = 'de' WHERE id = $1`, [sub.id]);
      await h.ds.query(`UPDATE letter SET language = 'en' WHERE id = $1`, [offline]);
      expect((await api('GET', `/api/admin/letters/${offline}`)).body).toMatchObject({ language: 'en', subscriptionLanguage: 'de' });
    });

    it('shows a user\'s letters and replies as one thread ordered by time', async () => {
      const { user, sub } = await subscribed('resilience');
      const t0 = Date.now() - 3 * 86_400_000;
      const l1 = await letter(sub, { sent_at: new Date(t0), scheduled_for: new Date(t0) });
      const l2 = await letter(sub, { sent_at: new Date(t0 + 86_400_000), scheduled_for: new Date(t0 + 86_400_000) });
      await h.ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_user_id, matched_letter_id, kind, reply_text, received_at)
                        VALUES ('<t1@x>', '\\x00', 1, 'smtp', $1, $2, 'reply', 'first reply', $3)`, [user.id, l1, new Date(t0 + 3_600_000)]);
      const t = await api('GET', `/api/admin/users/${user.id}/thread`);
      expect(t.status).toBe(200);
      expect(t.body.items.map((i: { type: string; letter?: { id: string }; reply?: { text: string } }) => (i.type === 'letter' ? i.letter!.id : i.reply!.text))).toEqual([l1, 'first reply', l2]);
    });
  });

  describe('replies needing review', () => {
    async function flagged(sub: { id: string; user_id: string; topic_id: string }) {
      const l = await letter(sub);
      const [r] = await h.ds.query(
        `INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_user_id, matched_letter_id, matched_topic_id, kind, intent, confidence, reply_text, needs_review)
         VALUES ($1, '\\x00', 1, 'smtp', $2, $3, $4, 'reply', 'note', 0.6, 'maybe stop these?', true) RETURNING id`,
        [`<${randomUUID()}@x>`, sub.user_id, l, sub.topic_id],
      );
      return r.id as string;
    }

    it('lists flagged replies; confirming unsubscribes that topic, dismissing keeps it', async () => {
      const a = await subscribed('focus');
      const b = await subscribed('focus');
      const ra = await flagged(a.sub);
      const rb = await flagged(b.sub);
      const queue = await api('GET', '/api/admin/replies/review');
      expect(queue.body.items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([ra, rb]));

      const confirmed = await api('POST', `/api/admin/replies/${ra}/confirm-unsubscribe`);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({ needsReview: false, intent: 'unsubscribe' });
      expect((await h.ds.query(`SELECT enabled FROM subscription WHERE id = $1`, [a.sub.id]))[0].enabled).toBe(false);
      expect(await h.ds.query(`SELECT metadata FROM event_log WHERE type = 'UNSUBSCRIBE' AND subscription_id = $1`, [a.sub.id])).toEqual([{ metadata: { source: 'review' } }]);

      expect((await api('POST', `/api/admin/replies/${rb}/dismiss`)).status).toBe(200);
      expect((await h.ds.query(`SELECT enabled FROM subscription WHERE id = $1`, [b.sub.id]))[0].enabled).toBe(true);
      expect((await api('POST', `/api/admin/replies/${rb}/confirm-unsubscribe`)).status).toBe(409);
      const left = (await api('GET', '/api/admin/replies/review')).body.items.map((x: { id: string }) => x.id);
      expect(left).not.toContain(ra);
      expect(left).not.toContain(rb);
      expect(await audit('reply.confirm_unsubscribe')).toHaveLength(1);
      expect(await audit('reply.dismiss')).toHaveLength(1);
    });
  });

  describe('footer and config', () => {
    it('saves a sanitised footer that keeps a way out, and previews it with sample links', async () => {
      const current = await api('GET', '/api/admin/footer');
      expect(current.body.footer.htmlTemplate).toContain('{{unsubscribe_link}}');
      const html = '<p style="color:#555">Settings: <a href="{{login_link}}">here</a> · <a href="{{unsubscribe_link}}">Leave {{topic_name}}</a><script>alert(1)</script><img src=x onerror=alert(1)></p>';
      const text = 'Settings: {{login_link}}\nLeave: {{unsubscribe_link}}';
      const saved = await api('PUT', '/api/admin/footer', { textTemplate: text, htmlTemplate: html });
      expect(saved.status).toBe(200);
      expect(saved.body.footer.htmlTemplate).toBe('<p style="color:#555">Settings: <a href="{{login_link}}">here</a> · <a href="{{unsubscribe_link}}">Leave {{topic_name}}</a></p>');
      const rows = await h.ds.query(`SELECT active FROM email_footer ORDER BY created_at`);
      expect(rows.map((r: { active: boolean }) => r.active)).toEqual([false, true]);

      expect((await api('PUT', '/api/admin/footer', { textTemplate: 'no way out', htmlTemplate: html })).status).toBe(400);
      expect((await api('PUT', '/api/admin/footer', { textTemplate: text, htmlTemplate: '<p>no link</p>' })).status).toBe(400);

      const preview = await api('POST', '/api/admin/footer/preview', { textTemplate: text, htmlTemplate: html, topicName: 'Tea & <Biscuits>' });
      expect(preview.status).toBe(200);
      expect(preview.body.text).toMatch(/^Settings: http:\/\/localhost:3000\/login\/\S+\nLeave: http:\/\/localhost:3000\/u\/\S+$/);
      expect(preview.body.html).toContain('Leave Tea &amp; &lt;Biscuits&gt;');
      expect(preview.body.html).not.toMatch(/script|onerror/);
      expect(preview.body.warnings).toEqual([]);
      expect((await audit('footer.update'))).toHaveLength(1);
    });

    it('sets toggles with per-key validation', async () => {
      const list = await api('GET', '/api/admin/config');
      expect(list.body.config.map((c: { key: string }) => c.key)).toEqual(['llm_batch_compose', 'llm_batch_excluded_topics', 'llm_offline_fallback', 'log_prompts', 'sending_paused', 'unsubscribe_confidence']);
      const set = await api('PUT', '/api/admin/config/log_prompts', { value: true });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({ key: 'log_prompts', value: true, updatedByEmail: 'admin@example.test' });
      const [row] = await h.ds.query(`SELECT value FROM app_config WHERE key = 'log_prompts'`);
      expect(row.value).toBe(true);
      for (const [key, value] of [['log_prompts', 'yes'], ['unsubscribe_confidence', 0.2], ['llm_offline_fallback', 'on'], ['sending_paused', null]] as const) {
        expect([key, (await api('PUT', `/api/admin/config/${key}`, { value })).status]).toEqual([key, 400]);
      }
      expect((await api('PUT', '/api/admin/config/no_such_key', { value: 1 })).status).toBe(404);
      expect((await api('PUT', '/api/admin/config/unsubscribe_confidence', { value: 0.9 })).body.value).toBe(0.9);
      expect((await audit('config.set')).map((e: { metadata: { key: string } }) => e.metadata.key)).toEqual(['log_prompts', 'unsubscribe_confidence']);
    });
  });

  describe('metrics', () => {
    it('reports sends, lateness, replies and done-rates from the rows, and queue depths', async () => {
      const { user, sub } = await subscribed('discipline');
      const now = Date.now();
      const ids: string[] = [];
      for (const [i, lateSec] of [10, 20, 30, 40, 1000].entries()) {
        ids.push(await letter(sub, {
          kind: 'scheduled', local_date: `2020-01-0${i + 1}`, scheduled_for: new Date(now - 60_000 - lateSec * 1000), sent_at: new Date(now - 60_000), prompt_version: 1,
        }));
      }
      await h.ds.query(`INSERT INTO progress (subscription_id, letter_id, completed) VALUES ($1, $2, true), ($1, $3, true)`, [sub.id, ids[0], ids[1]]);
      await h.ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_user_id, matched_letter_id, kind, intent)
                        VALUES ('<m1@x>', '\\x00', 1, 'smtp', $1, $2, 'reply', 'done')`, [user.id, ids[0]]);
      await queues.enqueue(JobName.CleanupExpiredAuth, { v: 1 }, { delay: 60_000 });

      const m = await api('GET', '/api/admin/metrics?days=7');
      expect(m.status).toBe(200);
      expect(m.body.perDay).toHaveLength(7);
      const today = m.body.perDay[m.body.perDay.length - 1];
      expect(today.sent).toBeGreaterThanOrEqual(5);
      expect(today.replies).toBeGreaterThanOrEqual(1);
      const disc = m.body.doneRateByTopic.find((t: { topic: string }) => t.topic === 'discipline');
      expect(disc).toMatchObject({ sent: 5, done: 2, replied: 1, doneRate: 0.4 });
      expect(m.body.doneRateByPromptVersion.find((t: { topic: string }) => t.topic === 'discipline')).toMatchObject({ promptVersion: 1, sent: 5, done: 2 });
      expect(m.body.queues.map((q: { queue: string }) => q.queue).sort()).toEqual(['letters.compose', 'letters.send', 'llm.batch', 'mail.transactional', 'maintenance', 'replies.process']);
      expect(m.body.queues.find((q: { queue: string }) => q.queue === 'maintenance').counts.delayed).toBeGreaterThanOrEqual(1);
      // Scheduled letters only (send-now letters are not "late"): 10, 20, 30, 40, 1000 s.
      expect(m.body.lateness).toMatchObject({ letters: 5, p50Sec: 30, maxSec: 1000 });
      expect(m.body.lateness.p99Sec).toBeCloseTo(961.6, 1);
      expect((await api('GET', '/api/admin/metrics?days=0')).status).toBe(400);
    });

    it('reports LLM cost per letter, day, topic and prompt version, the reply classifier share and cache hits', async () => {
      // Its own window on a fresh database is not available here, so compare before and after.
      const before = (await api('GET', '/api/admin/metrics?days=7')).body.llmCost;
      const { user, sub } = await subscribed('discipline');
      const costs = [[0.002, 1000, 600, 2], [0.004, 1000, 400, 2], [null, 500, 0, 3]] as const; // the last: a model without a price
      for (const [usd, prompt, cached, version] of costs) {
        const id = await letter(sub, { prompt_version: version });
        await h.ds.query(`UPDATE letter SET composed_at = now(), cost_usd = $2, prompt_tokens = $3, cached_tokens = $4, completion_tokens = 100 WHERE id = $1`, [id, usd, prompt, cached]);
      }
      await h.ds.query(`UPDATE letter SET composed_at = now() - interval '30 days', cost_usd = 5, prompt_tokens = 1 WHERE id = $1`, [await letter(sub)]); // outside the window
      const analysis = (llm: object) => JSON.stringify({ classification: 'reply', llm });
      await h.ds.query(`INSERT INTO inbound_message (message_id, raw, raw_size, source, matched_user_id, kind, intent, analysis)
                        VALUES ('<c1@x>', '\\x00', 1, 'smtp', $1, 'reply', 'note', $2::jsonb), ('<c2@x>', '\\x00', 1, 'smtp', $1, 'reply', 'note', $3::jsonb),
                               ('<c3@x>', '\\x00', 1, 'smtp', $1, 'reply', 'note', $4::jsonb)`,
      [user.id, analysis({ model: 'm', costUsd: 0.001, promptTokens: 200, cachedTokens: 0 }), analysis({ error: 'LLM request failed' }), analysis({ model: 'm', costUsd: 'forged', promptTokens: 'x' })]);

      const c = (await api('GET', '/api/admin/metrics?days=7')).body.llmCost;
      expect(c.letters.letters - before.letters.letters).toBe(3);
      expect(c.letters.unpricedLetters - before.letters.unpricedLetters).toBe(1);
      expect(c.letters.usd - before.letters.usd).toBeCloseTo(0.006, 10);
      expect(c.replies.replies - before.replies.replies).toBe(2); // the failed call has no model: not a classification
      expect(c.replies.usd - before.replies.usd).toBeCloseTo(0.001, 10);
      expect(c.letters.cachedTokens - before.letters.cachedTokens).toBe(1000);
      const byV2 = c.byPromptVersion.find((p: { topic: string; promptVersion: number }) => p.topic === 'discipline' && p.promptVersion === 2);
      expect(byV2).toMatchObject({ letters: 2 });
      expect(byV2.perLetterUsd).toBeCloseTo(0.003, 10);
      expect(c.byTopic.find((t: { topic: string }) => t.topic === 'discipline').usd).toBeGreaterThanOrEqual(0.006);
      expect(c.perDay).toHaveLength(7);
      expect(c.perDay.at(-1).lettersUsd).toBeGreaterThanOrEqual(0.006);
      if (before.totalUsd === 0) {
        expect(c.replyShare).toBeCloseTo(0.001 / 0.007, 10);
        expect(c.cacheHitShare).toBeCloseTo(1000 / 2700, 10);
        expect(c.perLetterUsd).toBeCloseTo(0.003, 10);
      }
    });
  });

  describe('reply simulator', () => {
    it('stores a realistic reply to the letter (source simulator) and queues process-reply', async () => {
      const { user, sub } = await subscribed('writing');
      const l = await letter(sub, { subject: 'On small daily pages [mz:writing]' });
      const res = await api('POST', '/api/admin/simulate-reply', { letterId: l, text: 'Done — wrote a page this morning.' });
      expect(res.status).toBe(202);
      const [row] = await h.ds.query(`SELECT * FROM inbound_message WHERE id = $1`, [res.body.inboundMessageId]);
      expect(row).toMatchObject({ source: 'simulator', message_id: res.body.messageId, envelope_from: user.email, processed_at: null });
      const mail = await simpleParser(row.raw);
      expect(mail.inReplyTo).toBe(letterMessageId(l, 'reply.mentor.test'));
      expect(mail.references).toEqual(letterMessageId(l, 'reply.mentor.test'));
      expect(mail.from?.value[0].address).toBe(user.email);
      // Sent to the letter's signed Reply-To, as a mail client answers it.
      expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0].address).toBe(signedAddress('reply', l, 'reply.mentor.test', mailAddressSecret({ SESSION_SECRET: TEST_SESSION_SECRET })));
      expect(mail.subject).toBe('Re: On small daily pages [mz:writing]');
      expect(mail.text).toMatch(/^Done — wrote a page this morning\.\n\nOn .+ wrote:\n> A body of text\.\n> Second line\./);
      // The quoted footer carries the letter's real unsubscribe link, as a mail client would quote it.
      expect(mail.text).toContain(`http://localhost:3000/u/${signUnsubscribeToken(sub.id, TEST_SESSION_SECRET)}`);
      const job = await queues.queue(QueueName.RepliesProcess).getJob(res.body.inboundMessageId);
      expect(job?.name).toBe(JobName.ProcessReply);
      expect(job?.data).toEqual({ v: 1, inboundMessageId: res.body.inboundMessageId });
      expect((await audit('reply.simulate')).pop()).toMatchObject({ letter_id: l, metadata: { inboundMessageId: res.body.inboundMessageId, fromSubscriber: true } });

      const unwritten = await letter(sub, { status: 'scheduled', body_text: null, body_html: null, subject: null, sent_at: null });
      expect((await api('POST', '/api/admin/simulate-reply', { letterId: unwritten, text: 'hi' })).status).toBe(409);
      expect((await api('POST', '/api/admin/simulate-reply', { letterId: l, text: '' })).status).toBe(400);
    });
  });

  describe('suppressions', () => {
    it('lists suppressed addresses with reason, date and the letter or message behind them; lifting is audited and mail may flow again', async () => {
      const { user, sub } = await subscribed('focus', { email: 'bounced@example.test' });
      const letterId = await letter(sub);
      const inboundId = '00000000-0000-4000-8000-000000000123';
      await h.ds.query(`INSERT INTO suppression (address, reason, detail) VALUES ('bounced@example.test', 'hard_bounce', 'bounce 5.1.1 at the bounce address')`);
      await h.ds.query(`INSERT INTO event_log (type, user_id, letter_id, metadata) VALUES ('SUPPRESSED', $1, $2, $3::jsonb)`, [user.id, letterId, JSON.stringify({ reason: 'hard_bounce', inbound_message_id: inboundId })]);
      await h.ds.query(`INSERT INTO suppression (address, reason) VALUES ('complained@example.test', 'complaint'), ('stopped@example.test', 'manual')`);

      const all = await api('GET', '/api/admin/suppressions');
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(3);
      const bounced = all.body.items.find((s: { address: string }) => s.address === 'bounced@example.test');
      expect(bounced).toMatchObject({ reason: 'hard_bounce', detail: 'bounce 5.1.1 at the bounce address', userId: user.id, letterId, inboundMessageId: inboundId });
      expect((await api('GET', '/api/admin/suppressions?reason=complaint')).body.items.map((s: { address: string }) => s.address)).toEqual(['complained@example.test']);
      expect((await api('GET', '/api/admin/suppressions?q=BOUNCED')).body.items).toHaveLength(1);
      expect((await api('GET', '/api/admin/suppressions?q=%25')).body.items).toHaveLength(0); // a wildcard is a literal
      expect((await api('GET', '/api/admin/suppressions?reason=spam')).status).toBe(400);

      // The subscriber sees it on their settings (/api/me), until an admin lifts it.
      const own = await h.signIn(user);
      const meBefore = await (await h.request('GET', '/api/me', { cookie: own })).json();
      expect(meBefore.suppression).toMatchObject({ reason: 'hard_bounce' });

      expect((await api('DELETE', `/api/admin/suppressions/${bounced.id}`)).status).toBe(204);
      expect((await api('DELETE', `/api/admin/suppressions/${bounced.id}`)).status).toBe(404);
      expect(await h.ds.query(`SELECT 1 FROM suppression WHERE address = 'bounced@example.test'`)).toEqual([]);
      const [entry] = await audit('suppression.lift');
      expect(entry).toMatchObject({ actor: admin.id, user_id: user.id, metadata: { suppressionId: bounced.id, reason: 'hard_bounce' } });
      expect(await h.ds.query(`SELECT actor FROM event_log WHERE type = 'SUPPRESSION_LIFTED' AND user_id = $1`, [user.id])).toEqual([{ actor: admin.id }]);
      expect((await (await h.request('GET', '/api/me', { cookie: own })).json()).suppression).toBeNull();

      // Not for subscribers, nor for a settings-only session of an admin.
      expect((await h.request('GET', '/api/admin/suppressions', { cookie: own })).status).toBe(403);
      const others = (await api('GET', '/api/admin/suppressions')).body.items;
      expect((await h.request('DELETE', `/api/admin/suppressions/${others[0].id}`, { cookie: own })).status).toBe(403);
      expect((await h.request('DELETE', `/api/admin/suppressions/${others[0].id}`, { cookie: await h.signIn(admin, 'footer_login') })).status).toBe(403);
    });

    it('names the letter behind the current suppression only — never one from an earlier, lifted suppression', async () => {
      const { user, sub } = await subscribed('focus', { email: 'twice@example.test' });
      const firstLetter = await letter(sub);
      // First suppression (a bounce of firstLetter), written as the mailer writes it: row and event in one transaction.
      await h.ds.transaction(async (m) => {
        await m.query(`INSERT INTO suppression (address, reason, detail) VALUES ('twice@example.test', 'hard_bounce', '550 5.1.1')`);
        await m.query(`INSERT INTO event_log (type, user_id, letter_id, metadata) VALUES ('SUPPRESSED', $1, $2, '{"reason":"hard_bounce"}')`, [user.id, firstLetter]);
      });
      const first = (await api('GET', '/api/admin/suppressions?q=twice@')).body.items[0];
      expect(first).toMatchObject({ reason: 'hard_bounce', letterId: firstLetter });
      expect((await api('DELETE', `/api/admin/suppressions/${first.id}`)).status).toBe(204);
      // Suppressed again later with no letter behind it (a complaint about mail we cannot tie to a letter).
      await h.ds.query(`INSERT INTO suppression (address, reason) VALUES ('twice@example.test', 'complaint')`);
      const again = (await api('GET', '/api/admin/suppressions?q=twice@')).body.items;
      expect(again).toHaveLength(1);
      expect(again[0]).toMatchObject({ reason: 'complaint', letterId: null, inboundMessageId: null });
    });
  });

  describe('audit log', () => {
    it('lists every admin action with who did it, newest first, filterable by action', async () => {
      const all = await api('GET', '/api/admin/audit?pageSize=100');
      expect(all.status).toBe(200);
      expect(all.body.total).toBeGreaterThan(10);
      expect(all.body.items.every((e: { actorEmail: string }) => e.actorEmail === 'admin@example.test')).toBe(true);
      const times = all.body.items.map((e: { at: string }) => new Date(e.at).getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const only = await api('GET', '/api/admin/audit?action=prompt.activate');
      expect(only.body.items).toHaveLength(1);
      expect(only.body.items[0]).toMatchObject({ action: 'prompt.activate', actorId: admin.id });
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM event_log WHERE type = 'ADMIN_ACTION'`);
      expect(all.body.total).toBe(n);
    });

    it('filters by the operator CLI as actor (its actions have no user id)', async () => {
      await h.ds.query(`INSERT INTO event_log (type, actor, metadata) VALUES ('ADMIN_ACTION', 'ops-cli', '{"action":"user.demote"}')`);
      const cli = await api('GET', '/api/admin/audit?actor=ops-cli');
      expect(cli.status).toBe(200);
      expect(cli.body.items).toEqual([expect.objectContaining({ actorId: 'ops-cli', actorEmail: null, action: 'user.demote' })]);
      expect((await api('GET', '/api/admin/audit?actor=someone')).status).toBe(400);
    });
  });
});
