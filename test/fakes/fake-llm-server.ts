/**
 * An OpenAI-compatible chat-completions server on loopback, for e2e, fault and benchmark runs.
 * The composer talks to it through the real `openai` SDK (LLM_BASE_URL = `fake.url`), so retries,
 * timeouts and JSON-schema structured output are exercised exactly as against a hosted model.
 *
 * Plain node:http and no Jest imports: the benchmark compiles this file with SWC and runs it in a
 * plain Node process. Every request is answered on its own timer, so N concurrent requests at
 * latency L finish in about L, not N × L.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  /** Epoch ms at which the request body was fully received. */
  at: number;
  /** The parsed JSON request body (model, messages, response_format, …). */
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export type LlmScriptStep =
  /** 200 with `content` (default: the server's default responder). */
  | { kind: 'ok'; content?: string | ((req: CapturedRequest) => string); latencyMs?: number; usage?: FakeUsage }
  /** An error status with an OpenAI-style error body. Answers after `latencyMs` (default 0: gateways reject before the model runs). */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown; latencyMs?: number }
  /** Accept the request and never answer (the client's timeout path). Ended by `close()`. */
  | { kind: 'hang' }
  /** 200 whose message content is a truncated JSON document: `JSON.parse` of it throws. */
  | { kind: 'malformed' }
  /** Destroy the socket after the request arrived, without a response. */
  | { kind: 'reset' };

/** Usage a scripted step reports instead of the estimate (cached_tokens → prompt_tokens_details). */
export interface FakeUsage { prompt_tokens: number; completion_tokens: number; cached_tokens?: number }

/**
 * Prompt caching as OpenAI documents it: only prompts of at least 1,024 tokens are cached, and a
 * request is served from the cache for the longest prefix it shares with an earlier request, in
 * steps of 128 tokens from 1,024. The prefix is the response format (schema) then the messages in
 * order. Tokens are estimated as characters ÷ 4, as everywhere in this fake.
 */
export const PROMPT_CACHE_MIN_TOKENS = 1024;
export const PROMPT_CACHE_STEP_TOKENS = 128;
const CACHE_ENTRIES = 512;

/**
 * How the fake Batch API settles the next batch created (`scriptBatch`); unscripted: `completed`.
 * The results are computed when the batch is created, each line answered as a synchronous request
 * would be (the default responder or `content`, usage with cached tokens), and become visible once
 * the batch has been retrieved `pendingPolls` times (default 0: the first retrieve finds it done).
 */
export type BatchOutcome =
  | { kind: 'completed'; content?: (req: CapturedRequest) => string; pendingPolls?: number }
  /** The 24 h window ran out: the first `answered` lines (default 0) have results, the rest `batch_expired` errors. */
  | { kind: 'expired'; answered?: number; pendingPolls?: number }
  /** Completed, but the lines at `failIndexes` failed (500 in the error file). */
  | { kind: 'partial'; failIndexes: number[]; pendingPolls?: number }
  /** The whole batch failed validation: no output file, no error file. */
  | { kind: 'failed'; pendingPolls?: number }
  /** Completed, but the output file also holds unreadable lines and a result for an unknown custom_id. */
  | { kind: 'invalid_lines'; pendingPolls?: number };

/** A batch the fake holds: what was asked and what it will answer. */
export interface FakeBatch {
  id: string;
  inputFileId: string;
  endpoint: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  /** The JSONL input lines, parsed. */
  lines: { custom_id: string; method: string; url: string; body: any }[];
  outcome: BatchOutcome;
  polls: number;
  status: string;
  outputFileId: string | null;
  errorFileId: string | null;
}

export interface FakeLlmServerOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Latency of every answered `ok`/`malformed` request unless the step sets its own. Default 0. */
  latencyMs?: number;
  /** Replaces the built-in letter / reply-analysis responder for unscripted requests. */
  defaultResponder?: (req: CapturedRequest) => string;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MODEL_ID = 'fake-model';

export class FakeLlmServer {
  readonly requests: CapturedRequest[] = [];

  private readonly server: Server;
  private readonly defaultResponder: (req: CapturedRequest) => string;
  private listenPort = 0;
  private steps: LlmScriptStep[] = [];
  private latencyMs: number;
  private outage: number | null = null;
  private completionSeq = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hanging = new Set<ServerResponse>();
  /** Prompts seen (prefix text), newest last: what the simulated prompt cache holds. */
  private readonly cached: string[] = [];
  /** Files uploaded (purpose batch) and written (batch output and error files), by id. */
  readonly files = new Map<string, { id: string; purpose: string; filename: string; content: string }>();
  readonly batches = new Map<string, FakeBatch>();
  /** Batch lines answered so far (each as a captured request). */
  readonly batchRequests: CapturedRequest[] = [];
  private batchOutcomes: BatchOutcome[] = [];
  private fileSeq = 0;

  private constructor(opts: FakeLlmServerOptions) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.defaultResponder = opts.defaultResponder ?? defaultLlmResponder;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) sendError(res, 500, `fake LLM server error: ${String(err)}`, 'server_error');
      });
    });
    // Hanging requests and long benchmark runs must not be cut by Node's defaults.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(opts: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer(opts);
    const server = fake.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    fake.listenPort = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get port(): number {
    return this.listenPort;
  }

  /** Base URL ending in /v1, for LLM_BASE_URL / `new OpenAI({ baseURL })`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Queue steps; each request consumes one, in arrival order, then the default responder answers. */
  script(...steps: LlmScriptStep[]): void {
    this.steps.push(...steps);
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /**
   * An outage: until cleared (null), every chat completion answers this HTTP status (after the
   * latency), whatever is scripted — an LLM failing hard, for degraded-mode runs.
   */
  setOutage(status: number | null): void {
    this.outage = status;
  }

  /** Outcomes for the next batches created, in order (then `completed`). */
  scriptBatch(...outcomes: BatchOutcome[]): void {
    this.batchOutcomes.push(...outcomes);
  }

  /** Steps still queued (useful to assert a script was fully consumed). */
  pendingSteps(): number {
    return this.steps.length;
  }

  /** Clears the script, captured requests and the prompt cache; latency is kept. */
  reset(): void {
    this.steps = [];
    this.requests.length = 0;
    this.cached.length = 0;
    this.files.clear();
    this.batches.clear();
    this.batchRequests.length = 0;
    this.batchOutcomes = [];
  }

  /** Stops listening and ends every open connection, hanging requests included. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: MODEL_ID, object: 'model', created: 0, owned_by: 'mentor-zero-tests' }] });
    }
    if (path === '/v1/files' || path.startsWith('/v1/files/')) return this.handleFiles(req, res, path);
    if (path === '/v1/batches' || path.startsWith('/v1/batches/')) return this.handleBatches(req, res, path);
    if (path !== '/v1/chat/completions') return sendError(res, 404, `no route ${req.method} ${path}`, 'invalid_request_error');
    if (req.method !== 'POST') return sendError(res, 405, `method ${req.method} not allowed`, 'invalid_request_error');

    const raw = await readBody(req);
    if (raw === null) return sendError(res, 413, 'request body too large', 'invalid_request_error');
    let body: any;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendError(res, 400, 'request body is not valid JSON', 'invalid_request_error');
    }
    if (!body || typeof body !== 'object' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return sendError(res, 400, "'messages' must be a non-empty array", 'invalid_request_error');
    }
    if (body.stream === true) return sendError(res, 400, 'the fake LLM server does not implement streaming', 'invalid_request_error');

    const captured: CapturedRequest = { at: Date.now(), body, headers: { ...req.headers } };
    this.requests.push(captured);
    const step: LlmScriptStep = this.outage !== null
      ? { kind: 'status', status: this.outage, latencyMs: this.latencyMs }
      : (this.steps.shift() ?? { kind: 'ok' });

    switch (step.kind) {
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'status':
        await this.delay(step.latencyMs ?? 0);
        if (res.destroyed) return;
        return sendStatusStep(res, step);
      case 'malformed': {
        await this.delay(this.latencyMs);
        if (res.destroyed) return;
        const full = this.defaultResponder(captured);
        // A reply cut off mid-document, as a model stopped by a token limit or a broken proxy produces.
        return sendJson(res, 200, this.completion(captured, full.slice(0, Math.max(1, Math.floor(full.length / 2)))));
      }
      case 'ok': {
        await this.delay(step.latencyMs ?? this.latencyMs);
        if (res.destroyed) return;
        const content = typeof step.content === 'function' ? step.content(captured) : (step.content ?? this.defaultResponder(captured));
        return sendJson(res, 200, this.completion(captured, content, step.usage));
      }
    }
  }

  /** POST /v1/files (multipart: file, purpose), GET /v1/files/:id, GET /v1/files/:id/content. */
  private async handleFiles(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'POST' && path === '/v1/files') {
      const raw = await readBody(req);
      if (raw === null) return sendError(res, 413, 'request body too large', 'invalid_request_error');
      const parts = parseMultipart(raw, String(req.headers['content-type'] ?? ''));
      const file = parts.find((p) => p.name === 'file');
      const purpose = parts.find((p) => p.name === 'purpose')?.content.toString('utf8');
      if (!file || !purpose) return sendError(res, 400, "multipart fields 'file' and 'purpose' are required", 'invalid_request_error');
      const stored = { id: `file-fake-${++this.fileSeq}`, purpose, filename: file.filename ?? 'upload', content: file.content.toString('utf8') };
      this.files.set(stored.id, stored);
      return sendJson(res, 200, fileObject(stored));
    }
    const m = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    const stored = m ? this.files.get(decodeURIComponent(m[1])) : undefined;
    if (req.method !== 'GET' || !m) return sendError(res, 404, `no route ${req.method} ${path}`, 'invalid_request_error');
    if (!stored) return sendError(res, 404, `no such file: ${m[1]}`, 'invalid_request_error');
    if (!m[2]) return sendJson(res, 200, fileObject(stored));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(stored.content) });
    res.end(stored.content);
  }

  /** POST /v1/batches (from an uploaded JSONL file), GET /v1/batches/:id. */
  private async handleBatches(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'POST' && path === '/v1/batches') {
      const raw = await readBody(req);
      let body: any;
      try {
        body = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
      } catch {
        return sendError(res, 400, 'request body is not valid JSON', 'invalid_request_error');
      }
      const input = this.files.get(String(body?.input_file_id));
      if (!input || input.purpose !== 'batch') return sendError(res, 400, 'input_file_id must name a file uploaded with purpose "batch"', 'invalid_request_error');
      if (body.endpoint !== '/v1/chat/completions') return sendError(res, 400, `the fake only batches /v1/chat/completions, not ${body.endpoint}`, 'invalid_request_error');
      const lines = input.content.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      const batch: FakeBatch = {
        id: `batch_fake_${++this.fileSeq}`, inputFileId: input.id, endpoint: body.endpoint, completionWindow: body.completion_window,
        metadata: body.metadata ?? null, lines, outcome: this.batchOutcomes.shift() ?? { kind: 'completed' }, polls: 0, status: 'validating',
        outputFileId: null, errorFileId: null,
      };
      this.batches.set(batch.id, batch);
      return sendJson(res, 200, batchObject(batch));
    }
    const m = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (req.method !== 'GET' || !m) return sendError(res, 404, `no route ${req.method} ${path}`, 'invalid_request_error');
    const batch = this.batches.get(decodeURIComponent(m[1]));
    if (!batch) return sendError(res, 404, `no such batch: ${m[1]}`, 'invalid_request_error');
    batch.polls++;
    if (batch.status === 'validating' || batch.status === 'in_progress') {
      if (batch.polls > (batch.outcome.pendingPolls ?? 0)) this.settleBatch(batch);
      else batch.status = 'in_progress';
    }
    return sendJson(res, 200, batchObject(batch));
  }

  /** Writes the batch's output and error files as its outcome says; each answered line has usage. */
  private settleBatch(batch: FakeBatch): void {
    const outcome = batch.outcome;
    const out: string[] = [];
    const errors: string[] = [];
    const answer = (line: FakeBatch['lines'][number], i: number) => {
      // Kept apart from `requests` (the synchronous calls), so a test can tell the two apart.
      const captured: CapturedRequest = { at: Date.now(), body: line.body, headers: {} };
      this.batchRequests.push(captured);
      const content = outcome.kind === 'completed' && outcome.content ? outcome.content(captured) : this.defaultResponder(captured);
      out.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: line.custom_id, response: { status_code: 200, request_id: `req_${i}`, body: this.completion(captured, content) }, error: null }));
    };
    const fail = (line: FakeBatch['lines'][number], i: number, code: string, message: string, status: number | null) => {
      errors.push(JSON.stringify({
        id: `batch_req_${i}`, custom_id: line.custom_id,
        response: status === null ? null : { status_code: status, request_id: `req_${i}`, body: { error: { message, type: 'server_error', code } } },
        error: status === null ? { code, message } : null,
      }));
    };
    switch (outcome.kind) {
      case 'failed':
        batch.status = 'failed';
        return;
      case 'expired':
        batch.lines.forEach((l, i) => (i < (outcome.answered ?? 0) ? answer(l, i) : fail(l, i, 'batch_expired', 'This request could not be executed before the completion window expired.', null)));
        batch.status = 'expired';
        break;
      case 'partial':
        batch.lines.forEach((l, i) => (outcome.failIndexes.includes(i) ? fail(l, i, 'server_error', 'fake scripted failure', 500) : answer(l, i)));
        batch.status = 'completed';
        break;
      case 'invalid_lines':
        batch.lines.forEach(answer);
        out.push('{"custom_id": "cut off mid-li', JSON.stringify({ custom_id: 'not-a-letter', response: { status_code: 200, body: {} } }));
        batch.status = 'completed';
        break;
      case 'completed':
        batch.lines.forEach(answer);
        batch.status = 'completed';
        break;
    }
    const write = (lines: string[]) => {
      if (!lines.length) return null;
      const file = { id: `file-fake-${++this.fileSeq}`, purpose: 'batch_output', filename: 'results.jsonl', content: lines.join('\n') + '\n' };
      this.files.set(file.id, file);
      return file.id;
    };
    batch.outputFileId = write(out);
    batch.errorFileId = write(errors);
  }

  private completion(req: CapturedRequest, content: string, usage?: FakeUsage) {
    const prefix = cacheKeyText(req.body);
    const promptTokens = usage?.prompt_tokens ?? estimatePromptTokens(req.body);
    const completionTokens = usage?.completion_tokens ?? Math.ceil(content.length / 4);
    const cachedTokens = usage?.cached_tokens ?? this.cacheHit(prefix);
    return {
      id: `chatcmpl-fake-${++this.completionSeq}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof req.body.model === 'string' ? req.body.model : MODEL_ID,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: cachedTokens },
      },
      system_fingerprint: null,
    };
  }

  /** Cached tokens for this prompt (the longest shared prefix, in cache steps), then remembers it. */
  private cacheHit(prefix: string): number {
    const tokens = Math.floor(prefix.length / 4);
    if (tokens < PROMPT_CACHE_MIN_TOKENS) return 0;
    let best = 0;
    for (const earlier of this.cached) best = Math.max(best, sharedPrefixLength(prefix, earlier));
    this.cached.push(prefix);
    if (this.cached.length > CACHE_ENTRIES) this.cached.shift();
    const shared = Math.floor(best / 4);
    if (shared < PROMPT_CACHE_MIN_TOKENS) return 0;
    return PROMPT_CACHE_MIN_TOKENS + Math.floor((shared - PROMPT_CACHE_MIN_TOKENS) / PROMPT_CACHE_STEP_TOKENS) * PROMPT_CACHE_STEP_TOKENS;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

/** The built-in responder: a `ReplyAnalysis` for schema `reply_analysis`, otherwise a `LetterDraft`. */
export function defaultLlmResponder(req: CapturedRequest): string {
  const schemaName = req.body?.response_format?.json_schema?.name;
  if (schemaName === 'reply_analysis') return JSON.stringify(defaultReplyAnalysis(req));
  return JSON.stringify(defaultLetter(req));
}

/** What the default responder found in the prompt; exported so tests can predict the letter. */
export function promptFacts(req: CapturedRequest): { topic: string | null; persona: string | null; fingerprint: string } {
  const text = promptText(req);
  return {
    topic: findLabel(text, /(?:^|[\s{,"'*-])topic(?:[ _]?(?:name|title))?["']?\s*[:=]\s*["']?([^"'\n,{}[\]]{1,120})/im),
    persona: findLabel(text, /(?:^|[\s{,"'*-])(?:persona|mentor)(?:[ _]?name)?["']?\s*[:=]\s*["']?([^"'\n,{}[\]]{1,120})/im),
    fingerprint: createHash('sha256').update(text).digest('hex').slice(0, 8),
  };
}

const TONES = ['warm', 'encouraging', 'direct', 'reflective'];
const FOCUSES = [
  'one small concrete step today', 'reviewing what worked yesterday', 'a habit that makes practice easier', 'noticing progress that is easy to miss',
  'starting before you feel ready', 'resting without guilt', 'asking for help early', 'finishing what you started',
];
const THEMES = ['consistency', 'reflection', 'momentum', 'curiosity'];

/**
 * A letter the way a well-behaved model writes one: about 200 words (a medium letter), and a new
 * angle each time — the focus is the first, from the prompt's fingerprint on, whose tag the prompt
 * does not list among the angles to avoid — so subjects and openings do not repeat.
 */
function defaultLetter(req: CapturedRequest) {
  const asked = /^Language: .* \(BCP 47: ([A-Za-z0-9-]+)\)/m.exec(promptText(req))?.[1]?.split('-')[0].toLowerCase();
  if (asked && asked in TRANSLATED_LETTERS) return translatedLetter(req, TRANSLATED_LETTERS[asked]);
  const { topic, persona, fingerprint } = promptFacts(req);
  const text = promptText(req);
  const subjectTopic = topic ?? 'your practice';
  const signer = persona ?? 'Your mentor';
  const pick = parseInt(fingerprint.slice(0, 2), 16) % TONES.length;
  const start = parseInt(fingerprint.slice(2, 4), 16) % FOCUSES.length;
  const order = FOCUSES.map((_, i) => (start + i) % FOCUSES.length);
  const index = order.find((i) => !text.includes(`focus-${i}`)) ?? start;
  const focus = FOCUSES[index];
  const body = [
    `${capitalise(focus)}: that is what I would like us to think about today, with ${subjectTopic} in mind.`,
    '',
    `Progress rarely arrives as a big leap. It comes from ${focus}, repeated on ordinary days when nobody is watching, until it is simply what you do. The days that feel unremarkable are the ones that carry you furthest.`,
    '',
    `Here is today's practice. Pick one thing about ${subjectTopic} you can finish in fifteen minutes. Do it before lunch if you can, and write down one sentence about how it went: what was easy, what resisted, what surprised you. Keep the sentence short; it is a note to your future self, not a report.`,
    '',
    'If the fifteen minutes go badly, that is information too. Notice what pulled your attention away, without judging it, and come back to the task once more. Most of the skill is in the returning.',
    '',
    'Reply to this letter with your sentence if you like — I read every reply, and tomorrow I will write with it in mind.',
    '',
    'Warmly,',
    signer,
  ].join('\n');
  return {
    subject: clip(`${capitalise(subjectTopic)}: ${focus}`, 200),
    body,
    summary: clip(`A short letter about ${subjectTopic}, focused on ${focus}.`, 600),
    themes: [clip(subjectTopic, 60), THEMES[pick]],
    tone: TONES[pick],
    advice_focus: focus,
    variation_tags: [`focus-${index}`, `fake-${fingerprint}`, THEMES[pick]],
  };
}

/**
 * The composer asks for a language on the prompt's last line ("Language: … (BCP 47: de)"). For
 * German, French and Spanish the fake answers in that language, as a model that follows the prompt
 * does; any other language gets the English letter (so the quality guard's language check can be
 * seen refusing it).
 */
const TRANSLATED_LETTERS: Record<string, { subject: string; paragraphs: string[]; summary: string; focus: string[] }> = {
  de: {
    subject: 'Ein kleiner Schritt für heute',
    focus: ['ein kleiner Schritt', 'die Rückkehr zur Aufgabe', 'eine ruhige Gewohnheit', 'der unscheinbare Fortschritt'],
    paragraphs: [
      'Heute möchte ich mit dir über {focus} nachdenken, und zwar mit {topic} im Blick.',
      'Fortschritt kommt selten als großer Sprung. Er kommt aus kleinen Dingen, die du an gewöhnlichen Tagen wiederholst, wenn niemand zusieht, bis sie einfach zu dem werden, was du tust. Die Tage, die sich unscheinbar anfühlen, tragen dich am weitesten.',
      'Hier ist die Übung für heute. Wähle eine Sache, die du in fünfzehn Minuten erledigen kannst. Mach sie vor dem Mittagessen, wenn es geht, und schreib danach einen Satz darüber auf, wie es lief: was leicht war, was sich gewehrt hat und was dich überrascht hat. Der Satz ist eine Notiz für dich selbst, kein Bericht.',
      'Wenn die fünfzehn Minuten schlecht laufen, ist auch das eine Information. Bemerke, was deine Aufmerksamkeit weggezogen hat, ohne es zu bewerten, und kehre dann noch einmal zu der Aufgabe zurück. Das meiste an dieser Fähigkeit liegt in der Rückkehr.',
      'Antworte auf diesen Brief mit deinem Satz, wenn du magst. Ich lese jede Antwort, und morgen schreibe ich mit ihr im Kopf.',
      'Herzlich,',
    ],
    summary: 'Ein kurzer Brief über {topic}: ein kleiner Schritt und ein Satz darüber.',
  },
  fr: {
    subject: 'Un petit pas pour aujourd’hui',
    focus: ['un petit pas', 'le retour à la tâche', 'une habitude calme', 'le progrès discret'],
    paragraphs: [
      'Aujourd’hui, je voudrais que nous pensions à {focus}, avec {topic} en tête.',
      'Le progrès arrive rarement comme un grand saut. Il vient des petites choses que vous répétez les jours ordinaires, quand personne ne regarde, jusqu’à ce qu’elles deviennent simplement ce que vous faites. Les jours qui semblent sans relief sont ceux qui vous portent le plus loin.',
      'Voici la pratique du jour. Choisissez une chose que vous pouvez finir en quinze minutes. Faites-la avant le déjeuner si vous le pouvez, puis écrivez une phrase sur la façon dont cela s’est passé : ce qui était facile, ce qui a résisté et ce qui vous a surpris. Cette phrase est une note pour vous, pas un rapport.',
      'Si les quinze minutes se passent mal, c’est aussi une information. Remarquez ce qui a détourné votre attention, sans le juger, et revenez une fois de plus à la tâche. Presque tout le savoir-faire est dans ce retour.',
      'Répondez à cette lettre avec votre phrase si vous le souhaitez. Je lis chaque réponse, et demain je vous écrirai en la gardant en tête.',
      'Chaleureusement,',
    ],
    summary: 'Une courte lettre sur {topic} : un petit pas et une phrase pour le noter.',
  },
  es: {
    subject: 'Un pequeño paso para hoy',
    focus: ['un pequeño paso', 'la vuelta a la tarea', 'un hábito tranquilo', 'el progreso discreto'],
    paragraphs: [
      'Hoy quiero que pensemos en {focus}, con {topic} en mente.',
      'El progreso rara vez llega como un gran salto. Viene de las cosas pequeñas que repites en los días corrientes, cuando nadie mira, hasta que se vuelven simplemente lo que haces. Los días que parecen grises son los que más lejos te llevan.',
      'Esta es la práctica de hoy. Elige una cosa que puedas terminar en quince minutos. Hazla antes del almuerzo si puedes, y luego escribe una frase sobre cómo te fue: lo que fue fácil, lo que se resistió y lo que te sorprendió. La frase es una nota para ti, no un informe.',
      'Si los quince minutos salen mal, también eso es información. Observa qué se llevó tu atención, sin juzgarlo, y vuelve una vez más a la tarea. Casi toda la habilidad está en volver.',
      'Responde a esta carta con tu frase si quieres. Leo cada respuesta, y mañana te escribiré con ella en mente.',
      'Con cariño,',
    ],
    summary: 'Una carta breve sobre {topic}: un pequeño paso y una frase para anotarlo.',
  },
};

function translatedLetter(req: CapturedRequest, t: (typeof TRANSLATED_LETTERS)[string]) {
  const { topic, persona, fingerprint } = promptFacts(req);
  const text = promptText(req);
  const subjectTopic = topic ?? 'Mentor Zero';
  const pick = parseInt(fingerprint.slice(0, 2), 16) % TONES.length;
  const start = parseInt(fingerprint.slice(2, 4), 16) % t.focus.length;
  const index = t.focus.map((_, i) => (start + i) % t.focus.length).find((i) => !text.includes(`focus-${i}`)) ?? start;
  const fill = (s: string) => s.replace('{focus}', t.focus[index]).replace('{topic}', subjectTopic);
  return {
    subject: clip(`${t.subject}: ${t.focus[index]}`, 200),
    body: [...t.paragraphs.map(fill), persona ?? 'Mentor Zero'].join('\n\n'),
    summary: clip(fill(t.summary), 600),
    themes: [clip(subjectTopic, 60), THEMES[pick]],
    tone: TONES[pick],
    advice_focus: t.focus[index],
    variation_tags: [`focus-${index}`, `fake-${fingerprint}`, THEMES[pick]],
  };
}

function defaultReplyAnalysis(req: CapturedRequest) {
  const users = (req.body.messages as any[]).filter((m) => m?.role === 'user');
  const last = users.length ? contentText(users[users.length - 1].content) : '';
  const note = last.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { intent: 'note', confidence: 0.6, note: note || null, pause_days: null, pause_until: null };
}

function promptText(req: CapturedRequest): string {
  const messages = Array.isArray(req.body?.messages) ? (req.body.messages as any[]) : [];
  return messages
    .filter((m) => m?.role === 'system' || m?.role === 'developer' || m?.role === 'user')
    .map((m) => contentText(m.content))
    .join('\n');
}

/** Message content is a string or an array of parts ({ type: 'text', text }). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('\n');
  return '';
}

function findLabel(text: string, re: RegExp): string | null {
  const m = re.exec(text);
  if (!m) return null;
  // Drop Markdown emphasis and trailing punctuation around the label's value.
  const value = m[1].replace(/^[\s*_`#>-]+/, '').replace(/[\s*_`.;:]+$/, '');
  return /[\p{L}\p{N}]/u.test(value) ? clip(value, 80) : null;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1).trimEnd() + '…';
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The prompt tokens the fake reports for a request body: the schema and the messages, characters ÷ 4. */
export function estimatePromptTokens(body: any): number {
  return Math.ceil(cacheKeyText(body).length / 4);
}

/** What a provider's prompt cache keys on, in order: the structured-output schema, then each message. */
function cacheKeyText(body: any): string {
  const messages = (body.messages as { role?: unknown; content?: unknown }[]).map((m) => `${String(m.role)}\n${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
  return [body.response_format ? JSON.stringify(body.response_format) : '', ...messages].join('\n\n');
}

function sharedPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function fileObject(f: { id: string; purpose: string; filename: string; content: string }) {
  return { id: f.id, object: 'file', bytes: Buffer.byteLength(f.content), created_at: Math.floor(Date.now() / 1000), filename: f.filename, purpose: f.purpose, status: 'processed' };
}

function batchObject(b: FakeBatch) {
  const failed = b.errorFileId ? 1 : 0;
  return {
    id: b.id, object: 'batch', endpoint: b.endpoint, errors: null, input_file_id: b.inputFileId, completion_window: b.completionWindow,
    status: b.status, output_file_id: b.outputFileId, error_file_id: b.errorFileId, created_at: Math.floor(Date.now() / 1000),
    request_counts: { total: b.lines.length, completed: b.lines.length - failed, failed }, metadata: b.metadata,
  };
}

/** The parts of a multipart/form-data body (RFC 7578): enough for the SDK's file upload. */
function parseMultipart(raw: Buffer, contentType: string): { name: string; filename?: string; content: Buffer }[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: { name: string; filename?: string; content: Buffer }[] = [];
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    const next = raw.indexOf(delimiter, start);
    if (next === -1) break;
    const part = raw.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const split = part.indexOf('\r\n\r\n');
    if (split !== -1) {
      const head = part.subarray(0, split).toString('utf8');
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      if (name) parts.push({ name, filename, content: part.subarray(split + 4) });
    }
    at = next;
  }
  return parts;
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type, param: null, code: null } }, headers);
}

function sendStatusStep(res: ServerResponse, step: Extract<LlmScriptStep, { kind: 'status' }>): void {
  // Retry-After in seconds (RFC 9110 §10.2.3); the openai SDK honours it before its own backoff.
  const headers: Record<string, string> = step.retryAfterSeconds !== undefined ? { 'retry-after': String(step.retryAfterSeconds) } : {};
  if (step.body !== undefined) return sendJson(res, step.status, step.body, headers);
  const type = step.status === 429 ? 'rate_limit_exceeded' : step.status >= 500 ? 'server_error' : 'invalid_request_error';
  sendError(res, step.status, `fake LLM scripted status ${step.status}`, type, headers);
}
