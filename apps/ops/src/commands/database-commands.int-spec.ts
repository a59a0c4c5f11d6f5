/**
 * The operator CLI's database commands against real Postgres and Redis (a test database cloned
 * from the migrated template, a queue prefix of its own): what each changes, what it audits, and
 * what it refuses (exit 2 for usage, 1 for a refusal, nothing changed).
 */
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { QueueName } from '@mz/contracts';
import { createDataSource, seedDatabase } from '@mz/db';
import { makeSubscription, makeUser } from '../../../../test/support/fixtures';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { runCli } from '../run-cli';

describe('npm run mz -- (database commands)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let redis: Redis;
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    if (!queues.has(name)) queues.set(name, new Queue(name, { connection: redis, prefix: env.queuePrefix }));
    return queues.get(name)!;
  };

  async function cli(args: string[], vars: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { env: { ...env.vars, ...vars }, out: (l) => out.push(...l.split('\n')), err: (l) => err.push(l) });
    return { code, out, err };
  }

  const adminActions = (action: string) =>
    ds.query(`SELECT actor, user_id AS "userId", letter_id AS "letterId", metadata FROM event_log WHERE type = 'ADMIN_ACTION' AND metadata->>'action' = $1 ORDER BY id`, [action]);

  beforeAll(async () => {
    env = await createTestEnv({ REPLY_DOMAIN: 'reply.mentor.test' });
    ds = createDataSource({ url: env.databaseUrl });
    await ds.initialize();
    await seedDatabase(ds);
    redis = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    for (const q of queues.values()) await q.close();
    await redis?.quit();
    await ds?.destroy();
    await env?.dispose();
  });

  describe('schedule-now', () => {
    it('runs one scheduler pass: a due subscription gets its letter and compose job, a second pass adds nothing', async () => {
      const user = await makeUser(ds);
      const sub = await makeSubscription(ds, user.id, { topic: 'focus', timezone: 'UTC', nextRunAt: new Date(Date.now() - 60_000) });
      const first = await cli(['schedule-now']);
      expect(first.code).toBe(0);
      expect(first.out[0]).toMatch(/^scheduled 1 letter\(s\) in 1 batch\(es\)$/);
      const letters = await ds.query(`SELECT id, status, kind FROM letter WHERE subscription_id = $1`, [sub]);
      expect(letters).toEqual([{ id: expect.any(String), status: 'scheduled', kind: 'scheduled' }]);
      expect(await queue(QueueName.LettersCompose).getJob(letters[0].id)).toBeTruthy();
      const [{ next_run_at }] = await ds.query(`SELECT next_run_at FROM subscription WHERE id = $1`, [sub]);
      expect(next_run_at.getTime()).toBeGreaterThan(Date.now());

      const again = await cli(['schedule-now', '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out.join('\n'))).toMatchObject({ scheduled: 0, enqueueFailed: 0 });
      expect(await ds.query(`SELECT id FROM letter WHERE subscription_id = $1`, [sub])).toHaveLength(1);
    });

    it('with Redis unreachable, fails within seconds (exit 1) and creates no letter', async () => {
      const user = await makeUser(ds);
      const sub = await makeSubscription(ds, user.id, { topic: 'focus', timezone: 'UTC', nextRunAt: new Date(Date.now() - 60_000) });
      const closed = await new Promise<number>((resolve) => {
        const srv = createServer();
        srv.listen(0, '127.0.0.1', () => {
          const port = (srv.address() as AddressInfo).port;
          srv.close(() => resolve(port));
        });
      });
      const started = Date.now();
      const r = await cli(['schedule-now'], { REDIS_URL: `redis://127.0.0.1:${closed}` });
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toMatch(/Redis is not reachable .*nothing was changed/);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await ds.query(`SELECT id FROM letter WHERE subscription_id = $1`, [sub])).toEqual([]);
      await ds.query(`UPDATE subscription SET enabled = false WHERE id = $1`, [sub]); // not for the next pass
    });

    it('refuses arguments it does not know', async () => {
      const r = await cli(['schedule-now', '--now']);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(/unknown option --now/);
    });
  });

  describe('send-letter', () => {
    it('schedules an extra letter through LetterCommands.sendNow and queues its compose job; the schedule is unchanged', async () => {
      const user = await makeUser(ds, { email: 'Grace@Example.test' });
      const sub = await makeSubscription(ds, user.id, { topic: 'focus' });
      const r = await cli(['send-letter', '--email', 'GRACE@example.test', '--topic', 'focus']);
      expect(r).toMatchObject({ code: 0, err: [] });
      const [letter] = await ds.query(`SELECT id, kind, status FROM letter WHERE subscription_id = $1`, [sub]);
      expect(letter).toMatchObject({ kind: 'send_now', status: 'scheduled' });
      expect(r.out[0]).toContain(letter.id);
      expect(await queue(QueueName.LettersCompose).getJob(letter.id)).toBeTruthy();
      const [event] = await ds.query(`SELECT actor FROM event_log WHERE letter_id = $1 AND type = 'LETTER_SCHEDULED'`, [letter.id]);
      expect(event.actor).toBe('ops-cli');
      expect(await ds.query(`SELECT next_run_at FROM subscription WHERE id = $1`, [sub])).toEqual([{ next_run_at: null }]);
    });

    it('refuses unknown users, missing subscriptions and bad input, changing nothing', async () => {
      const user = await makeUser(ds);
      const before = await ds.query(`SELECT count(*)::int AS n FROM letter`);
      const cases: [string[], number, RegExp][] = [
        [['send-letter', '--email', 'nobody@example.test', '--topic', 'focus'], 1, /no user with that address/],
        [['send-letter', '--email', user.email, '--topic', 'focus'], 1, /subscription not found/],
        [['send-letter', '--email', 'not-an-address', '--topic', 'focus'], 2, /--email must be an email address/],
        [['send-letter', '--email', user.email, '--topic', "focus'; --"], 2, /--topic must be a topic code/],
        [['send-letter', '--email', user.email], 2, /--email and --topic are required/],
        [['send-letter', '--email', '--topic', 'focus'], 2, /--email needs a value/],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(args);
        expect({ args, code: r.code }).toEqual({ args, code });
        expect(r.err.join('\n')).toMatch(message);
      }
      expect(await ds.query(`SELECT count(*)::int AS n FROM letter`)).toEqual(before);
    });
  });

  describe('redrive', () => {
    async function failedLetter(sub: string, o: { errorType: string; failedAt: Date; body?: boolean }): Promise<string> {
      const id = randomUUID();
      await ds.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, error_type, last_error, updated_at, body_text, subject)
         SELECT $1, s.id, s.user_id, s.topic_id, 'send_now', 'failed', $3, $8, $4, $5, 'boom', $3, $6, $7 FROM subscription s WHERE s.id = $2`,
        [id, sub, o.failedAt, `<mz.${id}@reply.mentor.test>`, o.errorType, o.body ? 'Dear friend' : null, o.body ? 'Subject' : null, o.failedAt.toISOString().slice(0, 10)],
      );
      return id;
    }

    it('lists with --dry-run, then re-drives exactly the matching failed letters through retryNow, audited, with progress on stderr', async () => {
      const user = await makeUser(ds);
      const focus = await makeSubscription(ds, user.id, { topic: 'focus' });
      const other = await makeSubscription(ds, user.id, { topic: 'curiosity' });
      const day = (d: number) => new Date(Date.UTC(2026, 10, d, 12));
      const match = [
        await failedLetter(focus, { errorType: 'network', failedAt: day(2) }),
        await failedLetter(focus, { errorType: 'network', failedAt: day(3), body: true }),
        await failedLetter(focus, { errorType: 'network', failedAt: day(4) }),
      ];
      const outside = [
        await failedLetter(focus, { errorType: 'permanent', failedAt: day(3) }), // other error class
        await failedLetter(other, { errorType: 'network', failedAt: day(3) }), // other topic
        await failedLetter(focus, { errorType: 'network', failedAt: day(9) }), // after --until
      ];
      const filter = ['--topic', 'focus', '--error', 'network', '--since', '2026-11-01', '--until', '2026-11-05T00:00:00Z'];

      const dry = await cli(['redrive', ...filter, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.out.slice(1, -1).map((l) => l.split('\t')[0]).sort()).toEqual([...match].sort());
      expect(dry.out.at(-1)).toBe('would re-drive 3 failed letter(s)');
      expect(await ds.query(`SELECT count(*)::int AS n FROM letter WHERE status = 'failed'`)).toEqual([{ n: 6 }]);

      const run = await cli(['redrive', ...filter, '--progress-every', '2']);
      expect(run.code).toBe(0);
      expect(run.out).toEqual(['re-drove 3 of 3 failed letter(s)']);
      expect(run.err).toEqual(['redrive: 2 letter(s) processed, 2 re-driven, 0 refused']);
      const rows: { id: string; status: string; error_type: string | null }[] = await ds.query(`SELECT id, status, error_type FROM letter WHERE id = ANY($1::uuid[])`, [[...match, ...outside]]);
      const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
      expect(match.map((id) => status[id])).toEqual(['scheduled', 'composed', 'scheduled']);
      expect(outside.map((id) => status[id])).toEqual(['failed', 'failed', 'failed']);
      expect(rows.filter((r) => match.includes(r.id)).every((r) => r.error_type === null)).toBe(true);
      expect(await queue(QueueName.LettersCompose).getJob(match[0])).toBeTruthy();
      expect(await queue(QueueName.LettersSend).getJob(match[1])).toBeTruthy();
      const audit = await adminActions('letter.retry');
      expect(audit.map((a: { letterId: string }) => a.letterId).sort()).toEqual([...match].sort());
      expect(audit[0]).toMatchObject({ actor: 'ops-cli', metadata: { via: 'redrive', from: 'failed' } });

      const none = await cli(['redrive', ...filter]);
      expect(none).toMatchObject({ code: 0, out: ['re-drove 0 of 0 failed letter(s)'] });
    });

    it('leaves a letter whose subscription is disabled failed, says so, and exits 1', async () => {
      const user = await makeUser(ds);
      const sub = await makeSubscription(ds, user.id, { topic: 'focus', enabled: false });
      const id = await failedLetter(sub, { errorType: 'rate_limit', failedAt: new Date(Date.UTC(2025, 0, 10)) });
      const r = await cli(['redrive', '--error', 'rate_limit', '--since', '2025-01-01', '--until', '2025-02-01']);
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toContain(`letter ${id} cannot be retried: subscription is disabled`);
      expect(await ds.query(`SELECT status FROM letter WHERE id = $1`, [id])).toEqual([{ status: 'failed' }]);
    });

    it('refuses a bad filter with its usage', async () => {
      const cases: [string[], RegExp][] = [
        [['redrive'], /--since is required/],
        [['redrive', '--since', 'yesterday'], /--since must be an ISO 8601/],
        [['redrive', '--since', '2026-11-05', '--until', '2026-11-01'], /--until must be after --since/],
        [['redrive', '--since', '2026-11-01', '--error', 'cosmic'], /--error must be one of rate_limit, network, processing, permanent/],
        [['redrive', '--since', '2026-11-01', '--progress-every', '0'], /--progress-every must be a whole number/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.err.join('\n')).toMatch(message);
        expect(r.err.join('\n')).toMatch(/usage: npm run mz -- redrive/);
      }
    });
  });

  describe('suppressions', () => {
    it('lists by part of the address and reason, and lifts with the console\'s audit entry and event', async () => {
      const user = await makeUser(ds, { email: 'bounced_1@example.test' });
      const [hard] = await ds.query(`INSERT INTO suppression (address, reason, detail) VALUES ('bounced_1@example.test', 'hard_bounce', '550 5.1.1 no such user') RETURNING id`);
      await ds.query(`INSERT INTO suppression (address, reason) VALUES ('bouncedx1@example.test', 'complaint'), ('other@example.test', 'manual')`);

      const list = await cli(['suppressions', 'list', '--q', 'BOUNCED_1']);
      expect(list.code).toBe(0);
      // "_" is a literal underscore, not a LIKE wildcard (bouncedx1 is not listed).
      expect(list.out.slice(1)).toEqual([expect.stringMatching(new RegExp(`^${hard.id}\tbounced_1@example.test\thard_bounce\t.*\t550 5.1.1 no such user$`)), '1 of 1 (page 1)']);
      const byReason = await cli(['suppressions', 'list', '--reason', 'complaint', '--json']);
      expect(JSON.parse(byReason.out.join('\n'))).toMatchObject({ total: 1, items: [{ address: 'bouncedx1@example.test' }] });

      const lift = await cli(['suppressions', 'lift', hard.id]);
      expect(lift).toMatchObject({ code: 0, err: [] });
      expect(await ds.query(`SELECT id FROM suppression WHERE id = $1`, [hard.id])).toEqual([]);
      expect(await adminActions('suppression.lift')).toEqual([
        { actor: 'ops-cli', userId: user.id, letterId: null, metadata: expect.objectContaining({ action: 'suppression.lift', suppressionId: hard.id, reason: 'hard_bounce' }) },
      ]);
      expect(await ds.query(`SELECT actor FROM event_log WHERE type = 'SUPPRESSION_LIFTED' AND user_id = $1`, [user.id])).toEqual([{ actor: 'ops-cli' }]);

      const again = await cli(['suppressions', 'lift', hard.id]);
      expect(again.code).toBe(1);
      expect(again.err.join('\n')).toMatch(/Suppression not found/);
    });

    it('refuses bad input with exit 2', async () => {
      const cases: [string[], RegExp][] = [
        [['suppressions'], /a subcommand is required: list or lift <id>/],
        [['suppressions', 'drop'], /unknown subcommand "drop"/],
        [['suppressions', 'lift'], /missing argument/],
        [['suppressions', 'lift', 'not-a-uuid'], /<id> must be a UUID/],
        [['suppressions', 'list', '--reason', 'spam'], /--reason must be one of hard_bounce, complaint, manual/],
        [['suppressions', 'list', '--page-size', '5000'], /--page-size must be a whole number from 1 to 500/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.err.join('\n')).toMatch(message);
      }
    });
  });

  describe('admin', () => {
    it('creates an admin, promotes a subscriber, demotes, refuses to demote the last active admin; each change audited', async () => {
      await ds.query(`UPDATE app_user SET role = 'subscriber' WHERE role = 'admin'`);
      const created = await cli(['admin', 'create', 'Ada@Example.test', '--name', 'Ada Lovelace']);
      expect(created.code).toBe(0);
      const [ada] = await ds.query(`SELECT id, email, name, role, status FROM app_user WHERE email = 'ada@example.test'`);
      expect(ada).toMatchObject({ name: 'Ada Lovelace', role: 'admin', status: 'active' });
      expect(created.out).toEqual([`created admin ${ada.id}`]);

      const lastOne = await cli(['admin', 'demote', 'ada@example.test']);
      expect(lastOne.code).toBe(1);
      expect(lastOne.err.join('\n')).toMatch(/refusing to demote the last active admin/);

      const grace = await makeUser(ds, { email: 'grace@admins.test' });
      expect((await cli(['admin', 'create', 'grace@admins.test'])).out).toEqual([`promoted user ${grace.id} to admin`]);
      expect((await cli(['admin', 'create', 'grace@admins.test'])).out).toEqual([`user ${grace.id} is already an admin`]);
      const demoted = await cli(['admin', 'demote', 'ADA@example.test']);
      expect(demoted).toMatchObject({ code: 0, out: [`demoted user ${ada.id} to subscriber`] });
      expect(await ds.query(`SELECT role FROM app_user WHERE id = $1`, [ada.id])).toEqual([{ role: 'subscriber' }]);

      expect((await adminActions('user.create_admin')).map((a: { userId: string; actor: string }) => [a.actor, a.userId])).toEqual([['ops-cli', ada.id]]);
      expect((await adminActions('user.promote')).map((a: { userId: string }) => a.userId)).toEqual([grace.id]);
      expect(await adminActions('user.demote')).toEqual([{ actor: 'ops-cli', userId: ada.id, letterId: null, metadata: { action: 'user.demote', from: 'admin', to: 'subscriber' } }]);
    });

    it('refuses suspended users, unknown users and bad input', async () => {
      await makeUser(ds, { email: 'held@example.test', status: 'suspended' });
      const cases: [string[], number, RegExp][] = [
        [['admin', 'create', 'held@example.test'], 1, /user is suspended/],
        [['admin', 'demote', 'ghost@example.test'], 1, /User not found/],
        [['admin', 'create', 'not an address'], 2, /<email> must be an email address/],
        [['admin', 'create'], 2, /missing argument/],
        [['admin', 'demote', 'a@example.test', '--name', 'x'], 2, /unknown option --name/],
        [['admin', 'create', 'a@example.test', '--name', ''], 2, /--name needs a value/],
        [['admin', 'promote', 'a@example.test'], 2, /unknown subcommand "promote"/],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(args);
        expect({ args, code: r.code }).toEqual({ args, code });
        expect(r.err.join('\n')).toMatch(message);
      }
      expect(await ds.query(`SELECT role FROM app_user WHERE email = 'held@example.test'`)).toEqual([{ role: 'subscriber' }]);
      expect(await ds.query(`SELECT id FROM app_user WHERE email IN ('ghost@example.test', 'a@example.test')`)).toEqual([]);
    });
  });

  it('--help lists every command; a command\'s --help its options; an unknown command is exit 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['schedule-now', 'send-letter', 'redrive', 'suppressions', 'admin', 'dns-records']) expect(help.out.join('\n')).toMatch(new RegExp(`\\n  ${name}\\s`));
    const one = await cli(['redrive', '--help']);
    expect(one.out.join('\n')).toMatch(/--dry-run/);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/unknown command "frobnicate"[\s\S]*schedule-now/);
  });
});
