import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What a reply told us: the subscriber did it (completed) and/or left a note, per letter. */
@Entity('progress')
export class Progress {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId: string;
  @Column('uuid', { name: 'letter_id', nullable: true }) letterId: string | null;
  @Column('uuid', { name: 'inbound_message_id', nullable: true }) inboundMessageId: string | null;
  @Column('boolean', { default: false }) completed: boolean;
  @Column('text', { nullable: true }) note: string | null;
  @Column('int', { name: 'streak_at_time', default: 0 }) streakAtTime: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
