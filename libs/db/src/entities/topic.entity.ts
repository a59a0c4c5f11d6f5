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
  // The voice settings below override the persona's when set; NULL inherits it.
  /** An explicit sampling temperature instead of the one the creativity maps to. */
  @Column('numeric', { precision: 3, scale: 2, nullable: true, transformer: decimal }) temperature: number | null;
  @Column('text', { name: 'response_length', nullable: true }) responseLength: ResponseLength | null;
  /** 0 (steady, familiar) … 1 (surprising): sets the temperature and how far letters wander from recent themes. */
  @Column('numeric', { precision: 3, scale: 2, nullable: true, transformer: decimal }) creativity: number | null;
  /** Instructions that replace the persona's for this topic. */
  @Column('text', { nullable: true }) instructions: string | null;
  @Column('boolean', { default: true }) active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
