import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { SuppressionReason } from '@mz/contracts';

/** Addresses we never send to (hard bounces, complaints, manual). Unique on lower(address). */
@Entity('suppression')
export class Suppression {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') address: string;
  @Column('text') reason: SuppressionReason;
  @Column('text', { nullable: true }) detail: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
