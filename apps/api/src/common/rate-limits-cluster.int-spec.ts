/**
 * The api's rate limits on a real Redis Cluster (started by the test): two api replicas (two
 * RateLimits on their own cluster clients) share one counter, and the counter keys carry the
 * prefix's hash tag (one slot).
 */
import { parseConfig } from '@mz/contracts';
import { RedisConnections } from '@mz/platform';
import { startRedisCluster, type TestRedisCluster } from '../../../../test/support/redis-cluster';
import { RATE_LIMITS, RateLimits } from './rate-limits.service';

describe('rate limits on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  const connections: RedisConnections[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.onApplicationShutdown()));
    await cluster?.stop();
  });

  it('counts across replicas in one slot and refuses past the limit', async () => {
    const prefix = `{rl${Date.now()}}`;
    const config = parseConfig({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: prefix });
    const replicas = [0, 1].map(() => {
      const c = new RedisConnections(config);
      connections.push(c);
      return new RateLimits(config, c);
    });
    const { points } = RATE_LIMITS.loginLinkPerAddress;
    const outcomes = [];
    for (let i = 0; i < points + 2; i++) outcomes.push(await replicas[i % 2].consume('loginLinkPerAddress', 'sam@example.org'));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(points);
    expect(outcomes[points]).toMatchObject({ allowed: false });
    // Another address has its own counter.
    expect(await replicas[0].consume('loginLinkPerAddress', 'ada@example.org')).toEqual({ allowed: true });

    const slot = Number(await cluster.node(cluster.nodes[0].port).cluster('KEYSLOT', prefix));
    const { master } = await cluster.shardOf(prefix);
    const [, keys] = await cluster.node(master.port).scan('0', 'MATCH', `${prefix}:rl:*`, 'COUNT', 1000);
    expect(keys.length).toBe(2);
    for (const k of keys) expect(Number(await cluster.node(master.port).cluster('KEYSLOT', k))).toBe(slot);
  });
});
