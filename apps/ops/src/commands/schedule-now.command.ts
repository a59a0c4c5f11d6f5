import { DataSource } from 'typeorm';
import { ScheduleDueService } from '@mz/domain';
import { type OpsCommand, parseOptions } from '../command';
import { requireRedis, withOpsApp } from '../ops-app';

/**
 * `npm run mz -- schedule-now`: one scheduler pass in this process, with the scheduler's own code
 * (ScheduleDueService, libs/domain/src/scheduling). It claims due rows FOR UPDATE SKIP LOCKED
 * like any scheduler replica (docs/architecture.md §3), so running it beside the scheduler
 * schedules nothing twice; the compose jobs it queues are picked up by the composer as usual.
 */
export const scheduleNowCommand: OpsCommand = {
  name: 'schedule-now',
  summary: 'Run one scheduler pass now: due subscriptions become letters and their compose jobs are queued',
  usage: ['--json                  machine-readable output'],
  async run(args, io) {
    const o = parseOptions(args, { json: 'boolean' });
    return withOpsApp(io, async (app) => {
      // As the scheduler's tick: never schedule against a schema the migrate job has not brought up to date.
      if (await app.get(DataSource).showMigrations()) {
        io.err('mz schedule-now: pending migrations; run the migrate job first (docs/operations.md)');
        return 1;
      }
      await requireRedis(app);
      const result = await app.get(ScheduleDueService).scheduleDue();
      if (o.json) io.out(JSON.stringify(result, null, 2));
      else {
        io.out(`scheduled ${result.scheduled} letter(s) in ${result.batches} batch(es)`);
        io.out(`skipped (past the catch-up window) ${result.skipped}, slots passed over ${result.advanced}, cursors initialised ${result.initialised}`);
        if (result.invalid) io.out(`subscriptions with an invalid schedule (left untouched, see the logs) ${result.invalid}`);
        if (result.enqueueFailed) io.out(`compose jobs not queued (the sweeper re-drives them) ${result.enqueueFailed}`);
      }
      return result.enqueueFailed ? 1 : 0;
    });
  },
};
