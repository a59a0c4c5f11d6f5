import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '@mz/platform';
import { resultTypeLabel, type TlsRptSummary } from './tlsrpt-report';

export type TlsRptOutcome = 'stored' | 'duplicate';

/**
 * Keeps a TLS report's counts and turns its failures into metrics. A report is stored once per
 * (organisation, report id): reporters retry on any non-2xx or a lost answer, and a re-delivery
 * must count nothing twice — the metrics move only when the row is new.
 */
@Injectable()
export class TlsRptService {
  private readonly reports: Counter<'outcome'>;
  private readonly failedSessions: Counter<'result_type'>;
  private readonly successfulSessions: Counter;

  constructor(private readonly ds: DataSource, metrics: MetricsService) {
    this.reports = metrics.counter('mz_tlsrpt_reports_total', 'TLS reports (RFC 8460) received, by outcome (stored | duplicate | rejected)', ['outcome']);
    this.failedSessions = metrics.counter('mz_tlsrpt_failed_sessions_total', 'Sessions to our MX that senders report as failed TLS, by RFC 8460 result type (other: an unregistered type; unspecified: no details given)', ['result_type']);
    this.successfulSessions = metrics.counter('mz_tlsrpt_successful_sessions_total', 'Sessions to our MX that senders report as successful TLS');
  }

  async store(r: TlsRptSummary): Promise<TlsRptOutcome> {
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO tlsrpt_report (organization_name, report_id, contact_info, date_start, date_end, policy_domain, policy_types, successful_sessions, failed_sessions, policies)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (organization_name, report_id) DO NOTHING
       RETURNING id`,
      [r.organizationName, r.reportId, r.contactInfo, r.dateStart, r.dateEnd, r.policyDomain, r.policyTypes, r.successful, r.failed, JSON.stringify(r.policies)],
    );
    const outcome: TlsRptOutcome = rows.length ? 'stored' : 'duplicate';
    this.reports.inc({ outcome });
    if (outcome === 'stored') this.count(r);
    return outcome;
  }

  rejected(): void {
    this.reports.inc({ outcome: 'rejected' });
  }

  private count(r: TlsRptSummary): void {
    if (r.successful > 0) this.successfulSessions.inc(r.successful);
    for (const p of r.policies) {
      let detailed = 0;
      for (const f of p.failures) {
        detailed += f.failed;
        if (f.failed > 0) this.failedSessions.inc({ result_type: resultTypeLabel(f.resultType) }, f.failed);
      }
      // The summary may count failures it gives no details for.
      if (p.failed > detailed) this.failedSessions.inc({ result_type: 'unspecified' }, p.failed - detailed);
    }
  }
}
