import {
  type Attributes, context, type Context, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type TimeInput, trace, type Tracer,
} from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type AppConfig, TRACEPARENT } from '@mz/contracts';
import { maskText } from './logger';

/**
 * OpenTelemetry tracing (docs/architecture.md §6): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * Off means off: the SDK is not even loaded, `tracer` stays undefined, and every helper below
 * returns after one comparison, so the per-letter hot path pays nothing. On, one process has one
 * tracer provider (the service it runs), exporting OTLP/HTTP protobuf in batches; trace context
 * travels between services inside job payloads as a W3C `traceparent` (libs/contracts jobs.ts).
 *
 * Spans carry ids, counts, names of models and queues — never addresses, letter or reply text,
 * tokens or error messages unmasked (docs/architecture.md §6).
 */

let tracer: Tracer | undefined;

export { SpanKind };
export type TraceContext = Context;
/** The parent of a span that starts a new trace. */
export const ROOT_TRACE_CONTEXT: Context = ROOT_CONTEXT;

/** True while this process exports spans. */
export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

export interface Tracing {
  /** Ends the pipeline: flushes the spans still buffered to the exporter, then unregisters. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  service: string;
  config: Pick<AppConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_TRACES_SAMPLER_ARG' | 'INSTANCE_ID'>;
  /** Tests: where spans go instead of OTLP (e.g. SimpleSpanProcessor over InMemorySpanExporter). */
  spanProcessor?: SpanProcessor;
}

/**
 * Starts tracing for this process, or does nothing (returns undefined) when no endpoint is
 * configured and no processor given, or when tracing already runs here (several services in one
 * test process share the first one's provider; its owner flushes it).
 */
export async function startTracing(opts: StartTracingOptions): Promise<Tracing | undefined> {
  const { config } = opts;
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (config.OTEL_EXPORTER_OTLP_ENDPOINT ? `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (tracer || (!opts.spanProcessor && !endpoint)) return undefined;
  // Loaded here, not at the top: a process with tracing off never loads the SDK.
  const [{ NodeTracerProvider }, { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }, { resourceFromAttributes }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources'), import('@opentelemetry/semantic-conventions'),
  ]);
  let processor = opts.spanProcessor;
  if (!processor) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    // Headers (a collector's API key), timeout and compression come from the standard OTEL_EXPORTER_OTLP_* variables, read by the exporter.
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service, ...(config.INSTANCE_ID ? { 'service.instance.id': config.INSTANCE_ID } : {}) }),
    // A job's trace follows its producer's decision, so a letter's trace is whole or absent.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG) }),
    spanProcessors: [processor],
  });
  // Global context manager (AsyncLocalStorage) and the W3C trace-context propagator.
  provider.register();
  tracer = provider.getTracer('mentor-zero');
  let stopping: Promise<void> | undefined;
  return {
    shutdown() {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          tracer = undefined;
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })();
      return stopping;
    },
  };
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the active context. ROOT_CONTEXT starts a new trace. */
  parent?: Context;
  startTime?: TimeInput;
}

/** A started span with its context, for spans that do not wrap one function (e.g. one per letter of a batch). */
export interface OpenSpan {
  readonly span: Span;
  readonly context: Context;
  end(err?: unknown): void;
}

/** Starts a span that the caller ends; undefined when tracing is off. */
export function openSpan(name: string, opts: SpanOptions = {}): OpenSpan | undefined {
  if (!tracer) return undefined;
  const parent = opts.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes, startTime: opts.startTime }, parent);
  return {
    span,
    context: trace.setSpan(parent, span),
    end(err?: unknown) {
      if (err !== undefined) markError(span, err);
      span.end();
    },
  };
}

/**
 * Runs `fn` inside a span (active for everything it awaits); the span records a thrown error's
 * type and masked message. When tracing is off `fn` runs as is, with no span.
 */
export function withSpan<T>(name: string, opts: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracer) return fn(undefined);
  const parent = opts.parent ?? context.active();
  return tracer.startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes, startTime: opts.startTime }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Error status without personal data: the error's class and its message with addresses and tokens masked. */
export function markError(span: Span, err: unknown): void {
  const e = err as { name?: unknown; message?: unknown; failureClass?: unknown } | null;
  span.setAttribute('error.type', typeof e?.failureClass === 'string' ? e.failureClass : typeof e?.name === 'string' ? e.name : 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR, message: maskText(String(e?.message ?? err)).slice(0, 200) });
}

/** The W3C traceparent of `ctx` (default: the active context), or undefined when off or nothing is sampled there. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  if (!tracer) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const tp = carrier.traceparent;
  return tp && TRACEPARENT.test(tp) ? tp : undefined;
}

/** The context a job's `traceparent` names; a new trace (ROOT_CONTEXT) when it has none. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
