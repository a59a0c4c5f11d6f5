/**
 * Tracing switched on the way an operator does it (docs/architecture.md §6, docs/operations.md
 * "Traces"): the built composer as a real process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
 * stand-in collector on loopback. A compose job queued with a traceparent is continued by the
 * composer's consumer span, the real OTLP/HTTP protobuf exporter delivers it named by the service,
 * and SIGTERM's graceful shutdown flushes what the batch processor still holds.
 *
 * (A process, not in-process: the exporter loads `http` with a dynamic import, which Jest's
 * CommonJS sandbox cannot run — in Jest it would fail silently.)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { eventually, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

interface Export { path: string; contentType: string; body: Buffer }

describe('tracing through the OTLP exporter of a real service process', () => {
  let env: TestEnv;
  let collector: Server;
  let composer: ServiceProcess | undefined;
  let queue: Queue;
  const exports: Export[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    queue = new Queue('letters.compose', { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
  });

  afterAll(async () => {
    await composer?.kill();
    await queue?.close();
    await new Promise((resolve) => collector?.close(resolve));
    await env?.dispose();
  });

  it('continues the trace of a queued job and flushes its spans to the collector on SIGTERM', async () => {
    composer = await startServiceProcess('composer', {
      ...env.vars,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      // Batches every 10 minutes: only the shutdown's flush can deliver within this test.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    }, { readyTimeoutMs: 60_000 });

    const traceId = randomBytes(16);
    const parentSpanId = randomBytes(8);
    // A letter id with no row: the composer finds nothing to claim and finishes the job at once.
    const letterId = randomUUID();
    const job = await queue.add('compose-letter', { v: 1, letterId, traceparent: `00-${traceId.toString('hex')}-${parentSpanId.toString('hex')}-01` }, { jobId: letterId });
    await eventually(async () => (await job.isCompleted()) || null, 'the compose job completed', 20_000);
    expect(exports).toHaveLength(0);

    expect(await composer.stop()).toBe(0);
    composer = undefined;
    expect(exports.length).toBeGreaterThanOrEqual(1);
    expect(new Set(exports.map((e) => e.path))).toEqual(new Set(['/v1/traces']));
    expect(exports[0].contentType).toBe('application/x-protobuf');
    const body = Buffer.concat(exports.map((e) => e.body));
    // Protobuf bytes: the service's resource, the consumer span, and our trace and parent ids (binary).
    for (const text of ['service.name', 'composer', 'letters.compose process', letterId]) expect(body.includes(Buffer.from(text))).toBe(true);
    expect(body.includes(traceId)).toBe(true);
    expect(body.includes(parentSpanId)).toBe(true);
  });
});
