import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Footer appended to every letter; one active. Placeholders: {{login_link}}, {{unsubscribe_link}}, {{topic_name}}. */
@Entity('email_footer')
export class EmailFooter {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'text_template' }) textTemplate: string;
  @Column('text', { name: 'html_template' }) htmlTemplate: string;
  @Column('boolean', { default: false }) active: boolean;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
