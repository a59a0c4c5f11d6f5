import { Inject, Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { type AppConfig, llmConfigured, type ReplyAnalysis } from '@mz/contracts';
import { APP_CONFIG, MetricsService, SLOW_BUCKETS } from '@mz/platform';
import { buildReplyMessages, parseReplyAnalysis, REPLY_RESPONSE_FORMAT, type ReplyPromptContext } from './reply-prompt';

export interface LlmReplyResult {
  analysis: ReplyAnalysis;
  model: string;
  promptTokens: number;
  completionTokens: number;
  ms: number;
}

/** Why the model gave us nothing usable (the caller keeps the reply as a flagged note). */
export class ReplyLlmError extends Error {
  override readonly name = 'ReplyLlmError';
}

/**
 * The LLM side effect for replies the rules could not settle: one chat completion through the
 * `openai` SDK against any OpenAI-compatible endpoint, asking for the `reply_analysis` JSON
 * schema, temperature 0. The SDK retries 429/5xx/connection errors within LLM_MAX_RETRIES; what
 * still fails, or answers outside the schema, throws ReplyLlmError.
 */
@Injectable()
export class ReplyLlmClient {
  private readonly client: OpenAI | null;
  private readonly duration;
  private readonly tokens;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, metrics: MetricsService) {
    this.client = llmConfigured(config)
      ? new OpenAI({
          baseURL: config.LLM_BASE_URL,
          apiKey: config.LLM_API_KEY ?? 'not-needed', // local servers accept any key; the SDK insists on one
          timeout: config.LLM_TIMEOUT_MS,
          maxRetries: config.LLM_MAX_RETRIES,
        })
      : null;
    this.duration = metrics.histogram('mz_llm_request_duration_seconds', 'LLM chat completion latency by outcome', ['outcome'], SLOW_BUCKETS);
    this.tokens = metrics.counter('mz_llm_tokens_total', 'LLM tokens used, by type (prompt|completion)', ['type']);
  }

  get configured(): boolean {
    return this.client !== null;
  }

  async analyse(text: string, ctx: ReplyPromptContext): Promise<LlmReplyResult> {
    if (!this.client) throw new ReplyLlmError('LLM_BASE_URL is not configured');
    const started = performance.now();
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.config.LLM_MODEL,
        temperature: 0,
        messages: buildReplyMessages(text, ctx),
        response_format: REPLY_RESPONSE_FORMAT,
      });
    } catch (err) {
      this.duration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      const status = (err as { status?: number }).status;
      throw new ReplyLlmError(`LLM request failed${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message}`.slice(0, 300));
    }
    const ms = Math.round(performance.now() - started);
    const promptTokens = completion.usage?.prompt_tokens ?? 0;
    const completionTokens = completion.usage?.completion_tokens ?? 0;
    this.tokens.inc({ type: 'prompt' }, promptTokens);
    this.tokens.inc({ type: 'completion' }, completionTokens);
    const parsed = parseReplyAnalysis(completion.choices?.[0]?.message?.content);
    this.duration.observe({ outcome: parsed.ok ? 'ok' : 'invalid' }, ms / 1000);
    if (!parsed.ok) throw new ReplyLlmError(`LLM answer outside the reply_analysis schema: ${parsed.issues}`.slice(0, 300));
    return { analysis: parsed.analysis, model: completion.model || this.config.LLM_MODEL, promptTokens, completionTokens, ms };
  }
}
