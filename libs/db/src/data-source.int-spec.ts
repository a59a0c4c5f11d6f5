/**
 * Pool behaviour the services rely on: connections, once opened, stay open between bursts (the
 * kept minimum), and only those above it are closed after the idle timeout.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { createDataSource } from './data-source';

describe('createDataSource pool', () => {
  let env: TestEnv;
  let observer: Client;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    observer = new Client({ connectionString: env.databaseUrl });
    await observer.connect();
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    await observer?.end();
    await env?.dispose();
  });

  async function burst(opts: { poolMin?: number }): Promise<{ app: string; open: () => Promise<number>; during: number }> {
    const app = `mz-pool-spec-${randomBytes(3).toString('hex')}`;
    const ds = createDataSource({ url: env.databaseUrl, poolMax: 3, idleTimeoutMs: 100, applicationName: app, ...opts });
    sources.push(ds);
    await ds.initialize();
    const open = async () => Number((await observer.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [app])).rows[0].n);
    // Three statements at once: the pool opens all three connections. They are counted while the
    // statements run — after them the idle timeout (100 ms) may already have closed some on a
    // busy machine.
    const running = Promise.all([1, 2, 3].map(() => ds.query(`SELECT pg_sleep(0.5)`)));
    let during = 0;
    for (const deadline = Date.now() + 5_000; during < 3 && Date.now() < deadline; ) {
      during = await open();
      if (during < 3) await new Promise((r) => setTimeout(r, 20));
    }
    await running;
    return { app, open, during };
  }

  it('keeps every connection open across idle time by default', async () => {
    const { open } = await burst({});
    expect(await open()).toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await open()).toBe(3);
  });

  it('closes idle connections above poolMin after the idle timeout', async () => {
    const { open, during } = await burst({ poolMin: 1 });
    expect(during).toBe(3);
    const deadline = Date.now() + 5_000;
    while ((await open()) > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await open()).toBe(1);
  });
});
