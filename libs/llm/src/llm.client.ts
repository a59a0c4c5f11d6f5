import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { toFile } from 'openai';
import type { Logger } from 'pino';
import { type AppConfig, llmConfigured, stripNul } from '@mz/contracts';
import { APP_CONFIG, LOGGER, MetricsService, SLOW_BUCKETS, SpanKind, tracingEnabled, withSpan } from '@mz/platform';
import { chatTransport } from './chat-transport';
import { classifyLlmError } from './classify-llm-error';
import { LlmCircuit, LlmCircuitOpenError } from './llm-circuit';
import { costUsd, priceFor, type TokenUsage } from './llm-pricing';
import type { JsonSchemaResponseFormat } from './structured-output';

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** What a call is for: the metrics and the console's cost split by it. */
export type LlmPurpose = 'letter' | 'reply';

export interface LlmRequest {
  purpose: LlmPurpose;
  model: string;
  temperature: number;
  messages: ChatMessage[];
  responseFormat: JsonSchemaResponseFormat;
  /** The completion-token budget (max_completion_tokens); unset: the server's default. */
  maxTokens?: number;
}

export interface LlmCompletion extends TokenUsage {
  /** The assistant message content ('' when the model returned none, e.g. a refusal). */
  content: string;
  refusal: string | null;
  finishReason: string | null;
  /** The model the server says answered (falls back to the one requested). */
  model: string;
  /** USD at the model's price (LLM_PRICES, else the built-in table); null for a model with no known price. */
  costUsd: number | null;
  ms: number;
}

/** One request of a batch: `customId` comes back on its result line (the letter id). */
export interface LlmBatchLine { customId: string; body: LlmChatBody }

/** A chat-completion body exactly as `complete` sends it (and as a batch line carries it). */
export type LlmChatBody = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

/** What the provider says about a batch: its status and, once finished, its output and error files. */
export interface LlmBatchState {
  id: string;
  /** validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled */
  status: string;
  outputFileId: string | null;
  errorFileId: string | null;
}

/** Batch statuses after which nothing more will arrive. */
export const FINISHED_BATCH_STATUSES: readonly string[] = ['completed', 'failed', 'expired', 'cancelled'];

/**
 * The one LLM client (docs/architecture.md §7): a chat completion through the `openai` SDK
 * against any OpenAI-compatible endpoint, with a JSON-schema structured output. The composer and
 * the reply classifier both call it, so base URL, key, timeout, SDK retries (429 with
 * Retry-After, 5xx, connection errors, LLM_MAX_RETRIES), the circuit, error classes, metrics and
 * cost live here once. What still fails is thrown already classified (ClassifiedError); while the
 * circuit is open the call is refused at once (LlmCircuitOpenError) and nothing is observed.
 *
 * Usage is read as providers report it, including `prompt_tokens_details.cached_tokens` (the part
 * of the prompt served from the provider's prompt cache, billed at the cached price).
 */
@Injectable()
export class LlmClient {
  /** Chat completions (every letter, every reply classified): the SDK over chatTransport(). */
  private readonly client: OpenAI | null;
  /** The Batch API (a file upload, then small JSON calls): the SDK's default transport. */
  private readonly batchClient: OpenAI | null;
  private readonly duration;
  private readonly tokens;
  private readonly cost;
  private readonly unpriced = new Set<string>();
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
    private readonly circuit: LlmCircuit,
    @Inject(LOGGER) logger: Logger,
  ) {
    const options = {
      baseURL: config.LLM_BASE_URL,
      // Local servers (Ollama, vLLM) accept any key; the SDK insists on one.
      apiKey: config.LLM_API_KEY ?? 'not-needed',
      timeout: config.LLM_TIMEOUT_MS,
      maxRetries: config.LLM_MAX_RETRIES,
    };
    const configured = llmConfigured(config);
    this.client = configured ? new OpenAI({ ...options, fetch: chatTransport() }) : null;
    this.batchClient = configured ? new OpenAI(options) : null;
    this.log = logger.child({ component: 'llm' });
    this.duration = metrics.histogram('mz_llm_request_duration_seconds', 'LLM chat completion latency, by purpose (letter|reply) and outcome (ok or failure class)', ['purpose', 'outcome'], SLOW_BUCKETS);
    this.tokens = metrics.counter('mz_llm_tokens_total', 'LLM tokens used, by purpose and type (prompt|cached_prompt|completion; cached_prompt is part of prompt)', ['purpose', 'type']);
    this.cost = metrics.counter('mz_llm_cost_usd_total', 'LLM spend in USD at the model price table (LLM_PRICES, else built-in defaults), by purpose', ['purpose']);
  }

  get configured(): boolean {
    return this.client !== null;
  }

  get defaultModel(): string {
    return this.config.LLM_MODEL;
  }

  /**
   * With tracing on, a client span per call (OpenTelemetry GenAI conventions): the model asked
   * for and the one that answered, token counts, cost — never the messages or the answer
   * (docs/architecture.md §6).
   */
  complete(req: LlmRequest): Promise<LlmCompletion> {
    if (!tracingEnabled()) return this.call(req);
    return withSpan(`chat ${req.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': req.model,
        'gen_ai.request.temperature': req.temperature, ...(req.maxTokens ? { 'gen_ai.request.max_tokens': req.maxTokens } : {}), 'mz.llm.purpose': req.purpose,
      },
    }, async (span) => {
      const result = await this.call(req);
      span?.setAttributes({
        'gen_ai.response.model': result.model, 'gen_ai.usage.input_tokens': result.promptTokens, 'gen_ai.usage.output_tokens': result.completionTokens,
        'mz.llm.cached_input_tokens': result.cachedTokens, ...(result.finishReason ? { 'gen_ai.response.finish_reasons': [result.finishReason] } : {}),
        ...(result.costUsd !== null ? { 'mz.llm.cost_usd': result.costUsd } : {}),
      });
      return result;
    });
  }

  private async call(req: LlmRequest): Promise<LlmCompletion> {
    if (!this.client) throw new Error('LLM_BASE_URL is not configured');
    const client = this.client;
    const started = performance.now();
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.circuit.run(() => client.chat.completions.create(chatBody(req)));
    } catch (err) {
      if (err instanceof LlmCircuitOpenError) throw err;
      const classified = classifyLlmError(err);
      this.duration.observe({ purpose: req.purpose, outcome: classified.failureClass }, (performance.now() - started) / 1000);
      throw classified;
    }
    const ms = Math.round(performance.now() - started);
    this.duration.observe({ purpose: req.purpose, outcome: 'ok' }, ms / 1000);
    return this.read(completion, req.purpose, req.model, ms, 0);
  }

  // ── Batch API (docs/architecture.md §7): the same bodies, at the batch price ──────────────

  /** Uploads the lines as one JSONL file (purpose `batch`) and creates one batch over it (24 h window). */
  async submitBatch(lines: readonly LlmBatchLine[], metadata: Record<string, string> = {}): Promise<{ id: string; inputFileId: string }> {
    const client = this.required();
    const jsonl = lines.map((l) => JSON.stringify({ custom_id: l.customId, method: 'POST', url: '/v1/chat/completions', body: l.body })).join('\n') + '\n';
    try {
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl, 'utf8'), 'letters.jsonl', { type: 'application/jsonl' }), purpose: 'batch' });
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata });
      return { id: batch.id, inputFileId: file.id };
    } catch (err) {
      throw classifyLlmError(err);
    }
  }

  async retrieveBatch(id: string): Promise<LlmBatchState> {
    const client = this.required();
    try {
      const b = await client.batches.retrieve(id);
      return { id: b.id, status: b.status, outputFileId: b.output_file_id ?? null, errorFileId: b.error_file_id ?? null };
    } catch (err) {
      throw classifyLlmError(err);
    }
  }

  /** A file's content as text (a batch's output or error JSONL). */
  async fileText(fileId: string): Promise<string> {
    const client = this.required();
    try {
      return await (await client.files.content(fileId)).text();
    } catch (err) {
      throw classifyLlmError(err);
    }
  }

  /**
   * A batch result line's body (a chat completion) read exactly as a synchronous answer — content,
   * refusal, usage with cached tokens — and priced at the batch discount (LLM_BATCH_DISCOUNT).
   */
  batchCompletion(body: unknown, purpose: LlmPurpose, requestedModel: string): LlmCompletion {
    return this.read(body as OpenAI.Chat.Completions.ChatCompletion, purpose, requestedModel, 0, this.config.LLM_BATCH_DISCOUNT);
  }

  private required(): OpenAI {
    if (!this.batchClient) throw new Error('LLM_BASE_URL is not configured');
    return this.batchClient;
  }

  private read(completion: OpenAI.Chat.Completions.ChatCompletion, purpose: LlmPurpose, requestedModel: string, ms: number, discount: number): LlmCompletion {
    const req = { purpose, model: requestedModel };
    const model = completion.model || req.model;
    const usage: TokenUsage = {
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      cachedTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
    };
    this.tokens.inc({ purpose: req.purpose, type: 'prompt' }, usage.promptTokens);
    this.tokens.inc({ purpose: req.purpose, type: 'cached_prompt' }, usage.cachedTokens);
    this.tokens.inc({ purpose: req.purpose, type: 'completion' }, usage.completionTokens);
    const cost = this.costOf(model, req.model, usage, discount);
    if (cost !== null) this.cost.inc({ purpose: req.purpose }, cost);
    const choice = completion.choices?.[0];
    return {
      // LLM text enters the data layer here (raw answer, transcript): without NUL, which Postgres refuses.
      content: stripNul(choice?.message?.content ?? ''),
      refusal: choice?.message?.refusal != null ? stripNul(choice.message.refusal) : null,
      finishReason: choice?.finish_reason ?? null,
      model,
      ...usage,
      costUsd: cost,
      ms,
    };
  }

  /** Priced by the model that answered, else the one asked for (gateways rename models). */
  private costOf(answered: string, requested: string, usage: TokenUsage, discount: number): number | null {
    const price = priceFor(answered, this.config.LLM_PRICES) ?? priceFor(requested, this.config.LLM_PRICES);
    if (price) return costUsd(usage, price, discount);
    if (!this.unpriced.has(answered)) {
      this.unpriced.add(answered);
      this.log.warn({ model: answered }, 'no price known for this model: its cost is not counted (set LLM_PRICES)');
    }
    return null;
  }
}

/** The chat-completion body for a request: `complete` sends it, a batch line carries it unchanged. */
export function chatBody(req: Omit<LlmRequest, 'purpose'>): LlmChatBody {
  return {
    model: req.model, temperature: req.temperature, messages: req.messages, response_format: req.responseFormat,
    ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
  };
}
