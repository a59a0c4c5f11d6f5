/**
 * The composer's decisions with its repository, LLM and queue mocked (no Postgres, no HTTP):
 * what happens to a letter whose context is gone or inactive, when a failure is retried, failed
 * for good or written offline instead, and that a send is queued only for a letter we stored.
 * The same paths against real Postgres and the fake LLM server are in compose-letter.int-spec.ts.
 */
import { UnrecoverableError } from 'bullmq';
import pino from 'pino';
import type { AppConfig } from '@mz/contracts';
import type { LlmClient } from '@mz/llm';
import { ClassifiedError, Clock, MetricsService, type QueueService, RetryLaterError } from '@mz/platform';
import { sampleContext } from './compose-context.fixture';
import type { BatchItem, LlmBatchRepository } from './batch/llm-batch.repository';
import type { ClaimedLetter, ComposeLetterRepository } from './compose-letter.repository';
import { ComposeLetterService } from './compose-letter.service';
import { ComposerMetrics } from './composer.metrics';
import { LetterQualityError, type LlmLetterWriter } from './llm/llm-letter-writer';

const NOW = new Date('2026-12-04T06:00:00Z');
const HOUR = 3_600_000;
const config = { RETRY_DELAY_SCALE: 1, LLM_BATCH_MARGIN: HOUR } as AppConfig;
const sampleDraft = { subject: 'Sur la patience', body: 'Chère amie, ceci est une lettre.', summary: 'Patience.', themes: ['patience'], tone: 'warm', advice_focus: 'attendre', variation_tags: ['x'] };

function setup(o: { slotIn?: number; llm?: boolean; active?: boolean; context?: boolean; claimable?: boolean; fallback?: boolean; language?: string; batch?: boolean; excluded?: string[]; item?: Partial<BatchItem> | null } = {}) {
  const base = sampleContext();
  const ctx = { ...base, reader: { ...base.reader, language: o.language ?? 'en' } };
  const letter: ClaimedLetter = { ...ctx.letter, scheduledFor: new Date(NOW.getTime() + (o.slotIn ?? 2 * HOUR)) };
  const repo = {
    claim: jest.fn(async () => (o.claimable === false ? null : { letter, context: o.context === false ? null : { ...ctx, letter, active: o.active ?? true } })),
    loadSettings: jest.fn(async () => ({ logPrompts: false, offlineFallback: o.fallback ?? true, batchCompose: o.batch ?? false, batchExcludedTopics: o.excluded ?? [] })),
    releaseForBatch: jest.fn(async () => true),
    markComposed: jest.fn(async () => true),
    markRetrying: jest.fn(async () => true),
    markFailed: jest.fn(async () => true),
    markCancelled: jest.fn(async () => true),
  };
  const writer = { write: jest.fn() };
  const llm = { configured: o.llm ?? true, defaultModel: 'model-under-test', batchCompletion: jest.fn(() => ({ content: '{}', refusal: null, finishReason: 'stop', model: 'm', promptTokens: 1, cachedTokens: 0, completionTokens: 1, costUsd: 0.5, ms: 0 })) };
  const queues = { enqueue: jest.fn(async () => ({ id: 'job' })) };
  const batches = {
    find: jest.fn(async () => (o.item ? ({ letterId: letter.id, ...o.item } as BatchItem) : null)),
    takeAnswer: jest.fn(async () => (o.item?.status === 'answered' ? ({ letterId: letter.id, ...o.item } as BatchItem) : null)),
    addPending: jest.fn(async () => true),
    abandon: jest.fn(async () => undefined),
  };
  const service = new ComposeLetterService(
    repo as unknown as ComposeLetterRepository, llm as unknown as LlmClient, writer as unknown as LlmLetterWriter,
    queues as unknown as QueueService, new ComposerMetrics(new MetricsService('composer-spec')), { now: () => NOW } as Clock, config, pino({ level: 'silent' }),
    batches as unknown as LlmBatchRepository,
  );
  return { service, repo, writer, queues, letter, batches, llm };
}

describe('ComposeLetterService decisions (repository, LLM and queue mocked)', () => {
  it('nothing claimable: nothing written, nothing queued', async () => {
    const { service, repo, queues } = setup({ claimable: false });
    await expect(service.compose('x', 1)).resolves.toEqual({ outcome: 'not_claimable' });
    expect(repo.markComposed).not.toHaveBeenCalled();
    expect(queues.enqueue).not.toHaveBeenCalled();
  });

  it('a subscription gone inactive: cancelled, no LLM call', async () => {
    const { service, repo, writer } = setup({ active: false });
    await expect(service.compose('x', 1)).resolves.toEqual({ outcome: 'cancelled', reason: 'subscription_inactive' });
    expect(repo.markCancelled).toHaveBeenCalledWith(expect.objectContaining({ id: sampleContext().letter.id }), 'subscription_inactive');
    expect(writer.write).not.toHaveBeenCalled();
  });

  it('missing context (topic or persona deleted): failed for good as permanent', async () => {
    const { service, repo } = setup({ context: false });
    await expect(service.compose('x', 1)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(repo.markFailed).toHaveBeenCalledWith(expect.anything(), 'permanent', expect.stringContaining('context is missing'), 1, null);
  });

  it('no LLM configured: written offline, stored, then the send queued for the slot', async () => {
    const { service, repo, queues, letter } = setup({ llm: false });
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', model: 'offline' });
    expect(repo.markComposed).toHaveBeenCalledWith(letter, expect.objectContaining({ model: 'offline', fallbackReason: null }), null);
    expect(queues.enqueue).toHaveBeenCalledWith('send-letter', { v: 1, letterId: letter.id }, { jobId: letter.id, delay: 2 * HOUR });
  });

  it('no LLM for a German subscription: written in English, and the letter says so (language en, requested de)', async () => {
    const { service, repo } = setup({ llm: false, language: 'de-AT' });
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', model: 'offline' });
    expect(repo.markComposed).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ model: 'offline', language: 'en', requestedLanguage: 'de-AT' }), null);
  });

  it('the LLM writes in the subscription\'s language and asks the guard to check it', async () => {
    const { service, repo, writer } = setup({ language: 'fr' });
    writer.write.mockResolvedValue({ draft: sampleDraft, model: 'm', transcript: [], rawResponse: '{}', promptTokens: 1, cachedTokens: 0, completionTokens: 1, costUsd: null });
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', model: 'm' });
    const call = writer.write.mock.calls[0][0];
    expect(call.guard.language).toBe('fr');
    expect(call.messages.at(-1).content).toContain('in French (BCP 47: fr)');
    expect(call.messages[0].content).not.toContain('French');
    expect(repo.markComposed).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ language: 'fr' }), null);
  });

  it('a rate limit with the slot far away: retrying at the backoff, not written offline', async () => {
    const { service, repo, writer } = setup();
    writer.write.mockRejectedValue(new ClassifiedError('rate_limit', '429 slow down'));
    await expect(service.compose('x', 1)).rejects.toBeInstanceOf(RetryLaterError);
    expect(repo.markRetrying).toHaveBeenCalledWith(sampleContext().letter.id, 'rate_limit', expect.any(String), expect.any(Date), null);
    expect(repo.markComposed).not.toHaveBeenCalled();
  });

  it('the LLM failing with the slot near: the offline composer writes it, marked degraded', async () => {
    const { service, repo, writer } = setup({ slotIn: 30_000 });
    writer.write.mockRejectedValue(new ClassifiedError('network', 'connection reset'));
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', model: 'offline' });
    expect(repo.markComposed).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ fallbackReason: 'slot_near', fallbackError: expect.stringContaining('connection reset') }), null);
  });

  it('degraded mode for a Spanish subscription: the stand-in letter is English, and says so', async () => {
    const { service, repo, writer } = setup({ slotIn: 30_000, language: 'es' });
    writer.write.mockRejectedValue(new ClassifiedError('network', 'connection reset'));
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', model: 'offline' });
    expect(repo.markComposed).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ fallbackReason: 'slot_near', language: 'en', requestedLanguage: 'es' }), null);
  });

  it('…unless the admin turned the fallback off: then it retries', async () => {
    const { service, repo, writer } = setup({ slotIn: 30_000, fallback: false });
    writer.write.mockRejectedValue(new ClassifiedError('network', 'connection reset'));
    await expect(service.compose('x', 1)).rejects.toBeInstanceOf(RetryLaterError);
    expect(repo.markComposed).not.toHaveBeenCalled();
  });

  it('a letter the quality guard refused is never replaced by the offline composer', async () => {
    const { service, repo, writer } = setup({ slotIn: 30_000 });
    writer.write.mockRejectedValue(new LetterQualityError(['repeats a recent subject'], [], '{}'));
    await expect(service.compose('x', 1)).rejects.toBeInstanceOf(RetryLaterError);
    expect(repo.markRetrying).toHaveBeenCalledWith(expect.any(String), 'processing', expect.stringContaining('letter quality'), expect.any(Date), null);
    expect(repo.markComposed).not.toHaveBeenCalled();
  });

  it('the row changed while we wrote: the draft is dropped and no send is queued', async () => {
    const { service, repo, queues } = setup({ llm: false });
    repo.markComposed.mockResolvedValue(false);
    await expect(service.compose('x', 1)).resolves.toEqual({ outcome: 'not_claimable' });
    expect(queues.enqueue).not.toHaveBeenCalled();
  });
});

describe('batch composing decisions (docs/architecture.md §7)', () => {
  const draft = { subject: 'S', body: 'B', summary: 'x', themes: ['a'], tone: 'warm', advice_focus: 'f', variation_tags: ['t'] };
  const llmLetter = { draft, model: 'm', promptTokens: 1, cachedTokens: 0, completionTokens: 1, costUsd: 0.5, transcript: [], rawResponse: '{}', repaired: false, regenerated: null };

  it('toggle on, slot further than the margin, no request yet: the request is stored and the letter waits until slot − margin, no LLM call', async () => {
    const { service, repo, writer, batches, letter } = setup({ batch: true, slotIn: 5 * HOUR });
    await expect(service.compose('x', 1)).resolves.toEqual({ outcome: 'batched', until: new Date(NOW.getTime() + 4 * HOUR) });
    const [id, request, deadline] = batches.addPending.mock.calls[0] as unknown as [string, { body: { model: string; messages: unknown[]; response_format: unknown } }, Date];
    expect(id).toBe(letter.id);
    expect(request.body).toMatchObject({ model: 'model-under-test', response_format: { type: 'json_schema' } });
    expect(request.body.messages.length).toBeGreaterThan(0);
    expect(deadline).toEqual(new Date(NOW.getTime() + 4 * HOUR));
    expect(repo.releaseForBatch).toHaveBeenCalledWith(letter, deadline);
    expect(writer.write).not.toHaveBeenCalled();
  });

  it('toggle off, a slot inside the margin, or an excluded topic: composed synchronously, nothing stored for a batch', async () => {
    for (const o of [{ batch: false, slotIn: 5 * HOUR }, { batch: true, slotIn: 30 * 60_000 }, { batch: true, slotIn: 5 * HOUR, excluded: [sampleContext().topic.code] }]) {
      const { service, writer, batches } = setup(o);
      writer.write.mockResolvedValue(llmLetter);
      await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed' });
      expect(batches.addPending).not.toHaveBeenCalled();
    }
  });

  it('a request still waiting at its deadline is abandoned and the letter composed synchronously', async () => {
    const { service, writer, batches } = setup({ batch: true, slotIn: 30 * 60_000, item: { status: 'submitted', deadline: new Date(NOW.getTime() - 30 * 60_000) } });
    writer.write.mockResolvedValue(llmLetter);
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed' });
    expect(batches.abandon).toHaveBeenCalledWith(expect.any(String), 'no batch answer by the deadline');
    expect(writer.write.mock.calls[0][0].firstAnswer).toBeUndefined();
  });

  it('toggle switched off meanwhile: a request already in a batch is still waited for, one not yet submitted is dropped', async () => {
    const submitted = setup({ batch: false, slotIn: 5 * HOUR, item: { status: 'submitted', deadline: new Date(NOW.getTime() + 4 * HOUR) } });
    await expect(submitted.service.compose('x', 1)).resolves.toEqual({ outcome: 'batched', until: new Date(NOW.getTime() + 4 * HOUR) });
    expect(submitted.writer.write).not.toHaveBeenCalled();

    const pending = setup({ batch: false, slotIn: 5 * HOUR, item: { status: 'pending', deadline: new Date(NOW.getTime() + 4 * HOUR) } });
    pending.writer.write.mockResolvedValue(llmLetter);
    await expect(pending.service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed' });
    expect(pending.batches.abandon).toHaveBeenCalledWith(expect.any(String), 'batch composing switched off');
  });

  it('an answered request is taken and written as the first answer (same validation), with the batch request\'s prompt version', async () => {
    const body = { model: 'batch-model', temperature: 0.5, messages: [{ role: 'user', content: 'hi' }] };
    const { service, writer, repo, llm } = setup({ batch: true, slotIn: 5 * HOUR, item: { status: 'answered', deadline: new Date(NOW.getTime() + 4 * HOUR), request: { body, promptTemplateId: 'pt', promptVersion: 7 } as never, response: { choices: [] } } });
    writer.write.mockResolvedValue(llmLetter);
    await expect(service.compose('x', 1)).resolves.toMatchObject({ outcome: 'composed', promptVersion: 7 });
    expect(llm.batchCompletion).toHaveBeenCalledWith({ choices: [] }, 'letter', 'batch-model');
    expect(writer.write.mock.calls[0][0]).toMatchObject({ model: 'batch-model', temperature: 0.5, messages: body.messages, firstAnswer: { costUsd: 0.5 } });
    expect(repo.markComposed).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ promptTemplateId: 'pt', promptVersion: 7 }), null);
  });
});
