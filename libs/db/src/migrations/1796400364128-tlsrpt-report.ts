import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TLS reports (RFC 8460) that sending domains POST about their deliveries to REPLY_DOMAIN: one
 * row per report, keyed by the reporter's organisation and report id so a re-delivered report is
 * stored once. The counts are kept, not the raw JSON (a sender's IPs are of no use to us beyond
 * the summary): per policy its type, domain, session totals and failures summed by result type
 * and receiving MX.
 */
export class TlsRptReport1796400364128 implements MigrationInterface {
  name = 'TlsRptReport1796400364128';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE tlsrpt_report (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_name text NOT NULL,
  report_id text NOT NULL,
  contact_info text,
  date_start timestamptz NOT NULL,
  date_end timestamptz NOT NULL,
  policy_domain text NOT NULL,
  policy_types text[] NOT NULL,
  successful_sessions bigint NOT NULL CHECK (successful_sessions >= 0),
  failed_sessions bigint NOT NULL CHECK (failed_sessions >= 0),
  policies jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tlsrpt_report_date_range CHECK (date_end >= date_start)
)`);
    await q.query(`CREATE UNIQUE INDEX tlsrpt_report_org_report_uq ON tlsrpt_report (organization_name, report_id)`);
    await q.query(`CREATE INDEX tlsrpt_report_date_end_idx ON tlsrpt_report (date_end DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tlsrpt_report`);
  }
}
