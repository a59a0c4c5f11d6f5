import { Injectable } from '@nestjs/common';
import { MetricsService } from '@mz/platform';

/** The inbound service's metrics (names shared with dashboards and alerts). */
@Injectable()
export class InboundMetrics {
  readonly received;
  readonly duplicates;
  readonly smtpRejected;
  readonly webhookRejected;
  readonly imapPolls;
  readonly processed;
  readonly intents;
  readonly unmatched;
  readonly parseFailures;
  readonly processingSeconds;
  readonly bounces;
  readonly untrusted;
  readonly smtpSessions;
  readonly tlsReloads;
  readonly certificateExpiry;

  constructor(metrics: MetricsService) {
    this.received = metrics.counter('mz_inbound_received_total', 'Inbound messages accepted for storage, by source (duplicates included)', ['source']);
    this.duplicates = metrics.counter('mz_inbound_duplicates_total', 'Inbound messages already stored (same Message-ID), by source', ['source']);
    this.smtpRejected = metrics.counter('mz_inbound_smtp_rejected_total', 'SMTP commands refused, by reason', ['reason']);
    this.webhookRejected = metrics.counter('mz_inbound_webhook_rejected_total', 'Webhook requests refused, by reason', ['reason']);
    this.imapPolls = metrics.counter('mz_inbound_imap_polls_total', 'IMAP polls, by outcome (ok|error)', ['outcome']);
    this.processed = metrics.counter('mz_inbound_processed_total', 'Inbound messages processed, by kind (reply|auto_reply|bounce|complaint|unmatched|error)', ['kind']);
    this.intents = metrics.counter('mz_reply_intents_total', 'Reply intents acted on, by intent', ['intent']);
    this.unmatched = metrics.counter('mz_inbound_unmatched_total', 'Replies that matched no subscriber letter or topic (or a spoofed sender)');
    this.parseFailures = metrics.counter('mz_inbound_parse_failures_total', 'Inbound messages that could not be parsed (recorded with their error)');
    this.bounces = metrics.counter('mz_inbound_bounces_total', 'DSNs that came back to a valid bounce address and named its recipient, by hard (true|false)', ['hard']);
    this.untrusted = metrics.counter('mz_inbound_untrusted_total', 'Replies claiming one of our subscriptions that we could not verify (kept for review, no effect), by reason', ['reason']);
    this.processingSeconds = metrics.histogram('mz_inbound_processing_seconds', 'Time to process one inbound message', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]);
    this.smtpSessions = metrics.counter('mz_inbound_smtp_sessions_total', 'Inbound SMTP sessions at their end, by whether they were encrypted (tls=true|false)', ['tls']);
    this.tlsReloads = metrics.counter('mz_inbound_tls_reloads_total', 'Re-reads of the inbound TLS certificate files that found a change, by outcome (ok|error: the old pair stays)', ['outcome']);
    this.certificateExpiry = metrics.gauge('mz_tls_certificate_expiry_seconds', 'Seconds until the TLS certificate in use expires, by what it serves', ['use']);
  }
}
