/**
 * The fakes are only worth something if the real clients see them as the real thing: these tests
 * drive them with the `openai` SDK and a pooled nodemailer transport, exactly as the composer and
 * mailer do, and check the behaviours our failure classifier depends on (status codes, Retry-After,
 * timeouts, SMTP reply codes).
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, BadRequestError, InternalServerError, NotFoundError, toFile } from 'openai';
import { createTransport, type Transporter } from 'nodemailer';
import { LetterDraft, ReplyAnalysis } from '@mz/contracts';
import { FakeLlmServer, PROMPT_CACHE_MIN_TOKENS, PROMPT_CACHE_STEP_TOKENS } from './fake-llm-server';
import { TestSmtpServer } from './test-smtp-server';

const letterFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'letter_draft', strict: true, schema: { type: 'object' } },
};

function letterRequest(topic: string, persona = 'Seneca') {
  return {
    model: 'test-model',
    response_format: letterFormat,
    messages: [
      { role: 'system' as const, content: `You write daily mentoring letters.\nPersona: ${persona}\nReturn JSON only.` },
      { role: 'user' as const, content: `Topic: ${topic}\nStreak: 3 days\nRecent themes: none` },
    ],
  };
}

/**
 * Jest runs tests in a vm realm: undici's AbortError is a main-realm DOMException, which is not an
 * `Error` there, so the SDK's castToError flattens it to Error('{}') and a timeout looks like a
 * plain connection error (in plain Node the SDK reports APIConnectionTimeoutError). Re-throwing it
 * as this realm's AbortError lets the SDK behave here as it does in production.
 */
const realmSafeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  try {
    return await fetch(input, init);
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'AbortError') throw Object.assign(new Error((err as Error).message), { name: 'AbortError' });
    throw err;
  }
};

function openai(baseURL: string, opts: { maxRetries?: number; timeout?: number } = {}): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'test', maxRetries: 2, fetch: realmSafeFetch, ...opts });
}

async function elapsed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = Date.now();
  const result = await fn();
  return { ms: Date.now() - start, result };
}

describe('FakeLlmServer through the openai SDK', () => {
  let llm: FakeLlmServer;
  let client: OpenAI;

  beforeAll(async () => {
    llm = await FakeLlmServer.start();
    client = openai(llm.url);
  });
  afterAll(() => llm.close());
  beforeEach(() => {
    llm.reset();
    llm.setLatency(0);
  });

  it('answers with a valid LetterDraft derived from the prompt, and captures the request', async () => {
    const completion = await client.chat.completions.create(letterRequest('learning Rust'));

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('test-model');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const letter = LetterDraft.parse(JSON.parse(completion.choices[0].message.content ?? ''));
    expect(letter.subject).toContain('Learning Rust');
    expect(letter.body).toContain('learning Rust');
    expect(letter.body).toContain('Seneca');
    expect(letter.themes).toContain('learning Rust');

    expect(llm.requests).toHaveLength(1);
    const [req] = llm.requests;
    expect(req.body.model).toBe('test-model');
    expect(req.body.response_format.json_schema.name).toBe('letter_draft');
    expect(req.body.messages[1].content).toContain('Topic: learning Rust');
    expect(req.headers.authorization).toBe('Bearer test');
  });

  it('is deterministic for one prompt and differs between prompts', async () => {
    const content = async (topic: string) => (await client.chat.completions.create(letterRequest(topic))).choices[0].message.content;
    const a1 = await content('watercolour painting');
    const a2 = await content('watercolour painting');
    const b = await content('marathon training');
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(LetterDraft.parse(JSON.parse(b ?? '')).variation_tags).not.toEqual(LetterDraft.parse(JSON.parse(a1 ?? '')).variation_tags);
  });

  it('answers reply_analysis requests with a valid ReplyAnalysis', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-model',
      response_format: { type: 'json_schema', json_schema: { name: 'reply_analysis', schema: { type: 'object' } } },
      messages: [
        { role: 'system', content: 'Classify the reply.' },
        { role: 'user', content: [{ type: 'text', text: 'I practised scales for twenty minutes today.' }] },
      ],
    });
    const analysis = ReplyAnalysis.parse(JSON.parse(completion.choices[0].message.content ?? ''));
    expect(analysis).toMatchObject({ intent: 'note', confidence: 0.6, pause_days: null, pause_until: null });
    expect(analysis.note).toContain('scales for twenty minutes');
  });

  it('simulates a prompt cache: only prompts of 1,024+ tokens, hits on the longest shared prefix in 128-token steps', async () => {
    const client = new OpenAI({ baseURL: llm.url, apiKey: 'k', maxRetries: 0 });
    const stable = 'You are a patient mentor. '.repeat(200); // ≈ 1,300 tokens, the same for everyone
    const ask = (user: string, system = stable) =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] });
    const cached = (r: OpenAI.Chat.Completions.ChatCompletion) => r.usage?.prompt_tokens_details?.cached_tokens;
    expect(cached(await ask('reader one'))).toBe(0); // first time: nothing cached yet
    const second = await ask('reader two, a different day');
    expect(cached(second)).toBeGreaterThanOrEqual(PROMPT_CACHE_MIN_TOKENS);
    expect((cached(second)! - PROMPT_CACHE_MIN_TOKENS) % PROMPT_CACHE_STEP_TOKENS).toBe(0);
    expect(cached(second)).toBeLessThan(second.usage!.prompt_tokens);
    // a different stable part shares nothing; short prompts are never cached
    expect(cached(await ask('reader two', `Another persona. ${stable}`))).toBe(0);
    expect(cached(await ask('hi', 'short'))).toBe(0);
    expect(cached(await ask('hi', 'short'))).toBe(0);
    // a scripted step reports what it is told
    llm.script({ kind: 'ok', usage: { prompt_tokens: 2000, completion_tokens: 10, cached_tokens: 1152 } });
    expect(cached(await ask('x'))).toBe(1152);
  });

  it('serves scripted content, usage and a custom default responder', async () => {
    llm.script({ kind: 'ok', content: (req) => `echo:${req.body.messages.length}`, usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const scripted = await client.chat.completions.create(letterRequest('chess'));
    expect(scripted.choices[0].message.content).toBe('echo:2');
    expect(scripted.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });

    const custom = await FakeLlmServer.start({ defaultResponder: () => '{"custom":true}' });
    try {
      const c = openai(custom.url, { maxRetries: 0 });
      expect((await c.chat.completions.create(letterRequest('chess'))).choices[0].message.content).toBe('{"custom":true}');
      expect((await c.models.list()).data.map((m) => m.id)).toEqual(['fake-model']);
    } finally {
      await custom.close();
    }
  });

  it('429 with Retry-After: the SDK waits as told, retries and succeeds', async () => {
    llm.script({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    const completion = await client.chat.completions.create(letterRequest('chess'));
    LetterDraft.parse(JSON.parse(completion.choices[0].message.content ?? ''));
    expect(llm.requests).toHaveLength(2);
    const gap = llm.requests[1].at - llm.requests[0].at;
    // The SDK's own first backoff is ≤ 0.5 s, so ≥ 0.95 s shows Retry-After was honoured.
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2_500);
  });

  it('429 surfaces status and Retry-After to the caller once retries run out', async () => {
    llm.script({ kind: 'status', status: 429, retryAfterSeconds: 30 });
    const err = await client.chat.completions.create(letterRequest('chess'), { maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).status).toBe(429);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('30');
  });

  it('500: the SDK retries and succeeds; persistent 500 ends in InternalServerError', async () => {
    llm.script({ kind: 'status', status: 500 });
    await client.chat.completions.create(letterRequest('chess'));
    expect(llm.requests).toHaveLength(2);

    llm.reset();
    llm.script({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    const err = await client.chat.completions.create(letterRequest('chess'), { maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
    expect(llm.requests).toHaveLength(2);
  });

  it('400 is not retried and carries the scripted body', async () => {
    llm.script({ kind: 'status', status: 400, body: { error: { message: 'context too long', type: 'invalid_request_error', param: null, code: 'context_length_exceeded' } } });
    const err = await client.chat.completions.create(letterRequest('chess')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('context_length_exceeded');
    expect(llm.requests).toHaveLength(1);
  });

  it('hang: the SDK times out (APIConnectionTimeoutError); with a retry left it recovers', async () => {
    llm.script({ kind: 'hang' });
    const { ms, result: err } = await elapsed(() =>
      client.chat.completions.create(letterRequest('chess'), { timeout: 300, maxRetries: 0 }).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2_000);

    llm.reset();
    llm.script({ kind: 'hang' });
    const ok = await client.chat.completions.create(letterRequest('chess'), { timeout: 300, maxRetries: 1 });
    LetterDraft.parse(JSON.parse(ok.choices[0].message.content ?? ''));
    expect(llm.requests).toHaveLength(2);
  });

  it('reset: the socket dies mid-request (APIConnectionError); with a retry left it recovers', async () => {
    llm.script({ kind: 'reset' });
    const err = await client.chat.completions.create(letterRequest('chess'), { maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);

    llm.reset();
    llm.script({ kind: 'reset' });
    await client.chat.completions.create(letterRequest('chess'), { maxRetries: 1 });
    expect(llm.requests).toHaveLength(2);
  });

  it('malformed: a 200 whose content is not valid JSON', async () => {
    llm.script({ kind: 'malformed' });
    const completion = await client.chat.completions.create(letterRequest('chess'));
    const content = completion.choices[0].message.content ?? '';
    expect(content.length).toBeGreaterThan(0);
    expect(() => JSON.parse(content)).toThrow(SyntaxError);
    expect(llm.requests).toHaveLength(1);
  });

  it('applies latency per request without serialising concurrent requests', async () => {
    llm.setLatency(300);
    const { ms, result } = await elapsed(() =>
      Promise.all(Array.from({ length: 20 }, (_, i) => elapsed(() => client.chat.completions.create(letterRequest(`topic ${i}`))))),
    );
    expect(result).toHaveLength(20);
    for (const r of result) expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_500); // serial would be 6 000 ms
    expect(llm.requests).toHaveLength(20);
  });

  describe('Batch API (/v1/files, /v1/batches)', () => {
    const upload = async (lines: { id: string; topic: string }[]) => {
      const jsonl = lines.map((l) => JSON.stringify({ custom_id: l.id, method: 'POST', url: '/v1/chat/completions', body: letterRequest(l.topic) })).join('\n');
      return client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
    };
    const results = async (fileId: string | null | undefined) =>
      fileId ? (await (await client.files.content(fileId)).text()).trim().split('\n').map((l) => JSON.parse(l)) : [];

    it('upload (multipart), create, retrieve until done, download: one result per custom_id with usage, a valid letter each', async () => {
      llm.scriptBatch({ kind: 'completed', pendingPolls: 1 });
      const file = await upload([{ id: 'a', topic: 'chess' }, { id: 'b', topic: 'Rust' }]);
      expect(file).toMatchObject({ object: 'file', purpose: 'batch' });
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { k: 'v' } });
      expect(created.status).toBe('validating');
      expect((await client.batches.retrieve(created.id)).status).toBe('in_progress');
      const done = await client.batches.retrieve(created.id);
      expect(done).toMatchObject({ status: 'completed', error_file_id: null, request_counts: { total: 2 } });
      const lines = await results(done.output_file_id);
      expect(lines.map((l) => l.custom_id)).toEqual(['a', 'b']);
      for (const l of lines) {
        expect(l.response.status_code).toBe(200);
        expect(l.response.body.usage.prompt_tokens_details).toHaveProperty('cached_tokens');
        LetterDraft.parse(JSON.parse(l.response.body.choices[0].message.content));
      }
      expect(llm.batchRequests).toHaveLength(2);
      expect(llm.requests).toHaveLength(0);
    });

    it('expired, partially failed and failed batches, and invalid result lines, as scripted', async () => {
      llm.scriptBatch({ kind: 'expired', answered: 1 }, { kind: 'partial', failIndexes: [0] }, { kind: 'failed' }, { kind: 'invalid_lines' });
      const run = async () => {
        const file = await upload([{ id: 'x', topic: 'chess' }, { id: 'y', topic: 'Rust' }]);
        const b = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        return client.batches.retrieve(b.id);
      };
      const expired = await run();
      expect(expired.status).toBe('expired');
      expect((await results(expired.output_file_id)).map((l) => l.custom_id)).toEqual(['x']);
      expect((await results(expired.error_file_id))[0]).toMatchObject({ custom_id: 'y', response: null, error: { code: 'batch_expired' } });
      const partial = await run();
      expect(partial.status).toBe('completed');
      expect((await results(partial.error_file_id))[0]).toMatchObject({ custom_id: 'x', response: { status_code: 500 } });
      expect((await results(partial.output_file_id)).map((l) => l.custom_id)).toEqual(['y']);
      const failed = await run();
      expect(failed).toMatchObject({ status: 'failed', output_file_id: null, error_file_id: null });
      const invalid = await run();
      const text = await (await client.files.content(invalid.output_file_id!)).text();
      expect(text).toContain('cut off mid-li');
      expect(text).toContain('not-a-letter');
      await expect(client.batches.retrieve('batch_nope')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it('close() ends requests that are still hanging', async () => {
    const own = await FakeLlmServer.start();
    own.script({ kind: 'hang' });
    const c = openai(own.url, { maxRetries: 0, timeout: 10_000 });
    const pending = c.chat.completions.create(letterRequest('chess')).catch((e: unknown) => e);
    await waitUntil(() => own.requests.length === 1);
    const { ms } = await elapsed(() => own.close());
    expect(ms).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });
});

describe('TestSmtpServer through a pooled nodemailer transport', () => {
  let smtp: TestSmtpServer;
  let transport: Transporter;

  const mail = (n: number | string, extra: Record<string, unknown> = {}) => ({
    from: 'Mentor Zero <letters@mz.test>',
    to: `user${n}@example.test`,
    subject: `Letter ${n} [mz:abc${n}]`,
    text: `Plain body ${n}`,
    html: `<p>HTML body ${n}</p>`,
    ...extra,
  });

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    transport = createTransport({ url: smtp.url, pool: true, maxConnections: 4 });
  });
  afterAll(async () => {
    transport.close();
    await smtp.close();
  });
  beforeEach(() => {
    smtp.reset();
    smtp.setAcceptDelay(0);
  });

  it('captures raw bytes, envelope, headers and parsed parts', async () => {
    const info = await transport.sendMail(mail(1, {
      messageId: '<letter-123@mz.test>',
      replyTo: 'reply+abc@reply.mz.test',
      headers: {
        'X-MZ-Letter': 'letter-123',
        'List-Unsubscribe': '<https://mz.test/u/abc>, <mailto:unsubscribe@mz.test?subject=abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    }));
    expect(info.response).toMatch(/^250 /);

    const [m] = await smtp.waitForCount(1);
    expect(smtp.count()).toBe(1);
    expect(m.envelope).toEqual({ from: 'letters@mz.test', to: ['user1@example.test'] });
    expect(m.messageId).toBe('<letter-123@mz.test>');
    expect(m.subject).toBe('Letter 1 [mz:abc1]');
    expect(m.text?.trim()).toBe('Plain body 1');
    expect(m.html).toContain('<p>HTML body 1</p>');
    expect(m.headers.get('x-mz-letter')).toBe('letter-123');
    expect(m.rawHeaders.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(m.rawHeaders.get('list-unsubscribe')).toBe('<https://mz.test/u/abc>, <mailto:unsubscribe@mz.test?subject=abc>');
    expect(m.headers.get('list')).toMatchObject({ unsubscribe: { url: 'https://mz.test/u/abc' } });
    expect(m.parsed?.replyTo?.text).toBe('reply+abc@reply.mz.test');
    expect(m.raw.toString()).toMatch(/^X-MZ-Letter: letter-123\r$/im); // nodemailer may recase names
    expect(m.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    [550, 'rcpt' as const],
    [550, 'data' as const],
    [451, 'rcpt' as const],
    [451, 'data' as const],
    [421, 'mail' as const],
    [421, 'data' as const],
  ])('%i at %s reaches nodemailer as err.responseCode, and the next message still goes through', async (code, at) => {
    // A fresh pool per case: nodemailer treats a failure on a reused connection differently (below).
    const fresh = createTransport({ url: smtp.url, pool: true });
    try {
      smtp.script({ kind: 'reject', code, at });
      const err = (await fresh.sendMail(mail('x')).catch((e: unknown) => e)) as { responseCode?: number; permanent?: boolean };
      expect(err).toBeInstanceOf(Error);
      expect(err.responseCode).toBe(code);
      expect(err.permanent).toBe(code >= 500);
      expect(smtp.count()).toBe(0);
      expect(smtp.rejected).toEqual([expect.objectContaining({ code, at, envelope: expect.objectContaining({ from: 'letters@mz.test' }) })]);

      await fresh.sendMail(mail('y'));
      expect(smtp.count()).toBe(1);
      // A 421 closes the connection, so the next message needed a new one.
      if (code === 421) expect(smtp.connectionCount()).toBe(2);
    } finally {
      fresh.close();
    }
  });

  it('on a reused pooled connection: a 421 before DATA is requeued by nodemailer, errors at DATA are reported', async () => {
    await transport.sendMail(mail('warm-up'));
    smtp.script({ kind: 'reject', code: 421, at: 'mail' });
    await transport.sendMail(mail('requeued')); // nodemailer retries it on a new connection
    expect(smtp.rejected.map((r) => r.code)).toEqual([421]);
    expect(smtp.messages.map((m) => m.envelope.to[0])).toEqual(['userwarm-up@example.test', 'userrequeued@example.test']);

    smtp.script({ kind: 'reject', code: 421 }, { kind: 'reject', code: 550, at: 'rcpt' });
    const afterData = (await transport.sendMail(mail('a')).catch((e: unknown) => e)) as { responseCode?: number };
    expect(afterData.responseCode).toBe(421);
    const unknownUser = (await transport.sendMail(mail('b')).catch((e: unknown) => e)) as { responseCode?: number };
    expect(unknownUser.responseCode).toBe(550);
    expect(smtp.count()).toBe(2);
  });

  it('421 refusing a new connection reaches nodemailer as responseCode 421', async () => {
    smtp.script({ kind: 'reject', code: 421, at: 'connect' });
    const fresh = createTransport({ url: smtp.url, pool: true });
    try {
      const err = (await fresh.sendMail(mail('c')).catch((e: unknown) => e)) as { responseCode?: number };
      expect(err).toBeInstanceOf(Error);
      expect(err.responseCode).toBe(421);
      expect(smtp.rejected.map((r) => r.at)).toEqual(['connect']);
      await fresh.sendMail(mail('d'));
      expect(smtp.count()).toBe(1);
    } finally {
      fresh.close();
    }
  });

  it('applies the accept delay, and a step delay for one message', async () => {
    smtp.setAcceptDelay(300);
    const slow = await elapsed(() => transport.sendMail(mail(1)));
    expect(slow.ms).toBeGreaterThanOrEqual(290);

    smtp.setAcceptDelay(0);
    smtp.script({ kind: 'accept', delayMs: 250 });
    const stepped = await elapsed(() => transport.sendMail(mail(2)));
    expect(stepped.ms).toBeGreaterThanOrEqual(240);
    const quick = await elapsed(() => transport.sendMail(mail(3)));
    expect(quick.ms).toBeLessThan(240);
    expect(smtp.count()).toBe(3);
  });

  it('takes many messages over a few pooled connections concurrently', async () => {
    smtp.setAcceptDelay(100);
    const { ms } = await elapsed(() => Promise.all(Array.from({ length: 40 }, (_, i) => transport.sendMail(mail(i)))));
    expect(smtp.count()).toBe(40);
    expect(new Set(smtp.messages.map((m) => m.envelope.to[0])).size).toBe(40);
    expect(ms).toBeLessThan(40 * 100); // four connections in parallel, not one after another
    expect(smtp.connectionCount()).toBeLessThanOrEqual(4);
  });

  it('waitFor rejects with a helpful message on timeout', async () => {
    await transport.sendMail(mail(1));
    await expect(smtp.waitForCount(2, 100)).rejects.toThrow(/expected at least 2 message\(s\).*1 captured.*user1@example\.test/);
  });

  it('parse: false still records envelope, Message-ID and raw headers cheaply', async () => {
    const raw = await TestSmtpServer.start({ parse: false });
    const t = createTransport({ url: raw.url, pool: true });
    try {
      await t.sendMail(mail(9, { messageId: '<fast-9@mz.test>', headers: { 'X-MZ-Letter': 'letter-9' } }));
      const [m] = await raw.waitForCount(1);
      expect(raw.count()).toBe(1);
      expect(m.parsed).toBeUndefined();
      expect(m.messageId).toBe('<fast-9@mz.test>');
      expect(m.subject).toBe('Letter 9 [mz:abc9]');
      expect(m.headers.get('x-mz-letter')).toBe('letter-9');
      expect(m.envelope.to).toEqual(['user9@example.test']);
    } finally {
      t.close();
      await raw.close();
    }
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
