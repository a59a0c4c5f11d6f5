/**
 * The composer against hostile LLM answers (through the fake OpenAI-compatible server and the real
 * `openai` SDK): NULs as raw bytes and as JSON escapes, broken and truncated JSON, wrong types,
 * prose and fences around the object, empty answers, megabyte-long text. Every letter ends
 * composed (cleaned, or on the repair/retry) or failed with its class and a reason — never stuck
 * in `composing`. Seeded (FUZZ_SEED replays), bounded in count (FUZZ_RUNS) and in time.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { JobName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { QueueService, type RunningService } from '@mz/platform';
import { defaultLlmResponder, FakeLlmServer, type CapturedRequest } from '../../../test/fakes/fake-llm-server';
import { FUZZ_SEED, fuzz, fuzzParams } from '../../../test/support/fuzz';
import { eventually } from '../../../test/support/services';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { ComposeLetterRepository } from './compose-letter.repository';
import { startLlmComposer } from './testing/llm-composer';

jest.setTimeout(180_000);

const TERMINAL = ['composed', 'failed'];

/** A valid draft from the fake's own responder, as an object to spoil. */
const validDraft = (req: CapturedRequest) => JSON.parse(defaultLlmResponder(req)) as Record<string, unknown>;

type Answer = (req: CapturedRequest) => string;
const answer = (): fc.Arbitrary<Answer> =>
  fc.oneof(
    // NUL as a JSON escape inside every string: valid JSON that decodes to NUL.
    fc.constant<Answer>((req) => JSON.stringify(validDraft(req), (_k, v) => (typeof v === 'string' ? `${v.slice(0, 5)}\u0000${v.slice(5)}\u0000` : v))),
    // A raw NUL byte in the content (outside and inside the object).
    fc.constant<Answer>((req) => `\u0000${defaultLlmResponder(req).replace('"subject":"', '"subject":"\u0000')}`),
    fc.double({ min: 0.1, max: 0.9, noNaN: true }).map<Answer>((at) => (req) => { const s = defaultLlmResponder(req); return s.slice(0, Math.floor(s.length * at)); }),
    fc.constantFrom<Answer>(() => '', () => 'null', () => '[]', () => '{"subject": 5}', () => 'I cannot help with that.', () => '```json\n{"subject":\n```'),
    fc.constant<Answer>((req) => `Here is your letter:\n\`\`\`json\n${defaultLlmResponder(req)}\n\`\`\`\nHope it helps\u0000!`),
    fc.integer({ min: 20_000, max: 1_000_000 }).map<Answer>((n) => (req) => JSON.stringify({ ...validDraft(req), body: 'word '.repeat(Math.ceil(n / 5)) })),
    fc.constant<Answer>((req) => JSON.stringify({ ...validDraft(req), themes: ['\u0000', '\u0007\u001b'], tone: '\u0000\u0000\u0000' })),
  );

describe(`composer fuzz: hostile LLM answers (FUZZ_SEED=${FUZZ_SEED})`, () => {
  let env: TestEnv;
  let ds: DataSource;
  let llm: FakeLlmServer;
  let svc: RunningService;
  let queues: QueueService;
  let sub: { id: string; user_id: string; topic_id: string };
  let day = 0;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 3 });
    await ds.initialize();
    await seedDatabase(ds);
    const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ('fuzz@example.com', 'Ada') RETURNING id`);
    [sub] = await ds.query(
      `INSERT INTO subscription (user_id, topic_id, timezone, send_time_local) SELECT $1, id, 'Europe/Paris', '07:30' FROM topic WHERE code = 'resilience' RETURNING id, user_id, topic_id`,
      [user.id],
    );
    // The transcript and raw answer are stored too: the path a NUL would take to a jsonb column.
    await ds.query(`UPDATE app_config SET value = 'true' WHERE key = 'log_prompts'`);
    llm = await FakeLlmServer.start();
    svc = await startLlmComposer(env.vars, llm.url, { LLM_TIMEOUT_MS: '5000', COMPOSER_CONCURRENCY: '1' });
    queues = svc.app.get(QueueService);
    svc.app.get(ComposeLetterRepository).settingsCache.ttlMs = 0;
  });

  afterAll(async () => {
    await svc?.close();
    await llm?.close();
    await ds?.destroy();
    await env?.dispose();
  });

  async function letterWith(first: Answer, repair: Answer): Promise<{ status: string; error_type: string | null; last_error: string | null; subject: string | null; body_text: string | null }> {
    const id = randomUUID();
    const localDate = new Date(Date.UTC(2030, 0, 1 + day++)).toISOString().slice(0, 10);
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id)
       VALUES ($1, $2, $3, $4, 'scheduled', 'scheduled', now() + interval '1 hour', $5, $6)`,
      [id, sub.id, sub.user_id, sub.topic_id, localDate, `<mz.${id}@reply.test>`],
    );
    llm.reset();
    llm.script({ kind: 'ok', content: first }, { kind: 'ok', content: repair });
    await queues.ensureJob(JobName.ComposeLetter, { v: 1, letterId: id }, id);
    // Terminal within seconds: a retry (processing class, scaled backoff) gets the fake's valid default.
    return eventually(async () => {
      const [r] = await ds.query(`SELECT status, error_type, last_error, subject, body_text FROM letter WHERE id = $1`, [id]);
      return TERMINAL.includes(r.status) ? r : null;
    }, `letter ${id} composed or failed`, 30_000, 25);
  }

  it('an answer whose every field holds NUL (as a JSON escape) is cleaned and composed at once', async () => {
    const nul = (req: CapturedRequest) => JSON.stringify(validDraft(req), (_k, v) => (typeof v === 'string' ? `\u0000${v}\u0000` : v));
    const r = await letterWith(nul, nul);
    expect(r).toMatchObject({ status: 'composed', error_type: null });
    expect(`${r.subject}${r.body_text}`).not.toContain('\u0000');
    expect(llm.requests).toHaveLength(1);
  });

  it('generated hostile answers: each letter ends composed or failed with its class, never stuck', async () => {
    await fuzz('composer answers', fc.tuple(answer(), answer()), async ([first, repair]) => {
      const r = await letterWith(first, repair);
      if (r.status === 'failed' && !(r.error_type && r.last_error)) throw new Error(`failed without class or reason: ${JSON.stringify(r)}`);
      if (r.status === 'composed' && `${r.subject}${r.body_text}`.includes('\u0000')) throw new Error('a NUL was stored');
      if (r.last_error && /database/.test(r.last_error)) throw new Error(`a database error: ${r.last_error}`);
    }, fuzzParams(12, 15_000));
  });
});
