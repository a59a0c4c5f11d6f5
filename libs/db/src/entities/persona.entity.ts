import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ResponseLength } from '@mz/contracts';
import { decimal } from './transformers';

/** A voice letters are written in: a noted philosopher or scientist. */
@Entity('persona')
export class Persona {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text') era: string;
  @Column('text', { name: 'style_notes' }) styleNotes: string;
  /** 0 steady … 1 surprising; the sampling temperature follows it (libs/contracts temperatureFor). */
  @Column('numeric', { precision: 3, scale: 2, default: 0.5, transformer: decimal }) creativity: number;
  /** short | medium | long: the word target and token budget of its letters. */
  @Column('text', { name: 'response_length', default: 'medium' }) responseLength: ResponseLength;
  /** The editor's extra instructions for this voice, appended to the system message ('' none). */
  @Column('text', { default: '' }) instructions: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
