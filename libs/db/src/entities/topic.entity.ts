import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ResponseLength } from '@mz/contracts';
import { decimal } from './transformers';

/** What a subscriber can follow. `code` is the short tag in subjects: `[mz:<code>]`. */
@Entity('topic')
export class Topic {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) code: string;
  @Column('text') name: string;
  @Column('text') description: string;
  @Column('uuid', { name: 'persona_id' }) personaId: string;
  /** Overrides LLM_MODEL for this topic when set. */
  @Column('text', { nullable: true }) model: string | null;
  @Column('numeric', { precision: 3, scale: 2, default: 0.7, transformer: decimal }) temperature: number;
  @Column('text', { name: 'response_length', default: 'medium' }) responseLength: ResponseLength;
  /** 0 (steady, familiar) … 1 (surprising): steers how far letters wander from recent themes. */
  @Column('numeric', { precision: 3, scale: 2, default: 0.5, transformer: decimal }) creativity: number;
  @Column('boolean', { default: true }) active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
