import { Injectable } from '@nestjs/common';
import { MetricsService } from '@mz/platform';

/** The composer's letter counters (names shared with dashboards and alerts: docs/architecture.md §6). */
@Injectable()
export class ComposerMetrics {
  readonly composed;
  readonly retries;
  readonly failed;
  readonly degraded;

  constructor(metrics: MetricsService) {
    this.composed = metrics.counter('mz_letters_composed_total', 'Letters composed, by model kind (llm|offline)', ['model_kind']);
    this.retries = metrics.counter('mz_letter_retries_total', 'Letter retries scheduled, by stage and failure class', ['stage', 'error_type']);
    this.failed = metrics.counter('mz_letters_failed_total', 'Letters failed for good, by stage and failure class', ['stage', 'error_type']);
    this.degraded = metrics.counter('mz_letters_degraded_total', 'Letters written by the offline composer because the LLM failed, by reason', ['reason']);
  }
}
