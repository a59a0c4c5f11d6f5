/**
 * Per-test-file isolation: a database cloned from the run's migrated template and a queue
 * prefix of its own. Use `const env = await createTestEnv()` in beforeAll and
 * `await env.dispose()` in afterAll; `env.vars` is the environment for services under test.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import Redis from 'ioredis';
import { adminUrl, databaseUrlFor, withAdminClient } from './pg-admin';

export interface TestEnv {
  database: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** Environment variables for a service or module under test. */
  vars: Record<string, string>;
  dispose(): Promise<void>;
}

export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export async function createTestEnv(extra: Record<string, string> = {}): Promise<TestEnv> {
  const runId = process.env.MZ_TEST_RUN_ID;
  const template = process.env.MZ_TEST_TEMPLATE_DB;
  if (!runId || !template) throw new Error('test/setup/global-setup.ts did not run (MZ_TEST_RUN_ID unset)');
  const suffix = randomBytes(4).toString('hex');
  const database = `mz_test_${runId}_${suffix}`;
  await withAdminClient(adminUrl(), async (client) => {
    // CREATE DATABASE … TEMPLATE needs the template to have no other connections; retry briefly
    // when two files clone at the same instant.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${database}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const queuePrefix = `mzt_${runId}_${suffix}`;
  const databaseUrl = databaseUrlFor(database);
  const vars: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: queuePrefix,
    ...extra,
  };
  return {
    database,
    databaseUrl,
    redisUrl: redisUrl(),
    queuePrefix,
    vars,
    async dispose() {
      if (process.env.MZ_TEST_KEEP_DB) return;
      await withAdminClient(adminUrl(), (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
      await deleteRedisPrefix(vars.REDIS_URL, queuePrefix);
    },
  };
}

/** Removes every key under a queue prefix (SCAN, never KEYS). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    // QUIT and wait for the socket to close: disconnect() alone returns at once and leaves the
    // socket (and ioredis' 2 s destroy timer) open past the test file's afterAll.
    if (redis.status !== 'end') {
      const ended = once(redis, 'end');
      await redis.quit().catch(() => redis.disconnect());
      await ended;
    }
  }
}
