import { z } from 'zod';
import { RESPONSE_LENGTHS } from './enums';
import { JobName, QueueName } from './queues';

/**
 * Job payloads carry ids and a version, nothing secret and nothing large: the worker reloads
 * the row and moves it through its status. Producers parse before `add`; consumers parse first.
 */
const uuid = z.uuid();

/**
 * W3C Trace Context `traceparent`, version 00 (docs/architecture.md §6): the producer's span, so
 * the worker's span continues the same trace. Lower-case hex; all-zero trace or span ids are
 * invalid by the spec.
 */
export const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/**
 * Every payload may carry it (QueueService adds it when tracing is on); optional, so jobs queued
 * without it (tracing off, or before it existed) still parse.
 */
const traced = { traceparent: z.string().regex(TRACEPARENT, 'expected a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)').optional() };

export const ComposeLetterJob = z.strictObject({ v: z.literal(1), letterId: uuid, ...traced });
export const SendLetterJob = z.strictObject({ v: z.literal(1), letterId: uuid, ...traced });
export const SendLoginLinkJob = z.strictObject({ v: z.literal(1), loginTokenId: uuid, ...traced });
export const ProcessReplyJob = z.strictObject({ v: z.literal(1), inboundMessageId: uuid, ...traced });
/** A verified provider event (bounce, complaint, delivery) stored in `provider_event`. */
export const ProcessProviderEventJob = z.strictObject({ v: z.literal(1), providerEventId: uuid, ...traced });
export const MaintenanceJob = z.strictObject({ v: z.literal(1), ...traced });
/**
 * A sample letter for the console's preview: composed by the real composer from the topic's saved
 * persona and prompt with the voice settings being edited (not yet saved, so they travel in the
 * payload: small, and nothing personal). Nothing is stored or sent; the result is the job's return value.
 */
export const PreviewLetterJob = z.strictObject({
  v: z.literal(1),
  ...traced,
  topicId: uuid,
  voice: z.strictObject({
    creativity: z.number().min(0).max(1),
    responseLength: z.enum(RESPONSE_LENGTHS),
    /** An explicit temperature; null: the one the creativity maps to. */
    temperature: z.number().min(0).max(2).nullable(),
    instructions: z.string().max(4000),
  }),
  /**
   * true: written by the offline composer even when an LLM is configured — the landing page's
   * public sample, so an anonymous visitor never costs an LLM call (docs/architecture.md §5).
   */
  offline: z.boolean().optional(),
});
/** What the preview returns (the job's return value). */
export interface LetterPreview {
  subject: string;
  bodyText: string;
  bodyHtml: string;
  model: string;
  temperature: number;
  maxTokens: number;
  words: number;
  promptVersion: number | null;
  /** Why the offline composer wrote it although an LLM is configured (the LLM failed), or null. */
  fallbackReason: string | null;
}

export type ComposeLetterJob = z.infer<typeof ComposeLetterJob>;
export type SendLetterJob = z.infer<typeof SendLetterJob>;
export type SendLoginLinkJob = z.infer<typeof SendLoginLinkJob>;
export type ProcessReplyJob = z.infer<typeof ProcessReplyJob>;
export type ProcessProviderEventJob = z.infer<typeof ProcessProviderEventJob>;
export type MaintenanceJob = z.infer<typeof MaintenanceJob>;
export type PreviewLetterJob = z.infer<typeof PreviewLetterJob>;

/** Which job lives on which queue, with which payload schema. */
export const JOBS = {
  [JobName.ComposeLetter]: { queue: QueueName.LettersCompose, schema: ComposeLetterJob },
  [JobName.PreviewLetter]: { queue: QueueName.LettersCompose, schema: PreviewLetterJob },
  [JobName.SendLetter]: { queue: QueueName.LettersSend, schema: SendLetterJob },
  [JobName.SendLoginLink]: { queue: QueueName.MailTransactional, schema: SendLoginLinkJob },
  [JobName.ProcessReply]: { queue: QueueName.RepliesProcess, schema: ProcessReplyJob },
  [JobName.ProcessProviderEvent]: { queue: QueueName.RepliesProcess, schema: ProcessProviderEventJob },
  [JobName.CleanupExpiredAuth]: { queue: QueueName.Maintenance, schema: MaintenanceJob },
  [JobName.RollupKpis]: { queue: QueueName.Maintenance, schema: MaintenanceJob },
  [JobName.SweepStuckLetters]: { queue: QueueName.Maintenance, schema: MaintenanceJob },
  /** The composer's batch window: submit pending batch requests, collect finished batches (docs/architecture.md §7). */
  [JobName.LlmBatch]: { queue: QueueName.LlmBatch, schema: MaintenanceJob },
} as const satisfies Record<JobName, { queue: QueueName; schema: z.ZodType }>;

export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;

export class InvalidJobPayloadError extends Error {
  constructor(readonly jobName: string, readonly issues: string) {
    super(`invalid payload for job "${jobName}": ${issues}`);
    this.name = 'InvalidJobPayloadError';
  }
}

/** Validates a payload for a job name; throws InvalidJobPayloadError listing every issue. */
export function parseJobPayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const spec = JOBS[name];
  if (!spec) throw new InvalidJobPayloadError(String(name), 'unknown job name');
  const result = spec.schema.safeParse(data);
  if (!result.success) {
    throw new InvalidJobPayloadError(name, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return result.data as JobPayload<N>;
}
