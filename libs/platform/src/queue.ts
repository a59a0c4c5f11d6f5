import { Inject, Injectable, OnApplicationBootstrap, BeforeApplicationShutdown, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { DelayedError, Job, type JobsOptions, Queue, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import {
  type AppConfig, InvalidJobPayloadError, JOBS, type JobName, type JobPayload, parseJobPayload, type QueueName,
} from '@mz/contracts';
import { classifyError, MAX_JOB_ATTEMPTS, RetryLaterError } from './failure';
import { MetricsService } from './metrics';
import { RedisConnections, throttledErrorLog } from './redis';
import { APP_CONFIG, LOGGER } from './tokens';
import { contextFromTraceparent, currentTraceparent, openSpan, SpanKind, type TraceContext, tracingEnabled, withSpan } from './tracing';

/** Span attributes of a job (OpenTelemetry messaging conventions): queue, job name and id — ids only, never payload text. */
function jobAttributes(queue: QueueName, name: string, jobId: string | undefined, operation: 'send' | 'process') {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.destination.name': queue,
    'mz.job.name': name,
    ...(jobId ? { 'messaging.message.id': jobId } : {}),
  };
}

/** Bounded retention: Redis memory stays flat however many letters go through. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: MAX_JOB_ATTEMPTS,
  backoff: { type: 'mz' },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

/** Producer side: validates every payload against its contract before `add`. */
@Injectable()
export class QueueService {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
  ) {}

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis.shared, prefix: this.config.QUEUE_PREFIX, defaultJobOptions: DEFAULT_JOB_OPTIONS });
      q.on('error', throttledErrorLog(this.logger, 'queue error', { queue: name }));
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * With tracing on, a producer span (child of the active span, or a new trace) wraps the add and
   * its traceparent goes into the payload, so the worker continues the trace (docs/architecture.md §6).
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: JobsOptions = {}): Promise<Job> {
    const queue = JOBS[name].queue;
    if (!tracingEnabled()) return this.queue(queue).add(name, parseJobPayload(name, payload), opts);
    return withSpan(`${queue} publish`, { kind: SpanKind.PRODUCER, attributes: jobAttributes(queue, name, opts.jobId, 'send') }, () =>
      this.queue(queue).add(name, parseJobPayload(name, { ...payload, traceparent: currentTraceparent() }), opts),
    );
  }

  /**
   * One round trip for many jobs of one kind (the scheduler's batches). With tracing on each job
   * gets its own producer span, a child of its item's `trace` context (the scheduler gives each
   * letter its own trace) or else of the active one.
   */
  async enqueueBulk<N extends JobName>(name: N, items: { payload: JobPayload<N>; opts?: JobsOptions; trace?: TraceContext }[]): Promise<Job[]> {
    if (!items.length) return [];
    const queue = JOBS[name].queue;
    if (!tracingEnabled()) return this.queue(queue).addBulk(items.map((i) => ({ name, data: parseJobPayload(name, i.payload), opts: i.opts })));
    const spans = items.map((i) => openSpan(`${queue} publish`, { kind: SpanKind.PRODUCER, parent: i.trace, attributes: jobAttributes(queue, name, i.opts?.jobId, 'send') }));
    try {
      const jobs = items.map((i, k) => ({ name, data: parseJobPayload(name, { ...i.payload, traceparent: currentTraceparent(spans[k]?.context) }), opts: i.opts }));
      const added = await this.queue(queue).addBulk(jobs);
      for (const s of spans) s?.end();
      return added;
    } catch (err) {
      for (const s of spans) s?.end(err);
      throw err;
    }
  }

  /**
   * Makes sure a job with this id is queued: a waiting/delayed/active one is left alone (BullMQ
   * ignores a duplicate id), a finished one (kept by retention) is removed first so the add counts.
   * The row's status, not the queue, guards against doing the work twice.
   */
  async ensureJob<N extends JobName>(name: N, payload: JobPayload<N>, jobId: string, opts: JobsOptions = {}): Promise<'added' | 'exists'> {
    const queue = this.queue(JOBS[name].queue);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
        // A delayed job for a retry that should happen now is promoted rather than duplicated.
        if (state === 'delayed' && (opts.delay ?? 0) === 0) await existing.promote().catch(() => undefined);
        return 'exists';
      }
      await existing.remove().catch(() => undefined);
    }
    await this.enqueue(name, payload, { ...opts, jobId });
    return 'added';
  }

  /** Removes a queued job (e.g. a cancelled letter's compose/send job); a running job is left alone. */
  async removeJob(queue: QueueName, jobId: string): Promise<void> {
    const job = await this.queue(queue).getJob(jobId);
    if (job) await job.remove().catch(() => undefined); // locked (running) jobs refuse removal: the row's status guards them
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

/**
 * `token` is the worker's lock token on the job: a handler that parks its job until later
 * (`job.moveToDelayed(at, token)` then `throw new DelayedError()`) needs it; the attempt is not counted.
 */
export type JobHandler<N extends JobName> = (payload: JobPayload<N>, job: Job, token?: string) => Promise<unknown>;
export type HandlerMap = { [N in JobName]?: JobHandler<N> };

interface Registration { queue: QueueName; handlers: HandlerMap; options: Partial<WorkerOptions> }

/**
 * Consumer side. Apps register one handler per job name at module init; the registry refuses to
 * boot when a job name has no handler or two, or a handler is on the wrong queue. Workers start
 * only after the app is up, and on shutdown stop taking jobs and let running ones finish (bounded).
 */
@Injectable()
export class WorkerRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly registrations: Registration[] = [];
  private readonly workers: Worker[] = [];
  readonly failures: JobFailureCounter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    this.logger = logger.child({ component: 'worker-registry' });
    this.failures = jobFailureCounter(metrics);
  }

  register(queue: QueueName, handlers: HandlerMap, options: Partial<WorkerOptions> = {}): void {
    for (const name of Object.keys(handlers) as JobName[]) {
      if (JOBS[name]?.queue !== queue) throw new Error(`job "${name}" does not belong to queue "${queue}"`);
      if (this.registrations.some((r) => r.handlers[name])) throw new Error(`job "${name}" has two handlers`);
    }
    if (this.registrations.some((r) => r.queue === queue)) throw new Error(`queue "${queue}" registered twice`);
    this.registrations.push({ queue, handlers, options });
  }

  get running(): readonly Worker[] {
    return this.workers;
  }

  onApplicationBootstrap(): void {
    for (const r of this.registrations) {
      const missing = (Object.keys(JOBS) as JobName[]).filter((n) => JOBS[n].queue === r.queue && !r.handlers[n]);
      if (missing.length) throw new Error(`queue "${r.queue}" has no handler for: ${missing.join(', ')}`);
      const worker = new Worker(r.queue, (job, token) => this.dispatch(r, job, token), {
        connection: this.redis.forWorker(`worker-${r.queue}`),
        prefix: this.config.QUEUE_PREFIX,
        autorun: false,
        concurrency: 1,
        // A live worker renews its job locks every 10 s; a killed one's lapse within 20 s and the
        // stalled check (every 10 s) returns the jobs — before the row leases (LEASE_MS, 30 s) run
        // out, so the sweeper finds the orphaned job unlocked when it re-drives the row.
        lockDuration: 20_000,
        stalledInterval: 10_000,
        settings: { backoffStrategy: backoffFromError },
        ...r.options,
      });
      worker.on('error', (err) => this.logger.error({ err, queue: r.queue }, 'worker error'));
      this.workers.push(worker);
      void worker.run().catch((err) => this.logger.error({ err, queue: r.queue }, 'worker stopped'));
    }
  }

  private async dispatch(r: Registration, job: Job, token?: string): Promise<unknown> {
    const handler = r.handlers[job.name as JobName] as JobHandler<JobName> | undefined;
    if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}" on queue "${r.queue}"`);
    let payload: JobPayload<JobName>;
    try {
      payload = parseJobPayload(job.name as JobName, job.data);
    } catch (err) {
      // A payload that breaks the contract will never succeed: fail it now, visibly.
      if (err instanceof InvalidJobPayloadError) throw new UnrecoverableError(err.message);
      throw err;
    }
    if (!tracingEnabled()) return this.run(r, handler, payload, job, token);
    // The consumer span continues the producer's trace (a letter's or a reply's); a job queued
    // without a traceparent starts its own (docs/architecture.md §6).
    return withSpan(`${r.queue} process`, {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(payload.traceparent),
      attributes: { ...jobAttributes(r.queue, job.name, job.id, 'process'), 'mz.job.attempt': job.attemptsMade + 1 },
    }, () => this.run(r, handler, payload, job, token));
  }

  private async run(r: Registration, handler: JobHandler<JobName>, payload: JobPayload<JobName>, job: Job, token?: string): Promise<unknown> {
    try {
      return await handler(payload, job, token);
    } catch (err) {
      // The handler parked its job for later (moveToDelayed): not a failure.
      if (err instanceof DelayedError) throw err;
      throw this.escalate(r.queue, job, err);
    }
  }

  /**
   * The last word on an error a handler let through (docs/architecture.md §3): its own decisions (retry after a
   * delay, give up) stand; anything else is classified once — data and validation errors fail the
   * job at once instead of being retried for hours, transient ones retry with the backoff.
   */
  private escalate(queue: QueueName, job: Job, err: unknown): unknown {
    if (err instanceof UnrecoverableError) {
      this.failures.inc({ queue, job: job.name, failure_class: 'decided', outcome: 'failed' });
      return err;
    }
    if (err instanceof RetryLaterError) {
      this.failures.inc({ queue, job: job.name, failure_class: 'decided', outcome: 'retry' });
      return err;
    }
    const c = classifyError(err);
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    this.failures.inc({ queue, job: job.name, failure_class: c.failureClass, outcome: c.failureClass === 'permanent' || last ? 'failed' : 'retry' });
    if (c.failureClass !== 'permanent') return err;
    this.logger.error({ err, queue, jobId: job.id, failureClass: c.failureClass }, 'job failed with a permanent error; not retried');
    return new UnrecoverableError(`${c.failureClass}: ${c.message}`);
  }

  /** Stop taking work; running jobs get SHUTDOWN_TIMEOUT_MS to finish, then are left to stall back. */
  async beforeApplicationShutdown(): Promise<void> {
    const closing = Promise.all(this.workers.map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.SHUTDOWN_TIMEOUT_MS).unref();
    });
    try {
      if ((await Promise.race([closing, timeout])) === 'timeout') {
        this.logger.warn('shutdown timeout: forcing workers closed; running jobs return to the queue as stalled');
        await Promise.all(this.workers.map((w) => w.close(true)));
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

export type JobFailureCounter = ReturnType<typeof jobFailureCounter>;

/**
 * Failed job attempts by failure class, for every queue: `outcome` retry | failed. `decided` is a
 * handler that classified the failure itself (its class is in the stage's own metric, e.g.
 * mz_letters_failed_total{error_type}).
 */
export function jobFailureCounter(metrics: MetricsService) {
  return metrics.counter('mz_job_failures_total', 'Failed job attempts, by queue, job, failure class and outcome (retry|failed)', ['queue', 'job', 'failure_class', 'outcome']);
}

/** Delay chosen by the processor (RetryLaterError) or, for unexpected errors, a short exponential one. */
export function backoffFromError(attemptsMade: number, _type?: string, err?: Error): number {
  if (err instanceof RetryLaterError || (err && typeof (err as RetryLaterError).delayMs === 'number')) return (err as RetryLaterError).delayMs;
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attemptsMade - 1));
}
