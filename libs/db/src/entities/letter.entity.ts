import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { FailureClass, LetterKind, LetterStatus } from '@mz/contracts';

/**
 * One letter: per (subscription, local date) for scheduled letters — a partial unique index makes
 * a second one for the same day impossible — or per send-now request. The row is the mailer's
 * idempotency ledger: only the transition composed|retrying → sending permits an SMTP send.
 */
@Entity('letter')
export class Letter {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('uuid', { name: 'topic_id' }) topicId: string;
  @Column('text', { default: 'scheduled' }) kind: LetterKind;
  @Column('text', { default: 'scheduled' }) status: LetterStatus;
  @Column('timestamptz', { name: 'scheduled_for' }) scheduledFor: Date;
  @Column('date', { name: 'local_date' }) localDate: string;
  @Column('text', { nullable: true }) subject: string | null;
  @Column('text', { name: 'body_text', nullable: true }) bodyText: string | null;
  @Column('text', { name: 'body_html', nullable: true }) bodyHtml: string | null;
  @Column('text', { nullable: true }) summary: string | null;
  @Column('text', { array: true, default: () => "'{}'" }) themes: string[];
  @Column('text', { nullable: true }) tone: string | null;
  @Column('text', { name: 'advice_focus', nullable: true }) adviceFocus: string | null;
  @Column('text', { name: 'variation_tags', array: true, default: () => "'{}'" }) variationTags: string[];
  @Column('text', { nullable: true }) model: string | null;
  @Column('uuid', { name: 'prompt_template_id', nullable: true }) promptTemplateId: string | null;
  @Column('int', { name: 'prompt_version', nullable: true }) promptVersion: number | null;
  @Column('int', { name: 'prompt_tokens', nullable: true }) promptTokens: number | null;
  @Column('int', { name: 'completion_tokens', nullable: true }) completionTokens: number | null;
  @Column('int', { name: 'compose_ms', nullable: true }) composeMs: number | null;
  /** Of prompt_tokens, those the provider served from its prompt cache. */
  @Column('int', { name: 'cached_tokens', nullable: true }) cachedTokens: number | null;
  /** LLM cost in USD at the model's price (null offline, or for a model without a known price). */
  @Column('numeric', { name: 'cost_usd', precision: 14, scale: 8, nullable: true }) costUsd: string | null;
  /** Degraded mode: why the offline composer wrote this letter although an LLM is configured. */
  @Column('text', { name: 'fallback_reason', nullable: true }) fallbackReason: string | null;
  /** BCP 47 tag the letter was written in ('en' from the offline composer; NULL before languages: English). */
  @Column('text', { nullable: true }) language: string | null;
  @Column('int', { name: 'send_ms', nullable: true }) sendMs: number | null;
  @Column('timestamptz', { name: 'composed_at', nullable: true }) composedAt: Date | null;
  /** Stable Message-ID derived from the id: a resend after a crash carries the same one. */
  @Column('text', { name: 'message_id', unique: true }) messageId: string;
  @Column('int', { default: 0 }) attempts: number;
  @Column('text', { name: 'error_type', nullable: true }) errorType: FailureClass | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('timestamptz', { name: 'next_retry_at', nullable: true }) nextRetryAt: Date | null;
  /** While composing/sending: until when the current worker owns the row (the sweeper re-drives after). */
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  @Column('text', { name: 'smtp_response', nullable: true }) smtpResponse: string | null;
  /** The first delivery event a mail provider reported for this letter, and which provider (MAIL_PROVIDER) said so. */
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
  @Column('text', { name: 'delivered_by', nullable: true }) deliveredBy: string | null;
  @Column('text', { name: 'skip_reason', nullable: true }) skipReason: string | null;
  @Column('uuid', { name: 'quote_id', nullable: true }) quoteId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
