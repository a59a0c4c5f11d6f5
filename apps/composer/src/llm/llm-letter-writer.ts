import { Injectable } from '@nestjs/common';
import type { LetterDraft } from '@mz/contracts';
import type { ChatMessage } from '../prompt/build-prompt';
import { MalformedLlmOutputError } from './classify-llm-error';
import { parseLetterDraft } from './letter-response-format';
import { LlmClient, type LlmRequest, type LlmResponse } from './llm.client';

export interface LlmLetter {
  draft: LetterDraft;
  model: string;
  promptTokens: number;
  completionTokens: number;
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

  async write(req: LlmRequest): Promise<LlmLetter> {
    const first = await this.llm.completeLetter(req);
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
    const second = await this.llm.completeLetter({ ...req, messages: transcript });
    const repaired = parse(second);
    if (!repaired.ok) throw new MalformedLetterError(repaired.issues, transcript, second.content);
    return this.result(transcript, second, repaired.draft, first, true);
  }

  private result(transcript: ChatMessage[], answer: LlmResponse, draft: LetterDraft, first: LlmResponse, repaired: boolean): LlmLetter {
    return {
      draft,
      model: answer.model,
      promptTokens: answer.promptTokens + (repaired ? first.promptTokens : 0),
      completionTokens: answer.completionTokens + (repaired ? first.completionTokens : 0),
      transcript,
      rawResponse: answer.content,
      repaired,
    };
  }
}

function parse(res: LlmResponse) {
  if (!res.content && res.refusal) return { ok: false as const, issues: `the model refused (${res.refusal.slice(0, 120)})` };
  const parsed = parseLetterDraft(res.content);
  if (!parsed.ok && res.finishReason === 'length') return { ok: false as const, issues: `${parsed.issues} (the answer was cut off by the length limit)` };
  return parsed;
}
