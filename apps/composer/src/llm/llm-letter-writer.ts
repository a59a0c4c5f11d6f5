import { Injectable } from '@nestjs/common';
import type { LetterDraft } from '@mz/contracts';
import { type ChatMessage, chatBody, LlmClient, type LlmChatBody, type LlmCompletion, MalformedLlmOutputError } from '@mz/llm';
import { LENGTH_BUDGETS, letterIssues, type LetterGuard } from '../quality/letter-guard';
import { LETTER_RESPONSE_FORMAT, parseLetterDraft } from './letter-response-format';

/** One letter to write: the model and its sampling, the prompt, and what the letter is checked against. */
export interface LetterRequest {
  model: string;
  temperature: number;
  messages: ChatMessage[];
  guard: LetterGuard;
  /**
   * The answer to the first request, already received through the Batch API (docs/architecture.md
   * §7): it is validated, repaired and guarded exactly as if this call had just returned it.
   */
  firstAnswer?: LlmCompletion;
}

export interface LlmLetter {
  draft: LetterDraft;
  model: string;
  /** Summed over every call of this attempt (repair and regeneration included). */
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** USD over every call; null when the model has no known price. */
  costUsd: number | null;
  /** Every message sent, the repair and regeneration exchanges included (for letter_prompt). */
  transcript: ChatMessage[];
  /** The raw content of the answer that was accepted. */
  rawResponse: string;
  repaired: boolean;
  /** Set when the first well-formed letter failed the quality guard and was written again. */
  regenerated: string[] | null;
}

/** Thrown when the answer stays malformed after the repair; carries the exchange for prompt logging. */
export class MalformedLetterError extends MalformedLlmOutputError {
  constructor(issues: string, readonly transcript: ChatMessage[], readonly rawResponse: string) {
    super(issues);
  }
}

/**
 * Thrown when a well-formed letter still fails the quality guard after its one regeneration: a
 * `processing` failure the console shows as `letter quality: …` (never replaced by the offline
 * composer — the LLM answered, and what it wrote must not go out).
 */
export class LetterQualityError extends MalformedLetterError {
  constructor(readonly problems: string[], transcript: ChatMessage[], rawResponse: string) {
    super(problems.join('; '), transcript, rawResponse);
    this.message = `letter quality: ${problems.join('; ')}`;
    this.name = 'LetterQualityError';
  }
}

const MAX_ECHO_CHARS = 16_000;

/**
 * Asks the model for a LetterDraft and validates the answer with the same zod schema. A malformed
 * answer gets exactly one repair attempt: the bad output goes back with the validation error and a
 * request for valid JSON. Still malformed → MalformedLetterError (a `processing` failure). A
 * well-formed letter then passes the quality guard (length budget, no repeated subject or opening,
 * no invented links or addresses) or is written once more with the reasons; failing again →
 * LetterQualityError. Transport failures propagate already classified by the client.
 */
@Injectable()
export class LlmLetterWriter {
  constructor(private readonly llm: LlmClient) {}

  /** The first request's body, exactly as `write` sends it: what a batch line carries. */
  static firstBody(letter: Omit<LetterRequest, 'firstAnswer'>): LlmChatBody {
    return chatBody({ ...LlmLetterWriter.request(letter), messages: letter.messages });
  }

  private static request(letter: Omit<LetterRequest, 'firstAnswer'>) {
    return {
      purpose: 'letter' as const, model: letter.model, temperature: letter.temperature,
      maxTokens: LENGTH_BUDGETS[letter.guard.length].maxTokens, responseFormat: LETTER_RESPONSE_FORMAT,
    };
  }

  async write(letter: LetterRequest): Promise<LlmLetter> {
    const req = LlmLetterWriter.request(letter);
    const calls: LlmCompletion[] = [];
    const ask = async (messages: ChatMessage[]) => {
      const answer = await this.llm.complete({ ...req, messages });
      calls.push(answer);
      return answer;
    };

    let transcript = letter.messages;
    if (letter.firstAnswer) calls.push(letter.firstAnswer);
    let answer = letter.firstAnswer ?? await ask(transcript);
    let parsed = parse(answer);
    let repaired = false;
    if (!parsed.ok) {
      transcript = followUp(transcript, answer,
        `Your previous answer could not be used: ${parsed.issues}. ` +
        'Answer again with only one JSON object that matches the required schema exactly — every field present, no extra fields, no prose and no code fences.');
      answer = await ask(transcript);
      parsed = parse(answer);
      repaired = true;
      if (!parsed.ok) throw new MalformedLetterError(parsed.issues, transcript, answer.content);
    }

    const problems = letterIssues(parsed.draft, letter.guard);
    let regenerated: string[] | null = null;
    if (problems.length) {
      regenerated = problems;
      transcript = followUp(transcript, answer,
        `This letter cannot be sent: ${problems.join('; ')}. Write the letter again, fixing exactly that, as one JSON object matching the schema.`);
      answer = await ask(transcript);
      const again = parse(answer);
      if (!again.ok) throw new MalformedLetterError(again.issues, transcript, answer.content);
      const still = letterIssues(again.draft, letter.guard);
      if (still.length) throw new LetterQualityError(still, transcript, answer.content);
      parsed = again;
    }

    const sum = (k: 'promptTokens' | 'cachedTokens' | 'completionTokens') => calls.reduce((n, c) => n + c[k], 0);
    return {
      draft: parsed.draft,
      model: answer.model,
      promptTokens: sum('promptTokens'),
      cachedTokens: sum('cachedTokens'),
      completionTokens: sum('completionTokens'),
      costUsd: calls.some((c) => c.costUsd === null) ? null : calls.reduce((n, c) => n + (c.costUsd as number), 0),
      transcript,
      rawResponse: answer.content,
      repaired,
      regenerated,
    };
  }
}

/** The conversation so far, the model's answer (capped) and what we ask next. */
function followUp(transcript: ChatMessage[], answer: LlmCompletion, ask: string): ChatMessage[] {
  return [...transcript, { role: 'assistant', content: answer.content.slice(0, MAX_ECHO_CHARS) }, { role: 'user', content: ask }];
}

function parse(res: LlmCompletion) {
  if (!res.content && res.refusal) return { ok: false as const, issues: `the model refused (${res.refusal.slice(0, 120)})` };
  const parsed = parseLetterDraft(res.content);
  if (!parsed.ok && res.finishReason === 'length') return { ok: false as const, issues: `${parsed.issues} (the answer was cut off by the length limit)` };
  return parsed;
}
