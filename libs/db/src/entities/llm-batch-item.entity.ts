import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One letter's request through the provider's Batch API (docs/architecture.md §7), written only by
 * the composer (LlmBatchRepository). `request` is the exact first chat-completion body a synchronous
 * call would send, with its prompt version; `status` pending → submitted (in `batch_id`) → answered
 * (`response`: the result line's body) | failed (`error`) → used, or abandoned when the letter was
 * composed without it. Deleted two days after its outcome (it holds the prompt) or with its letter.
 */
@Entity('llm_batch_item')
export class LlmBatchItem {
  @PrimaryColumn('uuid', { name: 'letter_id' }) letterId: string;
  @Column('jsonb') request: unknown;
  @Column('timestamptz') deadline: Date;
  @Column('text', { default: 'pending' }) status: 'pending' | 'submitted' | 'answered' | 'failed' | 'used' | 'abandoned';
  @Column('text', { name: 'batch_id', nullable: true }) batchId: string | null;
  @Column('jsonb', { nullable: true }) response: unknown;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
