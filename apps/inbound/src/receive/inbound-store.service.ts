import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { type AppConfig, type InboundSource, JobName } from '@mz/contracts';
import { APP_CONFIG, LOGGER, QueueService } from '@mz/platform';
import { InboundMetrics } from '../inbound.metrics';
import { inboundMessageKey } from './message-id';

export interface StoreInput {
  raw: Buffer;
  source: InboundSource;
  /** SMTP MAIL FROM / IMAP Return-Path, when the path knows it. */
  envelopeFrom?: string | null;
  /** SMTP RCPT TO addresses: the signed address the message was sent to (SMTP only). */
  envelopeTo?: string[] | null;
  /** The connecting client's IP and EHLO/HELO name, for SPF (SMTP only). */
  remoteAddress?: string | null;
  helo?: string | null;
  /** The message's full size when `raw` holds only its first bytes (an IMAP partial fetch). */
  fullSize?: number;
}

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
    private readonly ds: DataSource,
    private readonly queues: QueueService,
    private readonly metrics: InboundMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'inbound-store' });
  }

  async store(input: StoreInput): Promise<StoreResult> {
    const max = this.config.INBOUND_SMTP_MAX_BYTES;
    const messageId = inboundMessageKey(input.raw);
    const fullSize = Math.max(input.fullSize ?? 0, input.raw.length);
    const truncated = fullSize > max || fullSize > input.raw.length;
    const envelopeFrom = input.envelopeFrom ? envelopeText(input.envelopeFrom, 320).toLowerCase() || null : null;
    const envelopeTo = input.envelopeTo ? input.envelopeTo.map((a) => envelopeText(a, 320).toLowerCase()).filter(Boolean) : null;
    this.metrics.received.inc({ source: input.source });
    const inserted: { id: string }[] = await this.ds.query(
      `INSERT INTO inbound_message (message_id, raw, raw_size, raw_truncated, source, envelope_from, envelope_to, remote_address, helo)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING id`,
      [messageId, input.raw.length > max ? input.raw.subarray(0, max) : input.raw, fullSize, truncated, input.source, envelopeFrom,
        envelopeTo, (input.remoteAddress && envelopeText(input.remoteAddress, 64)) || null, (input.helo && envelopeText(input.helo, 255)) || null],
    );
    if (inserted.length) {
      const id = inserted[0].id;
      return { id, messageId, duplicate: false, queued: await this.enqueue(id) };
    }
    this.metrics.duplicates.inc({ source: input.source });
    const [existing]: { id: string; processed: boolean }[] = await this.ds.query(
      `SELECT id, processed_at IS NOT NULL AS processed FROM inbound_message WHERE message_id = $1`,
      [messageId],
    );
    // Still unprocessed: make sure its job exists (a no-op when it is waiting or running).
    const queued = existing.processed ? true : await this.enqueue(existing.id);
    return { id: existing.id, messageId, duplicate: true, queued };
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

/**
 * SMTP envelope values (MAIL FROM, RCPT TO, HELO) come from the client as typed: control
 * characters, NUL included, are dropped before they reach a text column (Postgres refuses NUL).
 */
function envelopeText(s: string, max: number): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, max);
}
