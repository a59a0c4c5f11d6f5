import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Daily rollup (maintenance job) behind the console's metrics: per topic and prompt version. */
@Entity('kpi_daily')
export class KpiDaily {
  @PrimaryColumn('date') day: string;
  @PrimaryColumn('uuid', { name: 'topic_id' }) topicId: string;
  /** 0 when the letter had no prompt version (offline composer). */
  @PrimaryColumn('int', { name: 'prompt_version' }) promptVersion: number;
  @Column('int', { default: 0 }) sent: number;
  @Column('int', { default: 0 }) failed: number;
  @Column('int', { default: 0 }) replies: number;
  @Column('int', { default: 0 }) done: number;
  @Column('int', { name: 'lateness_p50_ms', nullable: true }) latenessP50Ms: number | null;
  @Column('int', { name: 'lateness_p99_ms', nullable: true }) latenessP99Ms: number | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
