/**
 * SIGTERM to a worker in the middle of jobs: running jobs finish (or return to the queue),
 * nothing is lost or sent twice, and the process exits 0 within the grace period.
 */
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { JobName, QueueName } from '@mz/contracts';
import { seedDatabase, createDataSource } from '@mz/db';
import { TestSmtpServer } from '../fakes/test-smtp-server';
import { makeComposedLetter, makeSubscription, makeUser } from '../support/fixtures';
import { eventually, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

const REPLY_DOMAIN = 'reply.test.localhost';

describe('graceful shutdown of a worker', () => {
  let env: TestEnv;
  let smtp: TestSmtpServer;
  let db: Client;

  beforeAll(async () => {
    env = await createTestEnv({ REPLY_DOMAIN });
    const ds = createDataSource({ url: env.databaseUrl });
    await ds.initialize();
    await seedDatabase(ds);
    await ds.destroy();
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    smtp = await TestSmtpServer.start({ acceptDelayMs: 1200 });
  });

  afterAll(async () => {
    await smtp?.close();
    await db?.end();
    await env?.dispose();
  });

  it('finishes running sends, exits 0, and the restarted worker sends the rest exactly once', async () => {
    const letters: string[] = [];
    for (let i = 0; i < 12; i++) {
      const user = await makeUser(db);
      const sub = await makeSubscription(db, user.id);
      letters.push((await makeComposedLetter(db, sub, REPLY_DOMAIN)).id);
    }
    const vars = { ...env.vars, SMTP_URL: smtp.url, MAILER_CONCURRENCY: '4', SHUTDOWN_TIMEOUT_MS: '15000' };
    const mailer = await startServiceProcess('mailer', vars);
    const queue = new Queue(QueueName.LettersSend, { connection: { url: env.redisUrl }, prefix: env.queuePrefix });
    try {
      await queue.addBulk(letters.map((id) => ({ name: JobName.SendLetter, data: { v: 1, letterId: id }, opts: { jobId: id } })));
      // Wait until sends are in flight (some rows `sending`), then ask the worker to stop.
      await eventually(async () => Number((await db.query(`SELECT count(*) FROM letter WHERE status = 'sending'`)).rows[0].count) > 0, 'sends in flight', 20_000, 20);
      const inFlight = Number((await db.query(`SELECT count(*) FROM letter WHERE status = 'sending'`)).rows[0].count);
      const started = Date.now();
      const code = await mailer.stop(30_000);
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      // Every send that was running when SIGTERM arrived completed: no row is left `sending`.
      const after = (await db.query(`SELECT status, count(*)::int AS n FROM letter GROUP BY status`)).rows;
      expect(after.find((r) => r.status === 'sending')).toBeUndefined();
      const sentBeforeRestart = after.find((r) => r.status === 'sent')?.n ?? 0;
      expect(sentBeforeRestart).toBeGreaterThanOrEqual(inFlight);
      expect(sentBeforeRestart).toBeLessThan(letters.length);

      const again = await startServiceProcess('mailer', vars);
      try {
        await eventually(async () => Number((await db.query(`SELECT count(*) FROM letter WHERE status = 'sent'`)).rows[0].count) === letters.length, 'all letters sent', 40_000);
      } finally {
        expect(await again.stop()).toBe(0);
      }
      const ids = smtp.messages.map((m) => m.messageId);
      expect(ids).toHaveLength(letters.length);
      expect(new Set(ids).size).toBe(letters.length);
    } finally {
      await queue.close();
      await mailer.kill();
    }
  }, 120_000);
});
