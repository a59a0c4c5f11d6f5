import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Runtime toggles an admin can flip without a deploy (`log_prompts`, `sending_paused`, …). */
@Entity('app_config')
export class AppConfigEntry {
  @PrimaryColumn('text') key: string;
  @Column('jsonb') value: unknown;
  @Column('text', { nullable: true }) description: string | null;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy: string | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
