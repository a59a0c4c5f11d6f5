import { Injectable } from '@nestjs/common';
import { MetricsService } from '@mz/platform';

/** The provider webhooks' metrics: every request by provider, endpoint and outcome; every event by what it did. */
@Injectable()
export class ProviderMetrics {
  readonly requests;
  readonly events;

  constructor(metrics: MetricsService) {
    this.requests = metrics.counter(
      'mz_provider_webhook_requests_total',
      'Provider webhook requests, by provider, endpoint (inbound|events) and outcome (accepted|duplicate|confirmed|unverified_<reason>|malformed|too_large|unsupported|rate_limited|error)',
      ['provider', 'endpoint', 'outcome'],
    );
    this.events = metrics.counter(
      'mz_provider_events_total',
      'Provider events worked on, by provider, type (bounce|complaint|delivery|other) and outcome (suppressed|already_suppressed|counted|delivered|recorded|unmatched)',
      ['provider', 'type', 'outcome'],
    );
  }
}
