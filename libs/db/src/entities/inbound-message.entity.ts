import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { InboundKind, InboundSource, ReplyIntent } from '@mz/contracts';
import { decimal } from './transformers';

/**
 * Every message we receive, once: unique by Message-ID (a hash of the raw bytes when absent), so
 * re-delivery by any path is a no-op. Raw MIME is kept (size-capped) for audit and re-processing.
 */
@Entity('inbound_message')
export class InboundMessage {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'message_id', unique: true }) messageId: string;
  @Column('bytea') raw: Buffer;
  @Column('int', { name: 'raw_size' }) rawSize: number;
  @Column('boolean', { name: 'raw_truncated', default: false }) rawTruncated: boolean;
  @Column('text') source: InboundSource;
  @Column('text', { name: 'envelope_from', nullable: true }) envelopeFrom: string | null;
  /** SMTP RCPT TO addresses (lower-cased); null on the webhook and IMAP paths. */
  @Column('text', { name: 'envelope_to', array: true, nullable: true }) envelopeTo: string[] | null;
  /** The connecting client's IP (SMTP only): SPF is checked against it. */
  @Column('text', { name: 'remote_address', nullable: true }) remoteAddress: string | null;
  /** The client's EHLO/HELO name (SMTP only). */
  @Column('text', { nullable: true }) helo: string | null;
  @Column('text', { name: 'from_address', nullable: true }) fromAddress: string | null;
  @Column('text', { nullable: true }) subject: string | null;
  @Column('uuid', { name: 'matched_user_id', nullable: true }) matchedUserId: string | null;
  @Column('uuid', { name: 'matched_letter_id', nullable: true }) matchedLetterId: string | null;
  @Column('uuid', { name: 'matched_topic_id', nullable: true }) matchedTopicId: string | null;
  @Column('text', { nullable: true }) kind: InboundKind | null;
  @Column('text', { nullable: true }) intent: ReplyIntent | null;
  @Column('text', { name: 'reply_text', nullable: true }) replyText: string | null;
  @Column('text', { nullable: true }) note: string | null;
  @Column('numeric', { precision: 4, scale: 3, nullable: true, transformer: decimal }) confidence: number | null;
  @Column('jsonb', { nullable: true }) analysis: Record<string, unknown> | null;
  /** A low-confidence unsubscribe (or similar) waiting for an admin to confirm or dismiss. */
  @Column('boolean', { name: 'needs_review', default: false }) needsReview: boolean;
  @Column('timestamptz', { name: 'reviewed_at', nullable: true }) reviewedAt: Date | null;
  @Column('timestamptz', { name: 'processed_at', nullable: true }) processedAt: Date | null;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt: Date;
}
