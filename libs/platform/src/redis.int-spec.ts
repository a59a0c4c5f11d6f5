/**
 * RedisConnections against the real Redis: commands issued in one event-loop turn leave in one
 * write (coalesceWritesPerTurn), replies come back in order, and a reconnection's new socket gets
 * the same treatment. A cluster's per-node clients: redis-cluster.int-spec.ts.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import type Redis from 'ioredis';
import { parseConfig } from '@mz/contracts';
import { callsInOneTurn, countHandOvers } from '../../../test/support/socket-writes';
import { redisUrl } from '../../../test/support/test-env';
import { RedisConnections } from './redis';

/** 50 INCRs, each from its own callback of one turn (as a group of finished jobs issues them). */
const burst = async (conn: Redis, key: string) => Promise.all(await callsInOneTurn(50, () => conn.incr(key)));

describe('RedisConnections', () => {
  let redis: RedisConnections;
  const key = `mzt:coalesce:${process.pid}:${Date.now()}`;

  beforeAll(() => {
    redis = new RedisConnections(parseConfig({ REDIS_URL: redisUrl() }));
  });
  afterAll(async () => {
    await (redis.shared as Redis).del(key);
    await redis.onApplicationShutdown();
  });

  it('a turn\'s commands leave in one write, replies in order — and again after a reconnect', async () => {
    const conn = redis.shared as Redis;
    await conn.ping();
    let n = countHandOvers(conn.stream as Socket);
    expect(await burst(conn, key)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(n.writes).toBe(1);

    // The server drops the connection; ioredis reconnects on a new socket.
    const killer = redis.create('killer');
    const id = await conn.client('ID');
    await killer.client('KILL', 'ID', String(id));
    if (conn.status !== 'ready') await once(conn, 'ready');
    await conn.ping();
    n = countHandOvers(conn.stream as Socket);
    expect(await burst(conn, key)).toEqual(Array.from({ length: 50 }, (_, i) => i + 51));
    expect(n.writes).toBe(1);
    expect((conn.stream as Socket).writableCorked).toBe(0);
  });
});
