import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { EventType } from '@mz/contracts';

/** Append-only audit trail of what happened and who did it (admin actions included). */
@Entity('event_log')
export class EventLog {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  @Column('text') type: EventType;
  /** 'system', 'scheduler', … or the acting admin's user id. */
  @Column('text', { default: 'system' }) actor: string;
  @Column('uuid', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('uuid', { name: 'letter_id', nullable: true }) letterId: string | null;
  @Column('uuid', { name: 'subscription_id', nullable: true }) subscriptionId: string | null;
  @Column('jsonb', { default: () => "'{}'" }) metadata: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
