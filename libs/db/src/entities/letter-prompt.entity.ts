import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The exact messages sent to the LLM for a letter; written only while `log_prompts` is on. */
@Entity('letter_prompt')
export class LetterPrompt {
  @PrimaryColumn('uuid', { name: 'letter_id' }) letterId: string;
  @Column('jsonb') messages: { role: string; content: string }[];
  @Column('text', { nullable: true }) response: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
