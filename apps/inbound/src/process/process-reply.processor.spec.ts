import type { Job } from 'bullmq';
import type { AppConfig } from '@mz/contracts';
import type { WorkerRegistry } from '@mz/platform';
import type { ProviderEventService } from '../providers/provider-event.service';
import { ProcessReplyProcessor } from './process-reply.processor';
import type { ProcessOutcome, ProcessReplyService } from './process-reply.service';

/** A stand-in for the service with the two methods the processor calls, recording the calls. */
class ServiceDouble {
  readonly failures: { id: string; error: string }[] = [];
  constructor(private readonly behaviour: () => Promise<ProcessOutcome>) {}
  process(): Promise<ProcessOutcome> {
    return this.behaviour();
  }
  async recordFailure(id: string, error: string): Promise<ProcessOutcome> {
    this.failures.push({ id, error });
    return { outcome: 'failed', error };
  }
}

const job = (attemptsMade: number, attempts = 12) => ({ attemptsMade, opts: { attempts } }) as unknown as Job;
const payload = { v: 1 as const, inboundMessageId: '7d1c7c53-6a57-4a43-9f53-2f0c2b1a8e11' };

function processor(service: ServiceDouble): ProcessReplyProcessor {
  return new ProcessReplyProcessor({} as WorkerRegistry, service as unknown as ProcessReplyService, {} as ProviderEventService, { INBOUND_CONCURRENCY: 4 } as AppConfig);
}

describe('ProcessReplyProcessor', () => {
  it('hands the message to the service', async () => {
    const service = new ServiceDouble(async () => ({ outcome: 'processed', kind: 'reply', intent: 'done', needsReview: false }));
    await expect(processor(service).process(payload, job(0))).resolves.toMatchObject({ outcome: 'processed' });
    expect(service.failures).toEqual([]);
  });

  it('lets an unexpected error retry while attempts remain', async () => {
    const service = new ServiceDouble(async () => {
      throw new Error('connection terminated');
    });
    await expect(processor(service).process(payload, job(0))).rejects.toThrow('connection terminated');
    await expect(processor(service).process(payload, job(10))).rejects.toThrow('connection terminated');
    expect(service.failures).toEqual([]);
  });

  it('records the message as failed on the last attempt instead of failing the job', async () => {
    const service = new ServiceDouble(async () => {
      throw new Error('connection terminated');
    });
    await expect(processor(service).process(payload, job(11))).resolves.toEqual({ outcome: 'failed', error: 'network: failed after 12 attempts: connection terminated' });
    expect(service.failures).toEqual([{ id: payload.inboundMessageId, error: 'network: failed after 12 attempts: connection terminated' }]);
  });

  it('records a deterministic database error at once, on the first attempt, with its class and reason', async () => {
    let calls = 0;
    const service = new ServiceDouble(async () => {
      calls++;
      throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    });
    const out = await processor(service).process(payload, job(0));
    expect(out).toMatchObject({ outcome: 'failed' });
    expect(calls).toBe(1);
    expect(service.failures).toHaveLength(1);
    expect(service.failures[0].error).toMatch(/^permanent: database refused the data \(22021\): invalid byte sequence/);
  });

  it('retries a deadlock (40P01) like any transient error', async () => {
    const service = new ServiceDouble(async () => {
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    });
    await expect(processor(service).process(payload, job(0))).rejects.toThrow('deadlock detected');
    expect(service.failures).toEqual([]);
  });
});
