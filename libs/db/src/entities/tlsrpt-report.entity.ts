import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One policy's counts in a TLS report: failures summed by result type and receiving MX. */
export interface TlsRptPolicyCounts {
  policyType: string;
  mxHost: string[];
  successful: number;
  failed: number;
  failures: { resultType: string; receivingMxHostname: string | null; failed: number }[];
}

/**
 * A TLS report (RFC 8460) about deliveries to REPLY_DOMAIN, stored once per organisation and
 * report id (a re-delivery is a no-op). Session counts are bigint: strings when read back.
 */
@Entity('tlsrpt_report')
export class TlsRptReport {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'organization_name' }) organizationName: string;
  @Column('text', { name: 'report_id' }) reportId: string;
  @Column('text', { name: 'contact_info', nullable: true }) contactInfo: string | null;
  @Column('timestamptz', { name: 'date_start' }) dateStart: Date;
  @Column('timestamptz', { name: 'date_end' }) dateEnd: Date;
  @Column('text', { name: 'policy_domain' }) policyDomain: string;
  @Column('text', { name: 'policy_types', array: true }) policyTypes: string[];
  @Column('bigint', { name: 'successful_sessions' }) successfulSessions: string;
  @Column('bigint', { name: 'failed_sessions' }) failedSessions: string;
  @Column('jsonb') policies: TlsRptPolicyCounts[];
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt: Date;
}
