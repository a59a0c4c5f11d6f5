/**
 * Batch composing (docs/architecture.md §7) in-process against real Postgres and Redis and the
 * fake OpenAI-compatible server's /v1/files and /v1/batches, through the real `openai` SDK: a
 * letter far from its slot waits for the batch window, is answered at the batch price and
 * validated like a synchronous answer; an expired, failed or partially failed batch, a late
 * answer or an invalid one falls back to the synchronous path before the slot.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { JobName, QueueName } from '@mz/contracts';
import { createDataSource, LetterRepository, seedDatabase } from '@mz/db';
import { QueueService, type RunningService } from '@mz/platform';
import { FakeLlmServer } from '../../../../test/fakes/fake-llm-server';
import { eventually } from '../../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { ComposeLetterRepository } from '../compose-letter.repository';
import { startLlmComposer } from '../testing/llm-composer';
import { LlmBatchService } from './llm-batch.service';

const HOUR = 3_600_000;
const PRICE = { input: 0.4, cached_input: 0.1, output: 1.6 };

let env: TestEnv;
let ds: DataSource;
let llm: FakeLlmServer;
let svc: RunningService;
let queues: QueueService;
let window: LlmBatchService;
let topicId: string;
let day = 0;

beforeAll(async () => {
  env = await createTestEnv();
  ds = createDataSource({ url: env.databaseUrl, poolMax: 3 });
  await ds.initialize();
  await seedDatabase(ds);
  [{ id: topicId }] = await ds.query(`SELECT id FROM topic WHERE code = 'resilience'`);
  llm = await FakeLlmServer.start();
  svc = await startLlmComposer(env.vars, llm.url, {
    LLM_TIMEOUT_MS: '2000', LLM_CIRCUIT_FAILURES: '1000',
    LLM_PRICES: JSON.stringify({ 'test-model': PRICE }),
    LLM_BATCH_MARGIN: '1h',
    // The tests run the window themselves.
    LLM_BATCH_WINDOW_MS: String(24 * HOUR),
  });
  queues = svc.app.get(QueueService);
  window = svc.app.get(LlmBatchService);
  svc.app.get(ComposeLetterRepository).settingsCache.ttlMs = 0;
});

afterAll(async () => {
  await svc?.close();
  await llm?.close();
  await ds?.destroy();
  await env?.dispose();
});

beforeEach(async () => {
  llm.reset();
  await ds.query(`UPDATE app_config SET value = 'true' WHERE key = 'llm_batch_compose'`);
  await ds.query(`UPDATE app_config SET value = 'false' WHERE key = 'llm_offline_fallback'`);
});

/** A scheduled letter of a fresh subscriber (so no two letters share a reader's history). */
async function insertLetter(slotIn = 5 * HOUR): Promise<string> {
  const [{ id: userId }] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Ada') RETURNING id`, [`r${randomUUID()}@example.com`]);
  const [{ id: subscriptionId }] = await ds.query(`INSERT INTO subscription (user_id, topic_id) VALUES ($1, $2) RETURNING id`, [userId, topicId]);
  const id = randomUUID();
  await ds.query(
    `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id)
     VALUES ($1, $2, $3, $4, 'scheduled', 'scheduled', $5, $6, $7)`,
    [id, subscriptionId, userId, topicId, new Date(Date.now() + slotIn), new Date(Date.UTC(2031, 0, 1 + day++)).toISOString().slice(0, 10), `<mz.${id}@reply.test>`],
  );
  return id;
}

const compose = (id: string) => queues.ensureJob(JobName.ComposeLetter, { v: 1, letterId: id }, id);
const row = async (id: string) => (await ds.query(`SELECT * FROM letter WHERE id = $1`, [id]))[0];
const item = async (id: string) => (await ds.query(`SELECT * FROM llm_batch_item WHERE letter_id = $1`, [id]))[0];
const jobState = async (queue: QueueName, id: string) => (await queues.queue(queue).getJob(id))?.getState();

function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  return eventually(fn, what, 15_000, 25);
}

/** Letters handed to the composer until each waits for the batch window (row back to scheduled, job parked). */
async function waitingForBatch(...ids: string[]): Promise<void> {
  for (const id of ids) await compose(id);
  for (const id of ids) {
    await waitFor(`${id} waiting for its batch`, async () => (await item(id))?.status === 'pending' && (await row(id)).status === 'scheduled' && (await jobState(QueueName.LettersCompose, id)) === 'delayed');
  }
}

const composed = (id: string) => waitFor(`${id} composed`, async () => { const r = await row(id); return r.status === 'composed' ? r : null; });

/** List price of a letter's stored usage, in USD. */
const listCost = (r: { prompt_tokens: number; cached_tokens: number; completion_tokens: number }) =>
  ((r.prompt_tokens - r.cached_tokens) * PRICE.input + r.cached_tokens * PRICE.cached_input + r.completion_tokens * PRICE.output) / 1e6;

describe('batch composing', () => {
  it('letters far from their slot wait for one batch, are answered at the batch price, validated, stored and queued for sending', async () => {
    const a = await insertLetter();
    const b = await insertLetter();
    await waitingForBatch(a, b);
    const waiting = await row(a);
    expect(waiting.next_retry_at).toEqual(new Date(waiting.scheduled_for.getTime() - HOUR));
    expect(waiting.lease_until).toBeNull();
    expect(llm.requests).toHaveLength(0);
    // The sweeper leaves a waiting letter alone until its deadline, then doubts its job like any other.
    const letters = svc.app.get(LetterRepository);
    const zero = '00000000-0000-0000-0000-000000000000';
    expect((await letters.stalePage('scheduled', new Date(Date.now() + 60_000), zero, 10_000)).map((r) => r.id)).not.toContain(a);
    expect((await letters.stalePage('scheduled', new Date(waiting.next_retry_at.getTime() + 1), zero, 10_000)).map((r) => r.id)).toContain(a);

    // The window: one batch with both requests, each the exact structured-output body of a synchronous call.
    expect(await window.run()).toMatchObject({ submitted: 2 });
    expect(llm.batches.size).toBe(1);
    const [batch] = [...llm.batches.values()];
    expect(batch.completionWindow).toBe('24h');
    expect(batch.lines.map((l) => l.custom_id).sort()).toEqual([a, b].sort());
    const line = batch.lines.find((l) => l.custom_id === a)!;
    expect(line).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(line.body).toMatchObject({ model: 'test-model', response_format: { type: 'json_schema', json_schema: { name: 'letter', strict: true } } });
    expect(line.body.messages[0].role).toBe('system');
    expect(line.body.max_completion_tokens).toBeGreaterThan(0);
    expect((await item(a)).status).toBe('submitted');

    // The next window collects the answers and wakes both compose jobs.
    expect(await window.run()).toMatchObject({ collected: 2, driven: 2, submitted: 0 });
    for (const id of [a, b]) {
      const r = await composed(id);
      expect(r.model).toBe('test-model');
      expect(Number(r.cost_usd)).toBeCloseTo(listCost(r) * 0.5, 8);
      expect(r.prompt_tokens).toBeGreaterThan(0);
      expect((await item(id)).status).toBe('used');
      await waitFor(`${id} send job`, async () => (await jobState(QueueName.LettersSend, id)) === 'delayed');
    }
    expect(llm.requests).toHaveLength(0);

    // A repeated window changes nothing: no second batch, no second body.
    await window.run();
    expect(llm.batches.size).toBe(1);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM event_log WHERE letter_id = $1 AND type = 'LETTER_COMPOSED'`, [a]);
    expect(n).toBe(1);
  });

  it.each([
    ['expired with one answer in', { kind: 'expired' as const, answered: 1 }, 1],
    ['partially failed (error file)', { kind: 'partial' as const, failIndexes: [1] }, 1],
    ['failed as a whole', { kind: 'failed' as const }, 0],
  ])('a batch %s: answered letters at the batch price, the rest composed synchronously before their slot', async (_name, outcome, fromBatch) => {
    llm.scriptBatch(outcome);
    const a = await insertLetter();
    const b = await insertLetter();
    await waitingForBatch(a, b);
    await window.run();
    const [batch] = [...llm.batches.values()];
    const order = batch.lines.map((l) => l.custom_id);
    await window.run();
    const rows = [];
    for (const id of order) rows.push(await composed(id));
    rows.forEach((r, i) => {
      const viaBatch = i < fromBatch;
      expect(Number(r.cost_usd)).toBeCloseTo(listCost(r) * (viaBatch ? 0.5 : 1), 8);
      expect(r.scheduled_for.getTime()).toBeGreaterThan(Date.now());
    });
    expect(llm.requests).toHaveLength(2 - fromBatch);
    for (const id of order.slice(fromBatch)) expect((await item(id)).status).toBe('failed');
  });

  it('no answer by the deadline: composed synchronously, and the late answer is ignored', async () => {
    llm.scriptBatch({ kind: 'completed', pendingPolls: 1 });
    const id = await insertLetter();
    await waitingForBatch(id);
    await window.run(); // submitted
    await window.run(); // still in progress
    expect((await item(id)).status).toBe('submitted');
    // The slot comes near (as if hours passed): the parked job runs at its deadline.
    await ds.query(`UPDATE letter SET scheduled_for = now() + interval '30 minutes' WHERE id = $1`, [id]);
    await ds.query(`UPDATE llm_batch_item SET deadline = now() - interval '30 minutes' WHERE letter_id = $1`, [id]);
    await compose(id); // promotes the delayed job, as its delay running out would
    const r = await composed(id);
    expect(llm.requests).toHaveLength(1);
    expect(Number(r.cost_usd)).toBeCloseTo(listCost(r), 8);
    expect((await item(id)).status).toBe('abandoned');
    // The batch completes later: its answer changes nothing.
    await window.run();
    expect((await item(id)).status).toBe('abandoned');
    expect((await row(id)).body_text).toBe(r.body_text);
  });

  it('an invalid batch answer is treated like an invalid synchronous one: one repair request, then stored', async () => {
    llm.scriptBatch({ kind: 'completed', content: () => '{"subject": "Cut off mid-sen' });
    const id = await insertLetter();
    await waitingForBatch(id);
    await window.run();
    await window.run();
    const r = await composed(id);
    expect(llm.requests).toHaveLength(1);
    const repair = llm.requests[0].body.messages;
    expect(repair.at(-2)).toMatchObject({ role: 'assistant', content: '{"subject": "Cut off mid-sen' });
    expect(repair.at(-1).content).toContain('could not be used');
    expect(r.prompt_tokens).toBeGreaterThan(llm.requests[0].body.messages.length);
  });

  it('unreadable result lines and unknown custom_ids are skipped; the readable answers count', async () => {
    llm.scriptBatch({ kind: 'invalid_lines' });
    const id = await insertLetter();
    await waitingForBatch(id);
    await window.run();
    await window.run();
    await composed(id);
    expect(llm.requests).toHaveLength(0);
  });

  it('toggle off: composed synchronously at once, and the window makes no batch calls', async () => {
    await ds.query(`UPDATE app_config SET value = 'false' WHERE key = 'llm_batch_compose'`);
    const id = await insertLetter();
    await compose(id);
    await composed(id);
    expect(llm.requests).toHaveLength(1);
    expect(await item(id)).toBeUndefined();
    await window.run();
    expect(llm.files.size).toBe(0);
    expect(llm.batches.size).toBe(0);
  });

  it('a letter inside the margin, or of a topic in llm_batch_excluded_topics, is composed synchronously even with the toggle on', async () => {
    const near = await insertLetter(30 * 60_000);
    await compose(near);
    await composed(near);
    expect(llm.requests).toHaveLength(1);
    expect(await item(near)).toBeUndefined();

    await ds.query(`UPDATE app_config SET value = '["resilience"]'::jsonb WHERE key = 'llm_batch_excluded_topics'`);
    try {
      const excluded = await insertLetter();
      await compose(excluded);
      await composed(excluded);
      expect(llm.requests).toHaveLength(2);
      expect(await item(excluded)).toBeUndefined();
    } finally {
      await ds.query(`UPDATE app_config SET value = '[]'::jsonb WHERE key = 'llm_batch_excluded_topics'`);
    }
  });
});
