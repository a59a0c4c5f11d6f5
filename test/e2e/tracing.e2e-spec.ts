/**
 * Traces end to end (docs/architecture.md §6), in-process so an in-memory exporter sees every
 * span: the real scheduler, composer (the `openai` SDK against FakeLlmServer), mailer (nodemailer
 * against TestSmtpServer) and inbound (its SMTP server, fed by nodemailer) on real Postgres and
 * Redis, sharing one tracer provider.
 *
 * - one letter is one trace: the scheduler's claim → compose job → LLM call (model, tokens) →
 *   send job → SMTP send, each span the child of the one before across both BullMQ hops;
 * - one reply is one trace of its own: receive → store → process job;
 * - no span carries an address or the letter's text.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { SpanKind } from '@opentelemetry/api';
import { hrTimeToNanoseconds } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createDataSource, seedDatabase } from '@mz/db';
import { type RunningService, startService, startTracing, type Tracing } from '@mz/platform';
import { ComposerModule } from '../../apps/composer/src/composer.module';
import { inboundService } from '../../apps/inbound/src/inbound.definition';
import { InboundSmtpServer } from '../../apps/inbound/src/receive/smtp-inbound.server';
import { MailerModule } from '../../apps/mailer/src/mailer.module';
import { SchedulerModule } from '../../apps/scheduler/src/scheduler.module';
import { FakeDnsZone } from '../fakes/fake-dns-zone';
import { FakeLlmServer } from '../fakes/fake-llm-server';
import { TestSmtpServer } from '../fakes/test-smtp-server';
import { eventually } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

jest.setTimeout(120_000);

const REPLY_DOMAIN = 'reply.tracing.e2e.example';
const EMAIL = 'trace-reader@subscribers.example';

describe('tracing: one trace per letter and per reply, across the BullMQ jobs', () => {
  let env: TestEnv;
  let ds: DataSource;
  let llm: FakeLlmServer;
  let sink: TestSmtpServer;
  let exporter: InMemorySpanExporter;
  let tracing: Tracing | undefined;
  const services: RunningService[] = [];
  let inbound: RunningService;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 3 });
    await ds.initialize();
    await seedDatabase(ds);
    [llm, sink] = await Promise.all([FakeLlmServer.start(), TestSmtpServer.start()]);
    exporter = new InMemorySpanExporter();
    // Started before the services, as startService would with an endpoint set; theirs then see it running and leave it be.
    tracing = await startTracing({ service: 'e2e', config: { OTEL_TRACES_SAMPLER_ARG: 1 }, spanProcessor: new SimpleSpanProcessor(exporter) });
    const vars = {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, APP_BASE_URL: 'https://mentor.tracing.e2e.example',
      LLM_BASE_URL: llm.url, LLM_API_KEY: 'e2e-key', LLM_MODEL: 'e2e-model', LLM_MAX_RETRIES: '0',
      SMTP_URL: sink.url, SCHEDULER_TICK_MS: '200', SWEEP_INTERVAL_MS: '60000', RETRY_DELAY_SCALE: '0.01', SHUTDOWN_TIMEOUT_MS: '5000',
    };
    for (const def of [
      { service: 'composer' as const, defaultPort: 3003, rootModule: ComposerModule.register },
      { service: 'mailer' as const, defaultPort: 3004, rootModule: MailerModule.register },
      inboundService({ resolver: new FakeDnsZone().resolver }),
      { service: 'scheduler' as const, defaultPort: 3002, rootModule: SchedulerModule.register },
    ]) services.push(await startService(def, vars));
    inbound = services[2];
  });

  afterAll(async () => {
    for (const s of services.reverse()) await s.close();
    await tracing?.shutdown();
    await Promise.all([llm?.close(), sink?.close()]);
    await ds?.destroy();
    await env?.dispose();
  });

  const spans = () => exporter.getFinishedSpans();
  const inTrace = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  const one = (list: ReadableSpan[], name: string) => {
    const found = list.filter((s) => s.name === name);
    expect(found.map((s) => s.name)).toEqual([name]);
    return found[0];
  };
  /** Every attribute value of every span in the trace, as text: nothing personal may be among them. */
  const attributeText = (list: ReadableSpan[]) => list.flatMap((s) => [s.name, s.status.message ?? '', ...Object.values(s.attributes).map(String)]).join('\n');

  let letterId: string;
  let replyTo: string;
  let letterMessageId: string;
  let letterText: string;

  it('follows one letter from the claim through compose and the LLM call to the SMTP send', async () => {
    const at = new Date(Date.now() + 2_000);
    const time = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
    const [user] = await ds.query(`INSERT INTO app_user (email, name) VALUES ($1, 'Trace Reader') RETURNING id`, [EMAIL]);
    await ds.query(
      `INSERT INTO subscription (user_id, topic_id, timezone, send_time_local, next_run_at) SELECT $1, id, 'UTC', $2, $3 FROM topic WHERE code = 'resilience'`,
      [user.id, time, at],
    );
    const mail = await eventually(async () => sink.messages.find((m) => m.envelope.to.includes(EMAIL)), 'the letter captured by the sink', 60_000);
    [{ id: letterId }] = await ds.query(`SELECT id FROM letter WHERE user_id = $1`, [user.id]);
    replyTo = /[^<\s]+@[^>\s]+/.exec(mail.rawHeaders.get('reply-to') ?? '')![0];
    letterMessageId = mail.messageId!;
    letterText = mail.text ?? '';

    // The mailer's consumer span ends after the row is marked sent.
    const root = await eventually(async () => spans().find((s) => s.name === 'letter.schedule' && s.attributes['mz.letter.id'] === letterId), 'the letter.schedule span');
    const traceId = root.spanContext().traceId;
    const trace = await eventually(async () => {
      const t = inTrace(traceId);
      return t.some((s) => s.name === 'letters.send process') ? t : null;
    }, 'the send job span in the letter trace');

    const schedule = one(trace, 'letter.schedule');
    const composePublish = one(trace, 'letters.compose publish');
    const composeProcess = one(trace, 'letters.compose process');
    const chat = one(trace, 'chat e2e-model');
    const sendPublish = one(trace, 'letters.send publish');
    const sendProcess = one(trace, 'letters.send process');
    const smtp = one(trace, 'smtp send');

    // The chain, across two BullMQ hops (the traceparent in each job's payload).
    expect(parentOf(schedule)).toBeUndefined();
    expect(parentOf(composePublish)).toBe(schedule.spanContext().spanId);
    expect(parentOf(composeProcess)).toBe(composePublish.spanContext().spanId);
    expect(parentOf(chat)).toBe(composeProcess.spanContext().spanId);
    expect(parentOf(sendPublish)).toBe(composeProcess.spanContext().spanId);
    expect(parentOf(sendProcess)).toBe(sendPublish.spanContext().spanId);
    expect(parentOf(smtp)).toBe(sendProcess.spanContext().spanId);

    expect(composePublish.kind).toBe(SpanKind.PRODUCER);
    expect(composeProcess.kind).toBe(SpanKind.CONSUMER);
    expect(composeProcess.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.destination.name': 'letters.compose', 'messaging.message.id': letterId, 'mz.job.attempt': 1 });
    expect(sendProcess.attributes).toMatchObject({ 'messaging.destination.name': 'letters.send', 'messaging.message.id': letterId });
    expect(chat.kind).toBe(SpanKind.CLIENT);
    expect(chat.attributes).toMatchObject({ 'gen_ai.request.model': 'e2e-model', 'gen_ai.response.model': 'e2e-model', 'mz.llm.purpose': 'letter' });
    expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(smtp.attributes).toMatchObject({ 'network.protocol.name': 'smtp', 'server.address': '127.0.0.1' });
    // Ordered in time as the letter moved. A span's startTime is an HrTime pair [seconds, nanos]:
    // compared as arrays with `<=`, JavaScript compares their text ("9,500" > "10,20"), so compare numbers.
    const started = (s: ReadableSpan) => hrTimeToNanoseconds(s.startTime);
    expect(started(schedule)).toBeLessThanOrEqual(started(composeProcess));
    expect(started(composeProcess)).toBeLessThanOrEqual(started(sendProcess));

    const text = attributeText(trace);
    expect(text).not.toContain('@');
    expect(text).not.toContain(letterText.split('\n').find((l) => l.trim().length > 20)?.trim() ?? '<no text line>');
  });

  it('follows one reply through receive, store and the process job, in a trace of its own', async () => {
    expect(letterId).toBeDefined();
    const messageId = `<${randomUUID()}@mail.subscribers.example>`;
    const raw = [
      `From: Trace Reader <${EMAIL}>`, `To: ${replyTo}`, 'Subject: Re: your letter', `Date: ${new Date().toUTCString()}`,
      `Message-ID: ${messageId}`, `In-Reply-To: ${letterMessageId}`, `References: ${letterMessageId}`,
      'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Done', '',
    ].join('\r\n');
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: inbound.app.get(InboundSmtpServer).port!, secure: false, ignoreTLS: true });
    try {
      await t.sendMail({ envelope: { from: EMAIL, to: [replyTo] }, raw: Buffer.from(raw) });
    } finally {
      t.close();
    }
    const row = await eventually(async () => (await ds.query(`SELECT id, intent, processed_at FROM inbound_message WHERE message_id = $1`, [messageId]))[0]?.processed_at ? (await ds.query(`SELECT id, intent FROM inbound_message WHERE message_id = $1`, [messageId]))[0] : null, 'the reply processed');
    expect(row.intent).toBe('done');

    const receive = await eventually(async () => spans().find((s) => s.name === 'reply.receive' && s.attributes['mz.inbound_message.id'] === row.id), 'the reply.receive span');
    const traceId = receive.spanContext().traceId;
    const trace = await eventually(async () => {
      const list = inTrace(traceId);
      return list.some((s) => s.name === 'replies.process process') ? list : null;
    }, 'the process job span in the reply trace');
    const store = one(trace, 'reply.store');
    const publish = one(trace, 'replies.process publish');
    const processJob = one(trace, 'replies.process process');

    expect(parentOf(receive)).toBeUndefined();
    expect(receive.attributes).toMatchObject({ 'mz.inbound.source': 'smtp', 'mz.inbound.duplicate': false });
    expect(parentOf(store)).toBe(receive.spanContext().spanId);
    expect(parentOf(publish)).toBe(receive.spanContext().spanId);
    expect(parentOf(processJob)).toBe(publish.spanContext().spanId);
    expect(processJob.attributes).toMatchObject({ 'messaging.destination.name': 'replies.process', 'messaging.message.id': row.id });

    // Not part of the letter's trace, and nothing personal in it.
    const letterTrace = spans().find((s) => s.name === 'letter.schedule' && s.attributes['mz.letter.id'] === letterId)!.spanContext().traceId;
    expect(traceId).not.toBe(letterTrace);
    expect(attributeText(trace)).not.toContain('@');
  });
});
