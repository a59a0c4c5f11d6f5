import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { type AppConfig, type FailureClass, JobName, type LetterDraft, type LetterPreview, type PreviewLetterJob } from '@mz/contracts';
import { APP_CONFIG, ClassifiedError, Clock, LOGGER, QueueService, RetryLaterError, type RetryDecision, retryDecision } from '@mz/platform';
import type { ComposeContext, ComposerSettings } from './compose-context';
import { type ClaimedLetter, type ComposedFields, ComposeLetterRepository, type PromptLog, voiceSettings } from './compose-letter.repository';
import { ComposerMetrics } from './composer.metrics';
import { type FallbackReason, fallbackReason } from './degraded-mode';
import { type ChatMessage, classifyLlmError, LlmClient, MalformedLlmOutputError } from '@mz/llm';
import { LlmBatchRepository } from './batch/llm-batch.repository';
import { LetterQualityError, type LetterRequest, type LlmLetter, LlmLetterWriter, MalformedLetterError } from './llm/llm-letter-writer';
import { composeOffline, OFFLINE_LANGUAGE, OFFLINE_MODEL } from './offline/offline-composer';
import { buildPromptMessages, choosePromptVersion, seedFrom } from './prompt/build-prompt';
import { LENGTH_BUDGETS, wordCount } from './quality/letter-guard';
import { renderLetter } from './render/render-letter';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The made-up reader of a preview: enough history that the prompt reads as it will for a real one. */
const SAMPLE_READER: Pick<ComposeContext, 'reader' | 'streak' | 'letterNumber' | 'recentNotes' | 'recentLetters'> = {
  reader: { name: 'Ada', contextNote: 'I work night shifts as a nurse and want steadier habits.', language: 'en' },
  streak: 3,
  letterNumber: 4,
  recentNotes: ['Done — the fifteen minutes before sleep helped.'],
  recentLetters: [],
};

export type ComposeResult =
  | { outcome: 'composed'; model: string; promptVersion: number | null }
  /** No claimable row (already composed, being composed, cancelled…): nothing done. */
  | { outcome: 'not_claimable' }
  | { outcome: 'cancelled'; reason: string }
  /**
   * Waiting for its Batch API answer (docs/architecture.md §7): the letter is `scheduled` again and
   * its compose job must run again at `until` (the deadline for a synchronous call) or earlier.
   */
  | { outcome: 'batched'; until: Date };

/** A letter's first LLM request and the prompt version it came from. */
interface Prepared {
  request: LetterRequest;
  promptTemplateId: string;
  promptVersion: number;
}

/** A draft and what producing it cost: the fields markComposed stores beside the rendered letter. */
interface Written extends Pick<ComposedFields, 'model' | 'promptTemplateId' | 'promptVersion' | 'promptTokens' | 'cachedTokens' | 'completionTokens' | 'costUsd' | 'language'> {
  draft: LetterDraft;
  modelKind: 'llm' | 'offline';
  /** Set when the offline composer stood in for a failing LLM. */
  fallback?: { reason: FallbackReason; error: string };
}

/**
 * What was sent to the LLM in this attempt, for letter_prompt while `log_prompts` is on, and
 * whether the failure (if any) came from the LLM call itself — only those may fall back offline.
 */
interface Trace { prompt: PromptLog | null; llmFailed: boolean }

/**
 * Composes one letter (docs/architecture.md §3.3): claim the row and load its context in one
 * statement, write it with the LLM (or the offline composer when none is configured), normalise
 * and sanitise it, store it as `composed`, and make sure its send job exists, delayed to
 * `scheduled_for`. Failures are classified once and mirrored on the row (`retrying` with the
 * time of the next attempt, or `failed`) before BullMQ is told what to do.
 */
@Injectable()
export class ComposeLetterService {
  private readonly log: Logger;

  constructor(
    private readonly repo: ComposeLetterRepository,
    private readonly llm: LlmClient,
    private readonly writer: LlmLetterWriter,
    private readonly queues: QueueService,
    private readonly metrics: ComposerMetrics,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly batches: LlmBatchRepository,
  ) {
    this.log = logger.child({ component: 'compose-letter' });
  }

  /**
   * `attempt` is 1-based (job.attemptsMade + 1). Throws RetryLaterError (BullMQ retries after its
   * delay) or UnrecoverableError (the letter failed for good).
   */
  async compose(letterId: string, attempt: number): Promise<ComposeResult> {
    const claimed = await this.repo.claim(letterId);
    if (!claimed) return { outcome: 'not_claimable' };
    const { letter, context: loaded } = claimed;
    const started = performance.now();
    const trace: Trace = { prompt: null, llmFailed: false };

    if (!loaded) return this.fail(letter, attempt, new ClassifiedError('permanent', 'letter context is missing (subscription, topic or persona)'), trace);
    if (!loaded.active) {
      await this.repo.markCancelled(letter, 'subscription_inactive');
      this.log.info({ letterId }, 'subscription or user no longer active: letter cancelled');
      return { outcome: 'cancelled', reason: 'subscription_inactive' };
    }
    const ctx: ComposeContext = loaded;
    let written: Written;
    let settings: ComposerSettings | null = null;
    try {
      if (this.llm.configured) {
        settings = await this.repo.loadSettings();
        const step = await this.batchStep(letter, ctx, settings);
        if ('defer' in step) return await this.deferForBatch(letter, step.defer);
        written = await this.writeWithLlm(ctx, settings, trace, step.prepared);
      } else {
        written = this.writeOffline(ctx);
      }
    } catch (err) {
      const failure = classifyLlmError(err);
      const decision = this.decide(failure.failureClass, attempt, failure.retryAfterMs);
      const reason = trace.llmFailed && settings?.offlineFallback
        ? fallbackReason({ err: failure, decision, now: this.clock.now(), scheduledFor: letter.scheduledFor })
        : null;
      if (!reason) return this.fail(letter, attempt, err, trace, failure, decision);
      written = { ...this.writeOffline(ctx), fallback: { reason, error: failure.message } };
      this.metrics.degraded.inc({ reason });
      this.log.warn({ letterId, reason, errorType: failure.failureClass, attempt, error: failure.message }, 'LLM failing: letter written by the offline composer');
    }

    let stored: Awaited<ReturnType<ComposeLetterRepository['markComposed']>>;
    const composeMs = Math.round(performance.now() - started);
    try {
      const rendered = renderLetter(written.draft, ctx.topic.code, ctx.topic.name);
      stored = await this.repo.markComposed(
        letter,
        {
          subject: rendered.subject,
          bodyText: rendered.text,
          bodyHtml: rendered.html,
          summary: written.draft.summary,
          themes: written.draft.themes,
          tone: written.draft.tone,
          adviceFocus: written.draft.advice_focus,
          variationTags: written.draft.variation_tags,
          model: written.model,
          promptTemplateId: written.promptTemplateId,
          promptVersion: written.promptVersion,
          promptTokens: written.promptTokens,
          cachedTokens: written.cachedTokens,
          completionTokens: written.completionTokens,
          costUsd: written.costUsd,
          composeMs,
          fallbackReason: written.fallback?.reason ?? null,
          fallbackError: written.fallback?.error ?? null,
          language: written.language,
          requestedLanguage: ctx.reader.language,
        },
        trace.prompt,
      );
    } catch (err) {
      // The database refusing the draft (a data error) fails the letter with its class instead of
      // leaving it `composing` for the sweeper to re-drive into the same error.
      return this.fail(letter, attempt, err, trace);
    }
    if (!stored) {
      // Cancelled or re-driven by the sweeper while we wrote: the row decides, our draft is dropped.
      this.log.warn({ letterId }, 'letter changed while composing; result discarded');
      return { outcome: 'not_claimable' };
    }
    this.metrics.composed.inc({ model_kind: written.modelKind });
    this.log.info({ letterId, model: written.model, promptVersion: written.promptVersion, composeMs }, 'letter composed');
    await this.enqueueSend(letter);
    return { outcome: 'composed', model: written.model, promptVersion: written.promptVersion };
  }

  /**
   * The console's sample letter: the topic's saved persona and prompt, the voice settings being
   * edited, and a made-up reader, written exactly as a real letter is (LLM with the quality guard,
   * or the offline composer) and rendered — then returned, never stored or sent.
   */
  async preview(job: PreviewLetterJob): Promise<LetterPreview> {
    const loaded = await this.repo.loadPreviewTopic(job.topicId);
    if (!loaded) throw new UnrecoverableError('topic not found');
    const { voice } = job;
    const today = this.clock.now();
    const ctx: ComposeContext = {
      ...loaded,
      letter: { id: randomUUID(), subscriptionId: NIL_UUID, userId: NIL_UUID, topicId: job.topicId, kind: 'send_now', scheduledFor: today, localDate: today.toISOString().slice(0, 10) },
      topic: { ...loaded.topic, ...voiceSettings(voice.temperature, voice.creativity, voice.responseLength) },
      persona: { ...loaded.persona, instructions: voice.instructions },
      ...SAMPLE_READER,
    };
    const trace: Trace = { prompt: null, llmFailed: false };
    let written: Written;
    if (job.offline || !this.llm.configured) {
      written = this.writeOffline(ctx);
    } else {
      const settings = await this.repo.loadSettings();
      try {
        written = await this.writeWithLlm(ctx, settings, trace);
      } catch (err) {
        const failure = classifyLlmError(err);
        if (!trace.llmFailed || !settings.offlineFallback) throw new UnrecoverableError(failure.message);
        const reason = fallbackReason({ err: failure, decision: { retry: false, delayMs: 0 }, now: today, scheduledFor: today });
        written = { ...this.writeOffline(ctx), fallback: { reason: reason ?? 'retries_exhausted', error: failure.message } };
      }
    }
    const rendered = renderLetter(written.draft, ctx.topic.code, ctx.topic.name);
    return {
      subject: rendered.subject,
      bodyText: rendered.text,
      bodyHtml: rendered.html,
      model: written.model,
      temperature: ctx.topic.temperature,
      maxTokens: LENGTH_BUDGETS[ctx.topic.responseLength].maxTokens,
      words: wordCount(written.draft.body),
      promptVersion: written.promptVersion,
      fallbackReason: written.fallback?.reason ?? null,
    };
  }

  /** The letter's first request, exactly as a synchronous call sends it (and a batch line carries it). */
  private prepare(ctx: ComposeContext): Prepared {
    // Seeded by the letter id: a retry of the same letter uses the same A/B version.
    const version = choosePromptVersion(ctx.prompts, seedFrom(`${ctx.letter.id}:prompt`));
    if (!version) throw new ClassifiedError('permanent', `topic "${ctx.topic.code}" has no active prompt version`);
    const messages = buildPromptMessages(ctx, version);
    return {
      request: { model: ctx.topic.model ?? this.llm.defaultModel, temperature: ctx.topic.temperature, messages, guard: guardFor(ctx, messages) },
      promptTemplateId: version.id,
      promptVersion: version.version,
    };
  }

  /**
   * Batch composing (docs/architecture.md §7). The deadline is slot − LLM_BATCH_MARGIN, from the
   * letter's own `scheduled_for`. An answer already in → used as the first answer of a synchronous
   * write (same validation, repair and guard). A request in a batch → wait again until the
   * deadline (it is paid for, whatever the toggle says now); one not yet submitted waits only while
   * the toggle is on. At the deadline it is abandoned (a late answer is then ignored) and the letter
   * composed synchronously, in time for its slot. No request yet, toggle on, topic not excluded
   * (llm_batch_excluded_topics), deadline ahead → the request is stored for the next batch window
   * and we wait. A failed request (expired or failed batch, error line) → synchronous.
   */
  private async batchStep(letter: ClaimedLetter, ctx: ComposeContext, settings: ComposerSettings): Promise<{ defer: Date } | { prepared: Prepared }> {
    const now = this.clock.now();
    const deadline = new Date(letter.scheduledFor.getTime() - this.config.LLM_BATCH_MARGIN);
    // The claim says whether a request exists: letters never batched (most) cost no lookup.
    const item = letter.hasBatchItem === false ? null : await this.batches.find(letter.id);
    if (item?.status === 'answered') {
      const taken = await this.batches.takeAnswer(letter.id);
      if (taken) {
        const { body, promptTemplateId, promptVersion } = taken.request;
        const messages = body.messages as ChatMessage[];
        return {
          prepared: {
            request: {
              model: body.model, temperature: body.temperature ?? ctx.topic.temperature, messages, guard: guardFor(ctx, messages),
              firstAnswer: this.llm.batchCompletion(taken.response, 'letter', body.model),
            },
            promptTemplateId,
            promptVersion,
          },
        };
      }
    }
    if (item && (item.status === 'pending' || item.status === 'submitted')) {
      if (now < deadline && (settings.batchCompose || item.status === 'submitted')) return { defer: deadline };
      await this.batches.abandon(letter.id, now < deadline ? 'batch composing switched off' : 'no batch answer by the deadline');
      this.log.info({ letterId: letter.id, status: item.status }, 'no batch answer in time: composing synchronously');
      return { prepared: this.prepare(ctx) };
    }
    const prepared = this.prepare(ctx);
    const batchable = settings.batchCompose && letter.kind === 'scheduled' && !settings.batchExcludedTopics.includes(ctx.topic.code);
    if (!item && batchable && now < deadline) {
      const request = { body: LlmLetterWriter.firstBody(prepared.request), promptTemplateId: prepared.promptTemplateId, promptVersion: prepared.promptVersion };
      await this.batches.addPending(letter.id, request, deadline);
      return { defer: deadline };
    }
    return { prepared };
  }

  /** Gives the claim back until the batch answer or the deadline; nothing is stored on the letter. */
  private async deferForBatch(letter: ClaimedLetter, until: Date): Promise<ComposeResult> {
    if (!(await this.repo.releaseForBatch(letter, until))) return { outcome: 'not_claimable' };
    this.log.debug({ letterId: letter.id, until }, 'letter waits for its batch answer');
    return { outcome: 'batched', until };
  }

  private async writeWithLlm(ctx: ComposeContext, settings: ComposerSettings, trace: Trace, prepared: Prepared = this.prepare(ctx)): Promise<Written> {
    const { messages } = prepared.request;
    if (settings.logPrompts) trace.prompt = { messages, response: null };
    let result: LlmLetter;
    try {
      result = await this.writer.write(prepared.request);
    } catch (err) {
      // A letter the guard refused is the model's answer, not an LLM outage: it fails, never goes offline.
      trace.llmFailed = !(err instanceof LetterQualityError);
      if (err instanceof MalformedLetterError && settings.logPrompts) trace.prompt = { messages: err.transcript, response: err.rawResponse };
      throw err;
    }
    if (settings.logPrompts) trace.prompt = { messages: result.transcript, response: result.rawResponse };
    return {
      draft: result.draft,
      model: result.model,
      modelKind: 'llm',
      promptTemplateId: prepared.promptTemplateId,
      promptVersion: prepared.promptVersion,
      promptTokens: result.promptTokens,
      cachedTokens: result.cachedTokens,
      completionTokens: result.completionTokens,
      costUsd: result.costUsd,
      language: ctx.reader.language,
    };
  }

  private writeOffline(ctx: ComposeContext): Written {
    return {
      draft: composeOffline(ctx),
      model: OFFLINE_MODEL,
      // The offline composer writes English only, whatever the subscription asks (§3.3): the letter says so.
      language: OFFLINE_LANGUAGE,
      modelKind: 'offline',
      promptTemplateId: null,
      promptVersion: null,
      promptTokens: null,
      cachedTokens: null,
      completionTokens: null,
      costUsd: null,
    };
  }

  /** Mirrors the classified failure on the row, then tells BullMQ: retry after the delay, or stop. */
  private async fail(
    letter: ClaimedLetter,
    attempt: number,
    err: unknown,
    trace: Trace,
    failure = classifyLlmError(err),
    decision = this.decide(failure.failureClass, attempt, failure.retryAfterMs),
  ): Promise<ComposeResult> {
    const cls: FailureClass = failure.failureClass;
    if (!(err instanceof ClassifiedError) && !(err instanceof MalformedLlmOutputError)) {
      // Not an LLM failure (a bug, the database): keep the stack for whoever investigates.
      this.log.error({ err, letterId: letter.id }, 'unexpected error while composing');
    }
    if (decision.retry) {
      const nextRetryAt = new Date(this.clock.now().getTime() + decision.delayMs);
      // Cancelled or re-driven meanwhile: the row is no longer ours to retry.
      if (!(await this.repo.markRetrying(letter.id, cls, failure.message, nextRetryAt, trace.prompt))) return { outcome: 'not_claimable' };
      this.metrics.retries.inc({ stage: 'compose', error_type: cls });
      this.log.warn({ letterId: letter.id, errorType: cls, attempt, delayMs: decision.delayMs, error: failure.message }, 'compose failed; will retry');
      throw new RetryLaterError(decision.delayMs, failure.message);
    }
    if (!(await this.repo.markFailed(letter, cls, failure.message, attempt, trace.prompt))) return { outcome: 'not_claimable' };
    this.metrics.failed.inc({ stage: 'compose', error_type: cls });
    this.log.error({ letterId: letter.id, errorType: cls, attempt, error: failure.message }, 'compose failed for good');
    throw new UnrecoverableError(failure.message);
  }

  private decide(cls: FailureClass, attempt: number, retryAfterMs: number | undefined): RetryDecision {
    return retryDecision(cls, attempt, { retryAfterMs, scale: this.config.RETRY_DELAY_SCALE });
  }

  /**
   * The send job waits until the letter's slot; the sweeper re-creates it if this enqueue is lost.
   * One `add` (job id = letter id), without ensureJob's look-up first (two Redis round trips per
   * letter, docs/performance.md "Issue 14"). The look-up exists to clear a finished job that would
   * swallow the add; none can exist here. A send job is only ever queued for a letter with a body,
   * a letter gets its body once (composing → composed, never cleared), and that just happened:
   * any send job with this id was queued after it — by the sweeper — and is the same job.
   */
  private async enqueueSend(letter: ClaimedLetter): Promise<void> {
    const delay = Math.max(0, letter.scheduledFor.getTime() - this.clock.now().getTime());
    try {
      await this.queues.enqueue(JobName.SendLetter, { v: 1, letterId: letter.id }, { jobId: letter.id, delay });
    } catch (err) {
      this.log.error({ err, letterId: letter.id }, 'could not enqueue the send job; the sweeper will re-drive the composed letter');
    }
  }
}

/** What a letter is checked against: its length budget, the reader's recent letters, and the prompt it was written from. */
function guardFor(ctx: ComposeContext, messages: readonly ChatMessage[]): LetterRequest['guard'] {
  return {
    length: ctx.topic.responseLength,
    recent: ctx.recentLetters.map((l) => ({ localDate: l.localDate, subject: l.subject, opening: l.opening })),
    promptText: messages.map((m) => m.content).join('\n'),
    language: ctx.reader.language,
  };
}
