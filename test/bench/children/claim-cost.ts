/**
 * R4: what one scheduler pass costs per due row, through the real ScheduleDueService from dist
 * (claim FOR UPDATE SKIP LOCKED, letter INSERT, cursor UPDATE, events, compose addBulk), on
 * whatever table the harness seeded. Between repetitions the due rows are put back exactly as
 * they were (their letters deleted, cursors reset, the table vacuumed) outside the timed part.
 * Also times the bare claim SELECT (rolled back) and captures its plan.
 */
import { join } from 'node:path';
import pino from 'pino';
import { requireEnv, serve } from './child-ipc';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (rel: string) => require(join(requireEnv('MZ_DIST'), rel));


interface MeasureArgs {
  dueIds: string[];
  /** The due slot (ISO), and the wall-clock time it is in UTC. */
  slot: string;
  sendTimeLocal: string;
  reps: number;
}

async function main(): Promise<void> {
  const { parseConfig, JobName, JOBS } = load('libs/contracts/src/index.js');
  const { AppConfigRepository, createDataSource } = load('libs/db/src/index.js');
  const { Clock, MetricsService, QueueService, RedisConnections } = load('libs/platform/src/index.js');
  // The product's own claim statement, for the bare timing and the plan.
  const { CLAIM_DUE_SQL: CLAIM_SQL, ScheduleDueService } = load('libs/domain/src/scheduling/schedule-due.service.js');

  const config = parseConfig(process.env);
  const ds = createDataSource({ url: config.DATABASE_URL, poolMax: 2, applicationName: 'mz-bench-claim' });
  await ds.initialize();
  const redis = new RedisConnections(config);
  const queues = new QueueService(config, redis);
  const service = new ScheduleDueService(ds, queues, new Clock(), new MetricsService('bench'), config, pino({ level: 'silent' }), new AppConfigRepository(ds));
  const composeQueue = queues.queue(JOBS[JobName.ComposeLetter].queue);

  const reset = async ({ dueIds, slot, sendTimeLocal }: MeasureArgs) => {
    await ds.query(`DELETE FROM event_log WHERE subscription_id = ANY($1::uuid[])`, [dueIds]);
    await ds.query(`DELETE FROM letter WHERE subscription_id = ANY($1::uuid[])`, [dueIds]);
    await ds.query(
      `UPDATE subscription SET next_run_at = $2, send_time_local = $3, last_scheduled_local_date = NULL WHERE id = ANY($1::uuid[])`,
      [dueIds, slot, sendTimeLocal],
    );
    await composeQueue.obliterate({ force: true });
    // Same physical state before every repetition: no dead tuples from the last one in the way.
    await ds.query(`VACUUM (ANALYZE) subscription, letter, event_log`);
  };

  const claimOnly = async (): Promise<{ ms: number; rows: number }> => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const horizon = new Date(Date.now() + config.COMPOSE_LEAD);
      const started = performance.now();
      const rows = await runner.query(CLAIM_SQL, [horizon, config.SCHEDULER_BATCH_SIZE, []]);
      const ms = performance.now() - started;
      await runner.rollbackTransaction();
      return { ms, rows: rows.length };
    } finally {
      await runner.release();
    }
  };

  serve({
    measure: async (args: MeasureArgs) => {
      const reps: { ms: number; scheduled: number; batches: number }[] = [];
      const claims: { ms: number; rows: number }[] = [];
      // The first WARM repetitions warm the JIT (the schedule maths above all), the pools and the
      // buffer cache; they are not reported (times fall by half over the first few otherwise).
      const WARM = 3;
      for (let i = 0; i < WARM + args.reps; i++) {
        await reset(args);
        const c = await claimOnly();
        const started = performance.now();
        const result = await service.scheduleDue();
        const ms = performance.now() - started;
        if (result.scheduled !== args.dueIds.length) {
          throw new Error(`expected ${args.dueIds.length} letters scheduled, got ${JSON.stringify(result)}`);
        }
        if (i >= WARM) {
          reps.push({ ms, scheduled: result.scheduled, batches: result.batches });
          claims.push(c);
        }
      }
      await reset(args);
      const horizon = new Date(Date.now() + config.COMPOSE_LEAD);
      const explain = async (sql: string): Promise<string> => {
        const plan: { 'QUERY PLAN': string }[] = await ds.transaction((m: any) =>
          m.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING) ${sql}`, [horizon, config.SCHEDULER_BATCH_SIZE, []]),
        );
        return plan.map((r) => r['QUERY PLAN']).join('\n');
      };
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM subscription`);
      return { subscriptions: n, reps, claims, plan: await explain(CLAIM_SQL) };
    },
  });
  process.on('SIGTERM', () => {
    void Promise.allSettled([queues.close(), redis.onApplicationShutdown(), ds.destroy()]).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
