import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, ClassifiedError, Clock, MetricsService } from '@mz/platform';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Thrown instead of calling the LLM while the circuit is open: the call was never made. */
export class LlmCircuitOpenError extends ClassifiedError {
  constructor(readonly retryInMs: number) {
    super('network', `LLM circuit open after repeated failures; next probe in ${Math.ceil(retryInMs / 1000)} s`, retryInMs);
    this.name = 'LlmCircuitOpenError';
  }
}

/**
 * A circuit breaker around the composer's LLM calls, per process (docs/architecture.md §7,
 * degraded mode). After LLM_CIRCUIT_FAILURES consecutive failed calls it opens: calls are refused
 * at once for LLM_CIRCUIT_OPEN_MS (the composer writes those letters offline when the admin
 * allows it, instead of every letter spending its own timeouts and retries against a dead
 * endpoint). Then one call at a time is let through as a probe (half-open): its success closes
 * the circuit, its failure opens it again for another period. Any answer from the model counts
 * as success — a malformed letter is the writer's problem, not the endpoint's health.
 *
 * Per process on purpose: each replica learns the endpoint's health from its own calls, and no
 * shared state can itself become the outage.
 */
@Injectable()
export class LlmCircuit {
  private consecutiveFailures = 0;
  private openedAt: number | null = null;
  private probing = false;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly openGauge;
  private readonly transitions;

  constructor(@Inject(APP_CONFIG) config: AppConfig, private readonly clock: Clock, metrics: MetricsService) {
    this.threshold = config.LLM_CIRCUIT_FAILURES;
    this.openMs = config.LLM_CIRCUIT_OPEN_MS;
    this.openGauge = metrics.gauge('mz_llm_circuit_open', "1 while this composer's LLM circuit is open or half-open (calls refused or probing), else 0");
    this.transitions = metrics.counter('mz_llm_circuit_transitions_total', 'LLM circuit state changes, by the state entered', ['to']);
    this.openGauge.set(0);
  }

  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.openMs ? 'half_open' : 'open';
  }

  /**
   * Runs `call` unless the circuit refuses it (LlmCircuitOpenError). Only one probe runs while
   * half-open; concurrent callers are refused until it settles.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    let probe = false;
    if (state === 'open' || (state === 'half_open' && this.probing)) {
      throw new LlmCircuitOpenError(Math.max(0, (this.openedAt as number) + this.openMs - this.now()));
    }
    if (state === 'half_open') {
      this.probing = true;
      probe = true;
      this.transitions.inc({ to: 'half_open' });
    }
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (err) {
      this.failed();
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private succeeded(): void {
    this.consecutiveFailures = 0;
    if (this.openedAt !== null) {
      this.openedAt = null;
      this.openGauge.set(0);
      this.transitions.inc({ to: 'closed' });
    }
  }

  private failed(): void {
    this.consecutiveFailures++;
    // A failed probe re-opens for a full period; a closed circuit opens at the threshold.
    if (this.openedAt !== null || this.consecutiveFailures >= this.threshold) {
      this.openedAt = this.now();
      this.openGauge.set(1);
      this.transitions.inc({ to: 'open' });
    }
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
