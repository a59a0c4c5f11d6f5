import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { type AppConfig, JobName } from '@mz/contracts';
import { InboundMessageRepository, type StoreInboundInput } from '@mz/db';
import { APP_CONFIG, LOGGER, QueueService, SpanKind, tracingEnabled, withSpan } from '@mz/platform';
import { InboundMetrics } from '../inbound.metrics';

export type StoreInput = StoreInboundInput;

export interface StoreResult {
  id: string;
  /** The key the row is unique on: `<Message-ID>` or `sha256:<hex>`. */
  messageId: string;
  /** The same message was stored before (by any path): nothing new was queued. */
  duplicate: boolean;
  /** False when Redis refused the job; the re-drive picks the row up later. */
  queued: boolean;
}

/**
 * The one way a received message enters the system, whatever carried it (SMTP, IMAP, webhook):
 * insert the raw bytes once per Message-ID, commit, then queue `process-reply` with job id = row
 * id. The row is the truth: a duplicate delivery inserts nothing and queues nothing new, and a
 * job lost between commit and enqueue is rebuilt from the row by the re-drive.
 */
@Injectable()
export class InboundStore {
  private readonly logger: Logger;

  constructor(
    private readonly messages: InboundMessageRepository,
    private readonly queues: QueueService,
    private readonly metrics: InboundMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'inbound-store' });
  }

  /**
   * With tracing on, a reply's trace starts here (docs/architecture.md §6): `reply.receive` with a
   * child `reply.store` for the insert and the producer span of its `replies.process` job, which
   * the worker continues. Attributes are the path, the row id and sizes — no addresses, no text.
   */
  store(input: StoreInput): Promise<StoreResult> {
    if (!tracingEnabled()) return this.storeAndEnqueue(input);
    return withSpan('reply.receive', { kind: SpanKind.SERVER, attributes: { 'mz.inbound.source': input.source } }, async (span) => {
      const result = await this.storeAndEnqueue(input);
      span?.setAttributes({ 'mz.inbound_message.id': result.id, 'mz.inbound.duplicate': result.duplicate });
      return result;
    });
  }

  private async storeAndEnqueue(input: StoreInput): Promise<StoreResult> {
    this.metrics.received.inc({ source: input.source });
    const stored = await withSpan('reply.store', {}, async (s) => {
      const row = await this.messages.store(input, this.config.INBOUND_SMTP_MAX_BYTES);
      s?.setAttributes({ 'mz.inbound_message.id': row.id, 'mz.inbound.duplicate': row.duplicate });
      return row;
    });
    if (!stored.duplicate) return { id: stored.id, messageId: stored.messageId, duplicate: false, queued: await this.enqueue(stored.id) };
    this.metrics.duplicates.inc({ source: input.source });
    // Still unprocessed: make sure its job exists (a no-op when it is waiting or running).
    const queued = stored.processed ? true : await this.enqueue(stored.id);
    return { id: stored.id, messageId: stored.messageId, duplicate: true, queued };
  }

  /** Queues (or confirms) the processing job of a stored row; job id = row id. */
  async enqueue(id: string): Promise<boolean> {
    try {
      await this.queues.ensureJob(JobName.ProcessReply, { v: 1, inboundMessageId: id }, id);
      return true;
    } catch (err) {
      this.logger.warn({ err, inboundMessageId: id }, 'inbound message stored but not queued; the re-drive will queue it');
      return false;
    }
  }
}
