import type { Counter } from 'prom-client';
import type { MetricsService } from '@mz/platform';

/** Letters created for sending — by the scheduler's daily slots and by send-now alike. */
export function lettersScheduledCounter(metrics: MetricsService): Counter<'kind'> {
  return metrics.counter('mz_letters_scheduled_total', 'Letters created for sending, by kind', ['kind']);
}
