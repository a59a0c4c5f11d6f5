/**
 * The platform's queues, workers and readiness on a real 3-master / 3-replica Redis Cluster
 * (started by the test), including a master failover while jobs flow. A single-node Redis is
 * covered by queue.int-spec.ts with the same code paths.
 */
import { Module } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { JobName, QueueName } from '@mz/contracts';
import type { Socket } from 'node:net';
import { callsInOneTurn, countHandOvers } from '../../../test/support/socket-writes';
import { startRedisCluster, type TestRedisCluster } from '../../../test/support/redis-cluster';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { type RunningService, startService } from './bootstrap';
import { HealthService } from './health';
import { QueueService, WorkerRegistry } from './queue';
import { RedisConnections } from './redis';

async function until(what: string, timeoutMs: number, ok: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('queues and workers on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let env: TestEnv;
  let svc: RunningService;
  let prefix: string;
  const handled = new Set<string>();

  @Module({})
  class ProbeModule {}

  beforeAll(async () => {
    cluster = await startRedisCluster();
    env = await createTestEnv();
    prefix = `{${env.queuePrefix}}`;
    svc = await startService(
      {
        service: 'composer',
        defaultPort: 0,
        rootModule: (platform) => ({ module: ProbeModule, imports: [platform] }),
        setup: (app) => {
          app.get(WorkerRegistry).register(QueueName.LettersCompose, {
            [JobName.ComposeLetter]: async (payload) => {
              handled.add(payload.letterId);
            },
            [JobName.PreviewLetter]: async () => undefined,
          }, { concurrency: 4 });
        },
      },
      // REDIS_URL points nowhere: on a cluster only the seeds are dialled (it lends credentials/TLS).
      { ...env.vars, PORT: '0', REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: prefix },
    );
  }, 90_000);

  afterAll(async () => {
    await svc?.close();
    await env?.dispose();
    await cluster?.stop();
  });

  it('connects every client as a cluster client and reports the cluster state in readiness', async () => {
    const redis = svc.app.get(RedisConnections);
    expect(redis.shared).toBeInstanceOf(Cluster);
    const ready = await svc.app.get(HealthService).readiness();
    expect(ready.checks.redis).toEqual({ ok: true, detail: 'cluster_state:ok masters:3 slots_ok:16384' });
    const res = await fetch(`${svc.url}/health/ready`);
    expect(res.status).toBe(200);
  });

  it('keeps every key of a queue in the one slot of its hash tag', async () => {
    const queues = svc.app.get(QueueService);
    for (let i = 0; i < 5; i++) {
      const id = randomUUID();
      await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id, delay: i === 0 ? 60_000 : 0 });
    }
    const slot = Number(await cluster.node(cluster.nodes[0].port).cluster('KEYSLOT', prefix));
    const { master } = await cluster.shardOf(prefix);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await cluster.node(master.port).scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    expect(keys.length).toBeGreaterThan(3); // wait/meta/id/delayed/job hashes…
    for (const k of keys) expect(Number(await cluster.node(master.port).cluster('KEYSLOT', k))).toBe(slot);
  });

  it('loses no job when the master of the queue slot fails over mid-burst', async () => {
    const queues = svc.app.get(QueueService);
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const producing = (async () => {
      for (const id of ids) {
        await queues.enqueue(JobName.ComposeLetter, { v: 1, letterId: id }, { jobId: id });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Awaited below; if an assertion fails first, its rejection must not outlive the test.
    producing.catch(() => undefined);
    await until('a third of the burst handled', 30_000, () => ids.filter((id) => handled.has(id)).length > 100);
    const started = Date.now();
    const { from, to } = await cluster.failover(prefix);
    expect(to.port).not.toBe(from.port);
    expect((await cluster.shardOf(prefix)).master.port).toBe(to.port);
    await producing;
    await until('every job of the burst handled', 60_000, () => ids.every((id) => handled.has(id)));
    console.log(`redis cluster failover mid-burst: ${ids.length} jobs, all handled ${((Date.now() - started) / 1000).toFixed(1)} s after CLUSTER FAILOVER`);
    const ready = await svc.app.get(HealthService).readiness();
    expect(ready.checks.redis.ok).toBe(true);
  });

  it('each node client sends the commands of one event-loop turn in one write', async () => {
    const shared = svc.app.get(RedisConnections).shared as Cluster;
    const key = `${prefix}:coalesce`;
    await shared.del(key);
    await Promise.all(shared.nodes('master').map((node) => node.ping())); // node clients connect lazily
    const counts = shared.nodes('master').map((node) => countHandOvers(node.stream as Socket));
    const replies = await callsInOneTurn(50, () => shared.incr(key));
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // All 50 went to the key's master, in one write.
    expect(counts.map((c) => c.writes).sort()).toEqual([0, 0, 1]);
    await shared.del(key);
  });

  it('refuses to start on a cluster with a prefix that has no hash tag', async () => {
    await expect(
      startService({ service: 'composer', defaultPort: 0, rootModule: (platform) => ({ module: ProbeModule, imports: [platform] }) }, { ...env.vars, PORT: '0', REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: env.queuePrefix }),
    ).rejects.toThrow(/QUEUE_PREFIX/);
  });
});
