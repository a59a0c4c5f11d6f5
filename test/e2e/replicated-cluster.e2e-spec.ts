/**
 * Every worker service replicated (2 schedulers, 2 composers, 2 mailers, 2 inbound) on a real
 * 3-master / 3-replica Redis Cluster and a real PgBouncer in transaction mode, both started by
 * this file, with the faults of issue 15 injected and their recovery figures printed:
 *
 * 1. kill -9 of one composer (mid-LLM-call) and one mailer (inside the send burst), not
 *    restarted — the surviving replicas and the sweeper finish the work; with the default lease
 *    (LEASE_MS 30 s, heartbeat-extended) every letter is sent within 60 s of the kill;
 * 2. CLUSTER FAILOVER of the master holding the queues' slot and a kill -9 + restart of PgBouncer,
 *    both mid-burst;
 * 3. the same reply delivered to both inbound replicas at once → stored once, applied once.
 *
 * Always: no letter lost, a second delivery only within the counted ambiguous resends.
 */
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { signWebhook } from '../../apps/inbound/src/receive/webhook/webhook-signature';
import { FakeLlmServer } from '../fakes/fake-llm-server';
import { type CapturedMail, TestSmtpServer } from '../fakes/test-smtp-server';
import { metricValue } from '../support/metrics';
import { startPgBouncer, type TestPgBouncer } from '../support/pgbouncer';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { eventually, freePort, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { loadContext, loadFixture } from './inbound-support/reply-fixtures';

const REPLY_DOMAIN = 'reply.cluster.example';
const WEBHOOK_SECRET = 'cluster-e2e-webhook-secret-0123';

describe('replicated services on Redis Cluster + PgBouncer', () => {
  let cluster: TestRedisCluster;
  let bouncer: TestPgBouncer;
  let env: TestEnv;
  let ds: DataSource;
  let llm: FakeLlmServer;
  let smtp: TestSmtpServer;
  let vars: Record<string, string>;
  let prefix: string;
  const all: ServiceProcess[] = [];
  const byApp: Record<'scheduler' | 'composer' | 'mailer' | 'inbound', ServiceProcess[]> = { scheduler: [], composer: [], mailer: [], inbound: [] };
  const inboundSmtpPorts: number[] = [];
  let failed = false;
  const figures: string[] = [];

  beforeAll(async () => {
    [cluster, bouncer, env] = await Promise.all([startRedisCluster(), startPgBouncer({ poolSize: 20 }), createTestEnv()]);
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    await seedDatabase(ds);
    [llm, smtp] = await Promise.all([FakeLlmServer.start({ latencyMs: 800 }), TestSmtpServer.start({ acceptDelayMs: 300 })]);
    prefix = `{${env.queuePrefix}}`;
    vars = {
      ...env.vars,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      // Pooled through PgBouncer; only the database commands would use the direct URL.
      DATABASE_URL: bouncer.urlFor(env.database),
      DATABASE_MIGRATION_URL: env.databaseUrl,
      DATABASE_POOL_MAX: '4',
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PREFIX: prefix,
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'e2e-key',
      LLM_MODEL: 'e2e-model',
      LLM_TIMEOUT_MS: '20000',
      SMTP_URL: smtp.url,
      SMTP_RATE_PER_SEC: '200',
      REPLY_DOMAIN,
      WEBHOOK_SECRET,
      APP_BASE_URL: 'https://mentor.cluster.example',
      SCHEDULER_TICK_MS: '500',
      SCHEDULER_BATCH_SIZE: '20',
      COMPOSER_CONCURRENCY: '4',
      MAILER_CONCURRENCY: '4',
      RETRY_DELAY_SCALE: '0.01',
      SHUTDOWN_TIMEOUT_MS: '5000',
      // LEASE_MS and SWEEP_INTERVAL_MS stay at their defaults: the 60 s recovery is theirs.
    };
    const start = async (app: keyof typeof byApp, extra: Record<string, string> = {}) => {
      const p = await startServiceProcess(app, { ...vars, ...extra }, { readyTimeoutMs: 90_000 });
      all.push(p);
      byApp[app].push(p);
      return p;
    };
    inboundSmtpPorts.push(await freePort(), await freePort());
    await Promise.all([
      start('scheduler'), start('scheduler'), start('composer'), start('composer'), start('mailer'), start('mailer'),
      ...inboundSmtpPorts.map((port) => start('inbound', { INBOUND_SMTP_PORT: String(port) })),
    ]);
  }, 180_000);

  afterAll(async () => {
    if (failed) for (const p of all) console.log(`--- ${p.app} :${p.port}\n${p.output().slice(-4000)}`);
    console.log(`replicated fault figures (Redis Cluster 3+3, PgBouncer transaction mode, 2 of each service):\n${figures.join('\n')}`);
    await Promise.all(all.map((p) => p.kill()));
    await Promise.all([llm?.close(), smtp?.close()]);
    if (ds?.isInitialized) await ds.destroy();
    await env?.dispose();
    await Promise.all([bouncer?.stop(), cluster?.stop()]);
  });

  const track = <T>(fn: () => Promise<T>) => async () => {
    try {
      return await fn();
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  /** n due subscriptions (UTC), slots from `firstAt` over `spreadMs`, emails `<tag>-<i>@…`. */
  async function seedDue(tag: string, n: number, firstAt: number, spreadMs: number): Promise<void> {
    const rows = Array.from({ length: n }, (_, i) => {
      const at = new Date(firstAt + Math.round((i * spreadMs) / n));
      return { email: `${tag}-${i}@subscribers.example`, time: at.toISOString().slice(11, 16), at: at.toISOString() };
    });
    await ds.query(
      `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS v(email, time, at)),
            u AS (INSERT INTO app_user (email, name) SELECT email, 'Sam' FROM v RETURNING id, email)
       INSERT INTO subscription (user_id, topic_id, timezone, send_time_local, next_run_at)
       SELECT u.id, (SELECT id FROM topic WHERE code = 'focus'), 'UTC', v.time, v.at FROM v JOIN u ON u.email = v.email`,
      [rows.map((r) => r.email), rows.map((r) => r.time), rows.map((r) => r.at)],
    );
  }

  const sentLetters = async (tag: string): Promise<{ message_id: string; sent_at: Date; email: string; id: string; subscription_id: string }[]> =>
    ds.query(`SELECT l.id, l.message_id, l.sent_at, u.email, l.subscription_id FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE $1 AND l.status = 'sent'`, [`${tag}-%`]);
  const countLetters = async (tag: string): Promise<number> =>
    (await ds.query(`SELECT count(*)::int AS n FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE $1`, [`${tag}-%`]))[0].n;
  const live = (app: keyof typeof byApp) => byApp[app].filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
  const metricSum = async (procs: ServiceProcess[], name: string) => (await Promise.all(procs.map((p) => metricValue(p.url, name)))).reduce((a, b) => a + b, 0);
  const deliveriesOf = (mails: CapturedMail[], ids: Set<string>) => {
    const seen = new Map<string, number>();
    for (const m of mails) if (ids.has(m.messageId ?? '')) seen.set(m.messageId!, (seen.get(m.messageId!) ?? 0) + 1);
    return seen;
  };

  /** Waits for all n of a batch to be sent; checks loss and duplicates; returns the figures. */
  async function settle(tag: string, n: number, since: number, timeoutMs: number) {
    await eventually(async () => (await sentLetters(tag)).length === n, `all ${n} ${tag} letters sent`, timeoutMs, 250);
    await new Promise((r) => setTimeout(r, 1_500)); // would a straggler duplicate show up?
    const rows = await sentLetters(tag);
    expect(rows).toHaveLength(n);
    expect(await countLetters(tag)).toBe(n); // one letter per subscription, none created twice
    const seen = deliveriesOf(smtp.messages, new Set(rows.map((r) => r.message_id)));
    for (const r of rows) expect(seen.get(r.message_id) ?? 0).toBeGreaterThanOrEqual(1); // none lost
    const duplicates = [...seen.values()].reduce((sum, k) => sum + k - 1, 0);
    const lastSent = Math.max(...rows.map((r) => r.sent_at.getTime()));
    return { rows, duplicates, recoverySec: (lastSent - since) / 1000 };
  }

  it('kill -9 of one composer mid-LLM-call and one mailer mid-burst: the replicas finish, every letter within 60 s of the kill', track(async () => {
    const N = 60;
    await seedDue('kill', N, Date.now() + 5_000, 3_000);
    await smtp.waitForCount(8, 90_000);
    const inFlight = (await ds.query(`SELECT status, count(*)::int AS n FROM letter WHERE status IN ('composing', 'sending') GROUP BY 1`)) as { status: string; n: number }[];
    const killedAt = Date.now();
    await Promise.all([byApp.composer[0].kill(), byApp.mailer[0].kill()]);
    const ambiguousBefore = await metricSum(live('scheduler'), 'mz_ambiguous_resends_total');

    const { duplicates, recoverySec } = await settle('kill', N, killedAt, 100_000);
    const ambiguous = (await metricSum(live('scheduler'), 'mz_ambiguous_resends_total')) - ambiguousBefore;
    const reDriven: { was: string; n: number }[] = await ds.query(
      `SELECT metadata->>'from' AS was, count(*)::int AS n FROM event_log WHERE actor = 'sweeper' AND metadata->>'reason' = 'lease_expired' GROUP BY 1 ORDER BY 1`,
    );
    figures.push(`  kill -9 composer + mailer: expected ${N}, sent ${N}, duplicates ${duplicates} (ambiguous counted ${ambiguous}), in flight at the kill ${JSON.stringify(inFlight)}, leases re-driven ${JSON.stringify(reDriven)}, last letter ${recoverySec.toFixed(1)} s after the kill`);
    expect(duplicates).toBeLessThanOrEqual(ambiguous);
    expect(recoverySec).toBeLessThanOrEqual(60);
  }), 150_000);

  it('Redis Cluster master failover and a PgBouncer restart mid-burst: nothing lost, nothing sent twice outside the ambiguous count', track(async () => {
    const N = 60;
    const ambiguousBefore = await metricSum(live('scheduler'), 'mz_ambiguous_resends_total');
    const before = smtp.count();
    await seedDue('fail', N, Date.now() + 3_000, 3_000);
    await smtp.waitForCount(before + 8, 90_000);
    const faultAt = Date.now();
    const [{ from, to }] = await Promise.all([cluster.failover(prefix), bouncer.restart()]);
    const faultsDoneSec = (Date.now() - faultAt) / 1000;
    const { duplicates, recoverySec } = await settle('fail', N, faultAt, 100_000);
    const ambiguous = (await metricSum(live('scheduler'), 'mz_ambiguous_resends_total')) - ambiguousBefore;
    figures.push(`  CLUSTER FAILOVER (${from.port} → ${to.port}) + PgBouncer kill -9/restart: expected ${N}, sent ${N}, duplicates ${duplicates} (ambiguous counted ${ambiguous}), faults took ${faultsDoneSec.toFixed(1)} s, last letter ${recoverySec.toFixed(1)} s after the faults`);
    expect(duplicates).toBeLessThanOrEqual(ambiguous);
    // Every service still ready against the promoted master and the restarted PgBouncer.
    for (const p of [...live('scheduler'), ...live('composer'), ...live('mailer'), ...live('inbound')]) {
      const ready = await eventually(async () => ((await fetch(`${p.url}/health/ready`)).status === 200 ? true : null), `${p.app} ready again`, 20_000);
      expect(ready).toBe(true);
    }
  }), 150_000);

  it('the same reply delivered to both inbound replicas at once is stored once and applied once', track(async () => {
    const [letter] = await sentLetters('kill');
    const values = { ...loadContext().substitutions, '{{SUBSCRIBER}}': letter.email, '{{REPLY_DOMAIN}}': REPLY_DOMAIN, '{{LETTER_MESSAGE_ID}}': letter.message_id };
    const raw = loadFixture('gmail-done-short.eml', values);
    const sign = () => ({ 'content-type': 'message/rfc822', 'x-mz-signature': signWebhook(WEBHOOK_SECRET, raw, Math.floor(Date.now() / 1000)) });
    const smtpSend = async (port: number) => {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
      try {
        return await t.sendMail({ envelope: { from: letter.email, to: [`reply@${REPLY_DOMAIN}`] }, raw });
      } finally {
        t.close();
      }
    };
    const started = Date.now();
    const [a, b, c, d] = await Promise.all([
      fetch(`${byApp.inbound[0].url}/webhooks/reply`, { method: 'POST', headers: sign(), body: new Uint8Array(raw) }),
      fetch(`${byApp.inbound[1].url}/webhooks/reply`, { method: 'POST', headers: sign(), body: new Uint8Array(raw) }),
      smtpSend(inboundSmtpPorts[0]),
      smtpSend(inboundSmtpPorts[1]),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(c.response).toMatch(/^250/);
    expect(d.response).toMatch(/^250/);
    const duplicateAnswers = [(await a.json()).duplicate, (await b.json()).duplicate].filter(Boolean).length + [c, d].filter((r) => /already received/.test(r.response)).length;
    expect(duplicateAnswers).toBe(3); // one of four copies stored, three told they were duplicates

    await eventually(async () => {
      const [row] = await ds.query(`SELECT processed_at FROM inbound_message WHERE from_address = $1`, [letter.email]);
      return row?.processed_at ? true : null;
    }, 'the reply processed', 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const stored = await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE from_address = $1`, [letter.email]);
    expect(stored[0].n).toBe(1);
    const progress = await ds.query(`SELECT completed FROM progress WHERE subscription_id = $1`, [letter.subscription_id]);
    expect(progress).toEqual([{ completed: true }]);
    figures.push(`  same reply to both inbound replicas (2 webhook + 2 SMTP copies at once): stored 1, applied 1, processed ${((Date.now() - started) / 1000).toFixed(1)} s after delivery`);
  }), 60_000);

  it('refuses a forged cluster configuration: a prefix without a hash tag stops the service at start', track(async () => {
    const p = await startServiceProcess('mailer', { ...vars, QUEUE_PREFIX: env.queuePrefix }, { readyTimeoutMs: 30_000 }).catch((err: Error) => err);
    expect(p).toBeInstanceOf(Error);
    expect(String(p)).toMatch(/QUEUE_PREFIX/);
  }), 60_000);
});
