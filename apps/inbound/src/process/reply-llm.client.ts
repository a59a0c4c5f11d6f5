import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig, type ReplyAnalysis } from '@mz/contracts';
import { LlmClient } from '@mz/llm';
import { APP_CONFIG } from '@mz/platform';
import { buildReplyMessages, parseReplyAnalysis, REPLY_RESPONSE_FORMAT, type ReplyPromptContext } from './reply-prompt';

export interface LlmReplyResult {
  analysis: ReplyAnalysis;
  model: string;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** USD at the model's price; null for a model with no known price. */
  costUsd: number | null;
  ms: number;
}

/** Why the model gave us nothing usable (the caller keeps the reply as a flagged note). */
export class ReplyLlmError extends Error {
  override readonly name = 'ReplyLlmError';
}

/**
 * Replies the rules could not settle, asked of the one LLM client (libs/llm) with the
 * `reply_analysis` JSON schema at temperature 0. A call that still fails after the SDK's retries,
 * or an answer outside the schema, throws ReplyLlmError.
 */
@Injectable()
export class ReplyLlmClient {
  constructor(private readonly llm: LlmClient, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get configured(): boolean {
    return this.llm.configured;
  }

  async analyse(text: string, ctx: ReplyPromptContext): Promise<LlmReplyResult> {
    if (!this.llm.configured) throw new ReplyLlmError('LLM_BASE_URL is not configured');
    let answer;
    try {
      answer = await this.llm.complete({
        purpose: 'reply', model: this.config.LLM_MODEL, temperature: 0, messages: buildReplyMessages(text, ctx), responseFormat: REPLY_RESPONSE_FORMAT,
      });
    } catch (err) {
      throw new ReplyLlmError(`LLM request failed: ${(err as Error).message}`.slice(0, 300));
    }
    const parsed = parseReplyAnalysis(answer.content);
    if (!parsed.ok) throw new ReplyLlmError(`LLM answer outside the reply_analysis schema: ${parsed.issues}`.slice(0, 300));
    const { model, promptTokens, cachedTokens, completionTokens, costUsd, ms } = answer;
    return { analysis: parsed.analysis, model, promptTokens, cachedTokens, completionTokens, costUsd, ms };
  }
}
