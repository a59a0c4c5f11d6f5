import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A versioned prompt for a topic. Versions are immutable (a trigger refuses changes to the text);
 * only `active` and `weight` change. Several active versions → weighted A/B choice per letter.
 * Placeholders in user_template: {{topic_name}}, {{topic_description}}, {{persona_name}}, {{streak}}, …
 */
@Entity('prompt_template')
@Unique('prompt_template_topic_version_key', ['topicId', 'version'])
export class PromptTemplate {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'topic_id' }) topicId: string;
  @Column('int') version: number;
  @Column('text', { name: 'system_template' }) systemTemplate: string;
  @Column('text', { name: 'user_template' }) userTemplate: string;
  @Column('text', { name: 'change_note', nullable: true }) changeNote: string | null;
  @Column('boolean', { default: false }) active: boolean;
  /** Relative weight among active versions of the topic (A/B). */
  @Column('int', { default: 100 }) weight: number;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
