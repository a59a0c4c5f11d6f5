import perfHooks from 'node:perf_hooks';
import { Controller, Get, Header, Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SERVICE_NAME } from './tokens';

/**
 * One registry per process, with default Node metrics and a `service` label. Apps create their
 * metrics through `counter/gauge/histogram`, which return the existing metric when a name is
 * registered twice (modules instantiated in tests several times do not collide).
 *
 * prom-client's default metrics start two things they never stop: an event-loop-delay histogram
 * (perf_hooks.monitorEventLoopDelay, a 10 ms timer in libuv) and a `gc` PerformanceObserver, which
 * Node keeps in its own list of observers. Both outlive the application and keep it reachable —
 * the registry, every metric's collect callback, the services they close over — for the life of
 * the process: in a test process that starts an app per test file, every file's whole module graph
 * stayed in memory and each left a timer firing 100 times a second. So they start with the
 * application (onModuleInit) and stop on its shutdown; a MetricsService built outside Nest (unit
 * specs) starts nothing it would have to stop.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  readonly registry = new Registry();
  /** Set while the default metrics run: stops their event-loop-delay histogram and GC observer. */
  private stopDefaultMetrics: (() => void) | null = null;

  constructor(@Inject(SERVICE_NAME) service: string) {
    this.registry.setDefaultLabels({ service });
  }

  /** Registers the default Node metrics (once) and starts what they measure with. */
  onModuleInit(): void {
    if (this.stopDefaultMetrics || this.registry.getSingleMetric('process_cpu_user_seconds_total')) return;
    this.stopDefaultMetrics = collectStoppableDefaultMetrics(this.registry);
  }

  onApplicationShutdown(): void {
    this.stopDefaultMetrics?.();
    this.stopDefaultMetrics = null;
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return (this.registry.getSingleMetric(name) as Counter<L>) ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: (this: Gauge<L>) => Promise<void> | void): Gauge<L> {
    return (this.registry.getSingleMetric(name) as Gauge<L>) ?? new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return (this.registry.getSingleMetric(name) as Histogram<L>) ?? new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) });
  }
}

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** Buckets for latencies that matter in seconds to minutes (lateness, LLM calls). */
export const SLOW_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800];

/**
 * collectDefaultMetrics, returning how to stop what it started. prom-client has no stop of its
 * own: it creates the histogram and the observer through the `perf_hooks` module object at call
 * time, so for the length of this synchronous call both constructors are wrapped to record what
 * they create, and put back before it returns.
 */
function collectStoppableDefaultMetrics(register: Registry): () => void {
  const stops: (() => void)[] = [];
  const hooks = perfHooks as { monitorEventLoopDelay: typeof perfHooks.monitorEventLoopDelay; PerformanceObserver: typeof perfHooks.PerformanceObserver };
  const { monitorEventLoopDelay, PerformanceObserver } = hooks;
  hooks.monitorEventLoopDelay = (options) => {
    const histogram = monitorEventLoopDelay(options);
    stops.push(() => histogram.disable());
    return histogram;
  };
  hooks.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof PerformanceObserver>[0]) {
      super(callback);
      stops.push(() => this.disconnect());
    }
  };
  try {
    collectDefaultMetrics({ register });
  } finally {
    hooks.monitorEventLoopDelay = monitorEventLoopDelay;
    hooks.PerformanceObserver = PerformanceObserver;
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
