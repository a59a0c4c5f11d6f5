import { Writable } from 'node:stream';
import { type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TRACEPARENT } from '@mz/contracts';
import { createLogger } from './logger';
import { contextFromTraceparent, currentTraceparent, openSpan, startTracing, tracingEnabled, withSpan } from './tracing';

// Counts loads of the SDK: with tracing off the process must never load it (docs/architecture.md §6).
let mockSdkLoads = 0;
jest.mock('@opentelemetry/sdk-trace-node', () => {
  mockSdkLoads++;
  return jest.requireActual('@opentelemetry/sdk-trace-node');
});

/** InMemorySpanExporter forgets its spans on shutdown; this one keeps what was exported, to see the flush. */
class KeepingExporter extends InMemorySpanExporter {
  readonly kept: ReadableSpan[] = [];
  override export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.kept.push(...spans);
    super.export(spans, done);
  }
}

const off = { OTEL_TRACES_SAMPLER_ARG: 1 };

function captureLogs() {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { lines, sink, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('starts nothing, loads no SDK, and every helper passes straight through', async () => {
    expect(await startTracing({ service: 'composer', config: off })).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    expect(mockSdkLoads).toBe(0);
    expect(openSpan('x')).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
    await expect(withSpan('x', {}, async (span) => span)).resolves.toBeUndefined();
    await expect(withSpan('x', {}, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
  });

  it('log lines carry no trace fields', async () => {
    const { sink, parsed } = captureLogs();
    const log = createLogger('composer', 'info', sink, { traceIds: tracingEnabled() });
    await withSpan('x', {}, async () => log.info('inside'));
    expect(parsed()[0]).not.toHaveProperty('trace_id');
  });
});

describe('tracing on', () => {
  const exporter = new KeepingExporter();

  it('names the service in the resource, links spans through a traceparent, masks errors and flushes on shutdown', async () => {
    // A batch processor with a long delay: only the shutdown's flush can export these spans.
    const tracing = await startTracing({ service: 'composer', config: { ...off, INSTANCE_ID: 'composer-1' }, spanProcessor: new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 }) });
    expect(tracing).toBeDefined();
    expect(tracingEnabled()).toBe(true);
    expect(mockSdkLoads).toBe(1);
    // A second start in the same process (another in-process service) leaves the first in charge.
    expect(await startTracing({ service: 'mailer', config: off, spanProcessor: new BatchSpanProcessor(exporter) })).toBeUndefined();

    const { sink, parsed } = captureLogs();
    const log = createLogger('composer', 'info', sink, { traceIds: tracingEnabled() });

    let traceparent: string | undefined;
    await withSpan('producer', { attributes: { 'mz.job.name': 'compose-letter' } }, async () => {
      traceparent = currentTraceparent();
      log.info('while producing');
    });
    log.info('outside any span');
    expect(traceparent).toMatch(TRACEPARENT);
    // What a worker does with the job's traceparent: its span continues the producer's trace.
    await withSpan('consumer', { parent: contextFromTraceparent(traceparent) }, async () => undefined);
    await withSpan('root', { parent: contextFromTraceparent(undefined) }, async () => undefined);
    await expect(withSpan('failing', {}, async () => { throw Object.assign(new Error('550 no such user ada@example.org'), { failureClass: 'permanent' }); })).rejects.toThrow();

    expect(exporter.kept).toHaveLength(0);
    await tracing!.shutdown();
    expect(tracingEnabled()).toBe(false);

    const byName = new Map(exporter.kept.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['consumer', 'failing', 'producer', 'root']);
    const producer = byName.get('producer')!;
    const consumer = byName.get('consumer')!;
    expect(producer.resource.attributes).toMatchObject({ 'service.name': 'composer', 'service.instance.id': 'composer-1' });
    expect(traceparent).toBe(`00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01`);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(byName.get('root')!.parentSpanContext).toBeUndefined();
    expect(byName.get('root')!.spanContext().traceId).not.toBe(producer.spanContext().traceId);
    const failing = byName.get('failing')!;
    expect(failing.status).toEqual({ code: 2, message: '550 no such user [email]' });
    expect(failing.attributes['error.type']).toBe('permanent');

    const [inside, outside] = parsed();
    expect(inside).toMatchObject({ msg: 'while producing', trace_id: producer.spanContext().traceId, span_id: producer.spanContext().spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });
});
