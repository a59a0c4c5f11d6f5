import { Injectable } from '@nestjs/common';
import { MetricsService, SLOW_BUCKETS } from '@mz/platform';

/** Outcome label of an SMTP attempt: accepted, or the failure class. */
export type SmtpOutcome = 'accepted' | 'rate_limit' | 'network' | 'processing' | 'permanent';

/** The mailer's metrics, names as in the pipeline contract (ops dashboards and alerts use them). */
@Injectable()
export class MailerMetrics {
  readonly sent;
  readonly failed;
  readonly retries;
  readonly skipped;
  readonly smtpDuration;
  readonly loginLinks;
  /** sent_at − scheduled_for of *scheduled* letters only: send-now letters have no slot to be late for. */
  readonly lateness;

  constructor(metrics: MetricsService) {
    this.sent = metrics.counter('mz_letters_sent_total', 'Letters accepted by SMTP');
    this.failed = metrics.counter('mz_letters_failed_total', 'Letters that failed for good', ['stage', 'error_type']);
    this.retries = metrics.counter('mz_letter_retries_total', 'Letter attempts that will be retried', ['stage', 'error_type']);
    this.skipped = metrics.counter('mz_letters_skipped_total', 'Letters skipped without sending', ['reason']);
    this.smtpDuration = metrics.histogram('mz_smtp_send_duration_seconds', 'Time for one SMTP send attempt', ['outcome'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    this.loginLinks = metrics.counter('mz_login_links_sent_total', 'Sign-in link mails by outcome (sent | retry | failed)', ['outcome']);
    this.lateness = metrics.histogram('mz_letter_lateness_seconds', 'sent_at minus scheduled_for of scheduled letters', [], SLOW_BUCKETS);
  }
}
