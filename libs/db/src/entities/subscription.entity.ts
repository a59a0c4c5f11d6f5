import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/**
 * A user following a topic, with when and where they want the letter. `next_run_at` is the
 * scheduler's cursor (partial index WHERE enabled); `last_scheduled_local_date` enforces one
 * scheduled letter per local date across changes of time or zone.
 */
@Entity('subscription')
@Unique('subscription_user_topic_key', ['userId', 'topicId'])
export class Subscription {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('uuid', { name: 'topic_id' }) topicId: string;
  @Column('boolean', { default: true }) enabled: boolean;
  @Column('text', { name: 'context_note', nullable: true }) contextNote: string | null;
  /** 'HH:MM' wall-clock time in `timezone`. */
  @Column('text', { name: 'send_time_local', default: '07:30' }) sendTimeLocal: string;
  /** IANA zone name. */
  @Column('text', { default: 'UTC' }) timezone: string;
  /** Canonical BCP 47 tag the letters are written in (docs/architecture.md §3.3). */
  @Column('text', { default: 'en' }) language: string;
  @Column('timestamptz', { name: 'next_run_at', nullable: true }) nextRunAt: Date | null;
  @Column('date', { name: 'last_scheduled_local_date', nullable: true }) lastScheduledLocalDate: string | null;
  @Column('timestamptz', { name: 'paused_until', nullable: true }) pausedUntil: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
