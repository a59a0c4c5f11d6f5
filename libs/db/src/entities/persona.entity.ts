import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A voice letters are written in: a noted philosopher or scientist. */
@Entity('persona')
export class Persona {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text') era: string;
  @Column('text', { name: 'style_notes' }) styleNotes: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
