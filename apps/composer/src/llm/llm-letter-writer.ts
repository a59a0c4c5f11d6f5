import { Injectable } from '@nestjs/common';
import type { LetterDraft } from '@mz/contracts';
import { type ChatMessage, LlmClient, type LlmCompletion, MalformedLlmOutputError } from '@mz/llm';
import { LETTER_RESPONSE_FORMAT, parseLetterDraft } from './letter-response-format';

/** One letter to write: the model and its sampling, and the prompt. */
export interface LetterRequest {
  model: string;
  temperature: number;
  messages: ChatMessage[];
}

export interface LlmLetter {
  draft: LetterDraft;
  model: string;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** USD over both calls when repaired; null when the model has no known price. */
  costUsd: number | null;
  /** Every message sent, the repair exchange included (for letter_prompt). */
  transcript: ChatMessage[];
  /** The raw content of the answer that was accepted. */
  rawResponse: string;
  repaired: boolean;
}

/** Thrown when the answer stays malformed after the repair; carries the exchange for prompt logging. */
export class MalformedLetterError extends MalformedLlmOutputError {
  constructor(issues: string, readonly transcript: ChatMessage[], readonly rawResponse: string) {
    super(issues);
  }
}

const MAX_ECHO_CHARS = 16_000;

/**
 * Asks the model for a LetterDraft and validates the answer with the same zod schema. A malformed
 * answer gets exactly one repair attempt: the bad output goes back with the validation error and
 * a request for valid JSON. Still malformed → MalformedLetterError (a `processing` failure).
 * Transport failures propagate already classified by the client.
 */
@Injectable()
export class LlmLetterWriter {
  constructor(private readonly llm: LlmClient) {}

  async write(letter: LetterRequest): Promise<LlmLetter> {
    const req = { ...letter, purpose: 'letter' as const, responseFormat: LETTER_RESPONSE_FORMAT };
    const first = await this.llm.complete(req);
    const parsed = parse(first);
    if (parsed.ok) return this.result(req.messages, first, parsed.draft, first, false);

    const transcript: ChatMessage[] = [
      ...req.messages,
      { role: 'assistant', content: first.content.slice(0, MAX_ECHO_CHARS) },
      {
        role: 'user',
        content:
          `Your previous answer could not be used: ${parsed.issues}. ` +
          'Answer again with only one JSON object that matches the required schema exactly — every field present, no extra fields, no prose and no code fences.',
      },
    ];
    const second = await this.llm.complete({ ...req, messages: transcript });
    const repaired = parse(second);
    if (!repaired.ok) throw new MalformedLetterError(repaired.issues, transcript, second.content);
    return this.result(transcript, second, repaired.draft, first, true);
  }

  private result(transcript: ChatMessage[], answer: LlmCompletion, draft: LetterDraft, first: LlmCompletion, repaired: boolean): LlmLetter {
    const both = <K extends 'promptTokens' | 'cachedTokens' | 'completionTokens'>(k: K) => answer[k] + (repaired ? first[k] : 0);
    return {
      draft,
      model: answer.model,
      promptTokens: both('promptTokens'),
      cachedTokens: both('cachedTokens'),
      completionTokens: both('completionTokens'),
      costUsd: answer.costUsd === null || (repaired && first.costUsd === null) ? null : answer.costUsd + (repaired ? (first.costUsd as number) : 0),
      transcript,
      rawResponse: answer.content,
      repaired,
    };
  }
}

function parse(res: LlmCompletion) {
  if (!res.content && res.refusal) return { ok: false as const, issues: `the model refused (${res.refusal.slice(0, 120)})` };
  const parsed = parseLetterDraft(res.content);
  if (!parsed.ok && res.finishReason === 'length') return { ok: false as const, issues: `${parsed.issues} (the answer was cut off by the length limit)` };
  return parsed;
}
