import { Inject, Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, MetricsService, SLOW_BUCKETS } from '@mz/platform';
import type { ChatMessage } from '../prompt/build-prompt';
import { classifyLlmError } from './classify-llm-error';
import { LETTER_RESPONSE_FORMAT } from './letter-response-format';
import { LlmCircuit, LlmCircuitOpenError } from './llm-circuit';

export interface LlmRequest {
  model: string;
  temperature: number;
  messages: ChatMessage[];
  /** Price per 1k tokens (app_config llm_cost_per_1k_tokens_usd) for the cost metric. */
  pricing?: { prompt: number; completion: number };
}

export interface LlmResponse {
  /** The assistant message content ('' when the model returned none, e.g. a refusal). */
  content: string;
  refusal: string | null;
  finishReason: string | null;
  /** The model the server says answered (falls back to the one requested). */
  model: string;
  promptTokens: number;
  completionTokens: number;
  ms: number;
}

/**
 * The LLM side effect: one chat completion through the `openai` SDK against any OpenAI-compatible
 * endpoint, asking for the LetterDraft JSON schema. The SDK's own retries (429 with Retry-After,
 * 5xx, connection errors) happen inside one call; whatever still fails is thrown already
 * classified (ClassifiedError). Latency, tokens and cost are recorded here, once. Every call goes
 * through the circuit (llm-circuit.ts): while it is open the call is refused at once with
 * LlmCircuitOpenError, and nothing is observed, since no request was made.
 */
@Injectable()
export class LlmClient {
  private readonly client: OpenAI | null;
  private readonly duration;
  private readonly tokens;
  private readonly cost;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, metrics: MetricsService, private readonly circuit: LlmCircuit) {
    this.client = config.LLM_BASE_URL
      ? new OpenAI({
          baseURL: config.LLM_BASE_URL,
          // Local servers (Ollama, vLLM) accept any key; the SDK insists on one.
          apiKey: config.LLM_API_KEY ?? 'not-needed',
          timeout: config.LLM_TIMEOUT_MS,
          maxRetries: config.LLM_MAX_RETRIES,
        })
      : null;
    this.duration = metrics.histogram('mz_llm_request_duration_seconds', 'LLM chat completion latency by outcome (ok or failure class)', ['outcome'], SLOW_BUCKETS);
    this.tokens = metrics.counter('mz_llm_tokens_total', 'LLM tokens used, by type (prompt|completion)', ['type']);
    this.cost = metrics.counter('mz_llm_cost_usd_total', 'Estimated LLM spend in USD (app_config llm_cost_per_1k_tokens_usd)');
  }

  get configured(): boolean {
    return this.client !== null;
  }

  get defaultModel(): string {
    return this.config.LLM_MODEL;
  }

  async completeLetter(req: LlmRequest): Promise<LlmResponse> {
    if (!this.client) throw new Error('LLM_BASE_URL is not configured');
    const started = performance.now();
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      const client = this.client;
      completion = await this.circuit.run(() =>
        client.chat.completions.create({
          model: req.model,
          temperature: req.temperature,
          messages: req.messages,
          response_format: LETTER_RESPONSE_FORMAT,
        }),
      );
    } catch (err) {
      if (err instanceof LlmCircuitOpenError) throw err;
      const classified = classifyLlmError(err);
      this.duration.observe({ outcome: classified.failureClass }, (performance.now() - started) / 1000);
      throw classified;
    }
    const ms = Math.round(performance.now() - started);
    this.duration.observe({ outcome: 'ok' }, ms / 1000);
    const promptTokens = completion.usage?.prompt_tokens ?? 0;
    const completionTokens = completion.usage?.completion_tokens ?? 0;
    this.tokens.inc({ type: 'prompt' }, promptTokens);
    this.tokens.inc({ type: 'completion' }, completionTokens);
    if (req.pricing) this.cost.inc((promptTokens / 1000) * req.pricing.prompt + (completionTokens / 1000) * req.pricing.completion);
    const choice = completion.choices?.[0];
    return {
      content: choice?.message?.content ?? '',
      refusal: choice?.message?.refusal ?? null,
      finishReason: choice?.finish_reason ?? null,
      model: completion.model || req.model,
      promptTokens,
      completionTokens,
      ms,
    };
  }
}
