import { Temporal } from 'temporal-polyfill';
import type { ReplyAnalysis } from '@mz/contracts';
import { DEFAULT_PAUSE_DAYS, MAX_PAUSE_DAYS, type RuleIntent, saysDone, unsubscribeNotRequested } from '../analysis';

/** Unclear to the rules and no LLM configured: kept as a note (docs/architecture.md §4, rules only). */
export const UNCLEAR_NOTE_CONFIDENCE = 0.5;
/** The LLM failed: kept as a note, flagged so an admin reads it. */
export const LLM_FAILURE_CONFIDENCE = 0.2;

/** How the intent was decided. */
export type Judgement =
  | { kind: 'rules'; rule: RuleIntent }
  | { kind: 'llm'; analysis: ReplyAnalysis }
  | { kind: 'llm_failed'; error: string }
  /** The rules could not decide and there is no LLM. */
  | { kind: 'unclear' };

interface Base {
  source: Judgement['kind'];
  confidence: number;
  /** The subscriber's own words kept with the progress row (never the model's paraphrase). */
  note: string | null;
}

export type ReplyDecision =
  | { effect: 'none'; source: 'empty'; intent: null; confidence: null; note: null; needsReview: false }
  | (Base & { effect: 'progress'; intent: 'done' | 'note'; completed: boolean; needsReview: boolean; reviewReason: string | null })
  | (Base & { effect: 'unsubscribe'; intent: 'unsubscribe'; needsReview: false })
  | (Base & { effect: 'pause'; intent: 'pause'; pauseUntil: string; needsReview: false });

export interface DecideInput {
  /** extractReplyText's output. */
  text: string;
  judgement: Judgement;
  /** app_config unsubscribe_confidence: an unsubscribe below it is a note flagged for review. */
  unsubscribeConfidence: number;
  /** The subscriber's local date today, YYYY-MM-DD. */
  today: string;
}

/**
 * From what the rules or the model concluded to what we do. Pure: the service applies it in one
 * transaction. Only an unsubscribe is gated by confidence — it is the one effect a subscriber
 * cannot undo by replying again.
 */
export function decideReply({ text, judgement, unsubscribeConfidence, today }: DecideInput): ReplyDecision {
  const words = text.trim();
  if (!words) return { effect: 'none', source: 'empty', intent: null, confidence: null, note: null, needsReview: false };

  switch (judgement.kind) {
    case 'unclear':
      return note('unclear', UNCLEAR_NOTE_CONFIDENCE, words, null);
    case 'llm_failed':
      return note('llm_failed', LLM_FAILURE_CONFIDENCE, words, 'llm_failed');
    case 'rules': {
      const r = judgement.rule;
      return decide('rules', r.intent, r.confidence, r.note, r.pauseUntil, words, unsubscribeConfidence);
    }
    case 'llm': {
      const a = judgement.analysis;
      if (a.intent === 'unsubscribe') {
        // Mixed signals never unsubscribe, whatever the model concluded: a reply that says it is
        // done is done; one whose unsubscribe words are negated, past, quoted or addressed to
        // the classifier is a note for an admin to read.
        if (saysDone(words)) return { effect: 'progress', source: 'llm', intent: 'done', completed: true, confidence: a.confidence, note: words, needsReview: false, reviewReason: null };
        const why = unsubscribeNotRequested(words);
        if (why) return note('llm', a.confidence, words, `mixed_signals:${why}`);
      }
      return decide('llm', a.intent, a.confidence, words, a.intent === 'pause' ? llmPauseUntil(a, today) : null, words, unsubscribeConfidence);
    }
  }
}

function note(source: Judgement['kind'], confidence: number, text: string, reviewReason: string | null): ReplyDecision {
  return { effect: 'progress', source, intent: 'note', completed: false, confidence, note: text, needsReview: reviewReason !== null, reviewReason };
}

function decide(
  source: 'rules' | 'llm',
  intent: RuleIntent['intent'],
  confidence: number,
  keep: string | null,
  pauseUntil: string | null,
  text: string,
  unsubscribeConfidence: number,
): ReplyDecision {
  switch (intent) {
    case 'done':
      return { effect: 'progress', source, intent: 'done', completed: true, confidence, note: keep, needsReview: false, reviewReason: null };
    case 'note':
      return { effect: 'progress', source, intent: 'note', completed: false, confidence, note: keep ?? text, needsReview: false, reviewReason: null };
    case 'unsubscribe':
      if (confidence >= unsubscribeConfidence) return { effect: 'unsubscribe', source, intent: 'unsubscribe', confidence, note: keep, needsReview: false };
      return { ...(note(source, confidence, text, 'low_confidence_unsubscribe') as Extract<ReplyDecision, { effect: 'progress' }>), source };
    case 'pause':
      if (!pauseUntil) return note(source, confidence, text, null);
      return { effect: 'pause', source, intent: 'pause', confidence, note: keep, pauseUntil, needsReview: false };
  }
}

/** The model's pause as the local date letters resume: its date if sane, else today + days. */
export function llmPauseUntil(a: ReplyAnalysis, today: string): string {
  const start = Temporal.PlainDate.from(today);
  const last = start.add({ days: MAX_PAUSE_DAYS });
  if (a.pause_until) {
    try {
      const until = Temporal.PlainDate.from(a.pause_until, { overflow: 'reject' });
      if (Temporal.PlainDate.compare(until, start) > 0 && Temporal.PlainDate.compare(until, last) <= 0) return until.toString();
    } catch {
      // not a real date ("2026-02-30"): fall back to the number of days
    }
  }
  const days = a.pause_days && a.pause_days >= 1 ? Math.min(a.pause_days, MAX_PAUSE_DAYS) : DEFAULT_PAUSE_DAYS;
  return start.add({ days }).toString();
}
