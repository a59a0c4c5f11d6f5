import perfHooks from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MetricsService } from './metrics';

/** A full garbage collection, without starting Node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('MetricsService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('serves the default Node metrics with the service label once the module is initialised', async () => {
    const metrics = new MetricsService('spec');
    expect(await metrics.registry.metrics()).not.toContain('process_cpu_user_seconds_total');
    metrics.onModuleInit();
    try {
      const text = await metrics.registry.metrics();
      expect(text).toContain('process_cpu_user_seconds_total{service="spec"}');
      expect(text).toMatch(/^nodejs_eventloop_lag_max_seconds\{service="spec"\} [\d.e+-]+$/m);
      expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    } finally {
      metrics.onApplicationShutdown();
    }
  });

  it('stops the event-loop-delay histogram on shutdown', () => {
    const created: perfHooks.IntervalHistogram[] = [];
    const real = perfHooks.monitorEventLoopDelay;
    jest.spyOn(perfHooks, 'monitorEventLoopDelay').mockImplementation((options) => {
      const histogram = real(options);
      created.push(histogram);
      return histogram;
    });
    const metrics = new MetricsService('spec');
    metrics.onModuleInit();
    expect(created).toHaveLength(1);
    metrics.onApplicationShutdown();
    // disable() answers whether it was still enabled
    expect(created[0].disable()).toBe(false);
  });

  it('leaves nothing that keeps the registry alive once shut down', async () => {
    // The `gc` PerformanceObserver sits in Node's own list of observers and the histogram's timer
    // in libuv: while either runs, the registry (and the app behind it) can never be collected.
    const registry = ((): WeakRef<object> => {
      const metrics = new MetricsService('spec');
      metrics.onModuleInit();
      metrics.onApplicationShutdown();
      return new WeakRef(metrics.registry);
    })();
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target until the job ends
    collectGarbage();
    expect(registry.deref()).toBeUndefined();
  });

  it('puts perf_hooks back as it found it', () => {
    const { monitorEventLoopDelay, PerformanceObserver } = perfHooks;
    const metrics = new MetricsService('spec');
    metrics.onModuleInit();
    metrics.onApplicationShutdown();
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver);
  });
});
