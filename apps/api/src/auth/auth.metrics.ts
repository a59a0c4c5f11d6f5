import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '@mz/platform';

/** Sign-in and session metrics of the api (names shared with the dashboard and alerts). */
@Injectable()
export class AuthMetrics {
  /** Sign-in links consumed on the confirm page: consumed (a session was created) | refused (unknown, used, expired or inactive). */
  readonly logins: Counter<'outcome'>;
  readonly sessionsRevoked: Counter;

  constructor(metrics: MetricsService) {
    this.logins = metrics.counter('mz_login_links_consumed_total', 'Sign-in link confirmations by outcome (consumed | refused)', ['outcome']);
    this.sessionsRevoked = metrics.counter('mz_sessions_revoked_total', 'Sessions ended by signing out');
  }
}
