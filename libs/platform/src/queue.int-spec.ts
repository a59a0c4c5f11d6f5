/** The typed enqueue helper and the consumer-side contract check, against a real Redis. */
import { Module } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { InvalidJobPayloadError, JobName, QueueName } from '@mz/contracts';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { type RunningService, startService } from './bootstrap';
import { QueueService, WorkerRegistry } from './queue';

describe('queues and workers', () => {
  let env: TestEnv;
  let svc: RunningService;
  const handled: unknown[] = [];

  @Module({})
  class ProbeModule {}

  beforeAll(async () => {
    env = await createTestEnv();
    svc = await startService(
      {
        service: 'composer',
        defaultPort: 0,
        rootModule: (platform) => ({ module: ProbeModule, imports: [platform] }),
        setup: (app) => {
          app.get(WorkerRegistry).register(QueueName.LettersCompose, {
            [JobName.ComposeLetter]: async (payload) => {
              handled.push(payload);
            },
            // Every job of the queue needs a handler (the registry refuses to boot otherwise).
            [JobName.PreviewLetter]: async () => undefined,
          });
        },
      },
      { ...env.vars, PORT: '0' },
    );
  });

  afterAll(async () => {
    await svc?.close();
    await env?.dispose();
  });

  it('validates before add: a bad payload never reaches Redis', async () => {
    const queues = svc.app.get(QueueService);
    await expect(queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: 'nope' } as never)).rejects.toThrow(InvalidJobPayloadError);
    expect(await queues.queue(QueueName.LettersCompose).count()).toBe(0);
  });

  it('delivers valid jobs to the registered handler', async () => {
    const letterId = randomUUID();
    await svc.app.get(QueueService).enqueue(JobName.ComposeLetter, { v: 1, letterId }, { jobId: letterId });
    const deadline = Date.now() + 10_000;
    while (!handled.some((p) => (p as { letterId: string }).letterId === letterId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(handled).toContainEqual({ v: 1, letterId });
  });

  it('fails a payload forced into Redis unrecoverably, after one attempt', async () => {
    const raw = new Queue(QueueName.LettersCompose, { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
    const events = new QueueEvents(QueueName.LettersCompose, { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
    await events.waitUntilReady();
    try {
      const job = await raw.add(JobName.ComposeLetter, { v: 1, letterId: 'not-a-uuid', secret: 'x' }, { attempts: 5 });
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid payload/);
      const failed = await raw.getJob(job.id!);
      expect(failed!.attemptsMade).toBe(1);
      expect(await failed!.getState()).toBe('failed');
    } finally {
      await events.close();
      await raw.close();
    }
  });

  it('refuses wiring mistakes at start', () => {
    const registry = svc.app.get(WorkerRegistry);
    const noop = async () => undefined;
    expect(() => registry.register(QueueName.LettersCompose, { [JobName.ComposeLetter]: noop })).toThrow(/two handlers|registered twice/);
    expect(() => registry.register(QueueName.Maintenance, { [JobName.SendLetter]: noop } as never)).toThrow(/does not belong/);
  });
});
