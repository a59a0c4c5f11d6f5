/**
 * One hop of the R1 baseline: a raw BullMQ worker on queue FROM that, per job, adds a job to queue
 * TO (hop A) or does nothing (hop B, the end of the chain). The same Redis, prefix, job options and
 * worker concurrency as the pipeline's composer → mailer hops, minus all the work. Hop B reports
 * 'done' with the time its TARGET-th job completed.
 */
import { Queue, Worker } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { requireEnv, send, serve } from './child-ipc';

const JOB_OPTIONS = JSON.parse(requireEnv('JOB_OPTIONS'));

async function main(): Promise<void> {
  const url = requireEnv('REDIS_URL');
  const prefix = requireEnv('QUEUE_PREFIX');
  const from = requireEnv('FROM_QUEUE');
  const to = process.env.TO_QUEUE;
  const concurrency = Number(requireEnv('CONCURRENCY'));
  let target = Number.POSITIVE_INFINITY;
  let completed = 0;

  // REDIS_CLUSTER_NODES (bench --cluster): the same cluster the services use, seeds "host:port,…".
  const seeds = (process.env.REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean).map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) }));
  const connect = (maxRetriesPerRequest: number | null) =>
    seeds.length ? new Cluster(seeds, { redisOptions: { maxRetriesPerRequest } }) : new Redis(url, { maxRetriesPerRequest });
  const next = to ? new Queue(to, { connection: connect(3), prefix, defaultJobOptions: JOB_OPTIONS }) : undefined;
  const worker = new Worker(
    from,
    async (job) => {
      if (next) await next.add(job.name, job.data, { jobId: job.id });
    },
    { connection: connect(null), prefix, concurrency },
  );
  worker.on('error', (err) => console.error('worker error', err));
  worker.on('completed', () => {
    completed++;
    if (completed === target) send({ type: 'done', at: Date.now(), completed });
  });
  await worker.waitUntilReady();
  serve({
    /** Arms the 'done' report for the next `n` completions. */
    expect: (n: number) => {
      completed = 0;
      target = n;
    },
  });
  process.on('SIGTERM', () => {
    void Promise.all([worker.close(), next?.close()]).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
