/**
 * Every service is a real NestJS process: it boots, reports health and metrics, refuses a bad
 * configuration naming the variable, and exits 0 on SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { type AppName, type ServiceProcess, startServiceProcess } from '../support/services';

const APPS: AppName[] = ['api', 'scheduler', 'composer', 'mailer', 'inbound'];

describe('service lifecycle', () => {
  let env: TestEnv;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
  });

  afterAll(async () => {
    await Promise.all(running.map((s) => s.kill()));
    await env?.dispose();
  });

  it('all five services become ready, serve metrics, and exit 0 on SIGTERM', async () => {
    running.push(...(await Promise.all(APPS.map((app) => startServiceProcess(app, env.vars)))));
    for (const svc of running) {
      const live = await fetch(`${svc.url}/health/live`);
      expect(live.status).toBe(200);
      const ready = await (await fetch(`${svc.url}/health/ready`)).json();
      expect(ready.checks).toMatchObject({ database: { ok: true }, redis: { ok: true }, migrations: { ok: true } });
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toContain(`process_cpu_user_seconds_total{service="${svc.app}"}`);
    }
    const codes = await Promise.all(running.map((s) => s.stop(20_000)));
    expect(codes).toEqual(APPS.map(() => 0));
  }, 90_000);

  it.each(APPS)('%s refuses to start with a bad variable and names it', (app) => {
    const res = spawnSync(process.execPath, [join(__dirname, '../../dist/apps', app, 'src/main.js')], {
      env: { PATH: process.env.PATH, ...env.vars, REDIS_URL: 'http://not-redis', SCHEDULER_TICK_MS: 'often' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('REDIS_URL');
    expect(res.stderr).toContain('SCHEDULER_TICK_MS');
    expect(res.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('reports not ready while migrations are pending', async () => {
    const empty = await createTestEnv();
    try {
      const { withAdminClient } = await import('../support/pg-admin');
      await withAdminClient(empty.databaseUrl, (c) => c.query(`DELETE FROM typeorm_migrations`));
      const svc = await startServiceProcess('scheduler', empty.vars, { readyTimeoutMs: 3_000 }).catch((e: Error) => e);
      expect(svc).toBeInstanceOf(Error);
      expect(String(svc)).toMatch(/not ready/);
    } finally {
      await empty.dispose();
    }
  }, 30_000);
});
