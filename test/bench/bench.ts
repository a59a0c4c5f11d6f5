/**
 * `npm run bench` (test/bench/run.mjs compiles this with SWC and calls `main`): runs the real
 * services as processes against local Postgres and Redis in a database of its own, with the fake
 * LLM and an SMTP sink, next to raw baselines on the same Redis/SMTP sink, and writes
 * bench-results/<stamp>.json + .md. Ratios, never absolute timings, are the targets (issue 7).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import type { Client } from 'pg';
import {
  backends, connect, countLetters, databaseUrl, dropDatabase, letterIds, resetPipelineTables, roundLetters, seedLetters, seedSubscriptions, setupDatabase,
  type SeededBody,
} from './bench-db';
import { type BenchOptions, parseBenchArgs, type Phase, USAGE } from './bench-options';
import { flowedMail, manyAddressMail, replyHeaders } from './bench-mail';
import { type ChildHandle, freePort, type ServiceApp, type ServiceHandle, startChild, startService } from './bench-processes';
import { aggregateStatementLog, gcTotals, summariseCpuProfile } from './bench-profile';
import { buildReport, type BenchResults } from './bench-report';
import { deleteKeys, peakRssMb, redisMemory, type RedisMemory, type RedisTarget, snapshot, type Usage, usageBetween } from './bench-observe';
import { startPgBouncer, type TestPgBouncer } from '../support/pgbouncer';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { median, pairwiseRatios, ratePerSecond } from './bench-stats';

const REPLY_DOMAIN = 'reply.bench.example';
const APP_BASE_URL = 'https://mentor.bench.example';
const MAIL_FROM = 'Mentor Zero <mentor@mentor.bench.example>';
const ENQUEUE_CHUNK = 1000;
const PG_LOG = '/var/log/postgresql/postgresql-15-main.log';

type Any = any;

/** The compiled product code the harness uses as a producer would (job options, queue service, MIME). */
interface Dist {
  JobName: Record<string, string>;
  QueueName: Record<string, string>;
  DEFAULT_JOB_OPTIONS: Record<string, unknown>;
  parseConfig: (env: Record<string, string | undefined>) => Any;
  QueueService: Any;
  RedisConnections: Any;
  renderLetterMail: (input: Any) => Any;
  DEFAULT_FOOTER: { text: string; html: string };
  links: Any;
  signUnsubscribeToken: (id: string, secret: string) => string;
  defaults: Any;
}

function loadDist(distDir: string): Dist {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const req = (rel: string) => require(join(distDir, rel));
  const contracts = req('libs/contracts/src/index.js');
  const platform = req('libs/platform/src/index.js');
  const db = req('libs/db/src/index.js');
  const domain = req('libs/domain/src/index.js');
  const mail = req('apps/mailer/src/render-mail.js');
  return {
    JobName: contracts.JobName,
    QueueName: contracts.QueueName,
    DEFAULT_JOB_OPTIONS: platform.DEFAULT_JOB_OPTIONS,
    parseConfig: contracts.parseConfig,
    QueueService: platform.QueueService,
    RedisConnections: platform.RedisConnections,
    renderLetterMail: mail.renderLetterMail,
    DEFAULT_FOOTER: db.DEFAULT_FOOTER,
    links: domain.links,
    signUnsubscribeToken: domain.signUnsubscribeToken,
    defaults: contracts.parseConfig({}),
  };
}

/** `--cluster`: the distributed engines the services (and the baselines) run on. */
interface Infra {
  cluster: TestRedisCluster;
  bouncer: TestPgBouncer;
}

interface Ctx {
  root: string;
  distDir: string;
  opts: BenchOptions;
  stamp: string;
  serverUrl: string;
  dbName: string;
  dbUrl: string;
  redisUrl: string;
  /** Every Redis key of the run starts with this (`keyStem`); the pipeline uses `${stem}p`. */
  stem: string;
  prefix: string;
  /** A queue prefix as this run needs it: wrapped in a {hash tag} on a cluster. */
  tagged: (prefix: string) => string;
  /** What every key of the run starts with (`{stem` on a cluster). */
  keyStem: string;
  infra: Infra | null;
  outDir: string;
  logDir: string;
  profileDir: string;
  db: Client;
  redis: RedisTarget;
  fakes: ChildHandle;
  env: Record<string, string>;
  dist: Dist;
  producer: { queues: Any; connections: Any };
  results: BenchResults;
  running: Set<{ stop(): Promise<unknown> }>;
  log: (msg: string) => void;
  /** --profile: where this phase's lines start in the Postgres log, and backend pid → service. */
  pgLogOffset?: number;
  pgApps?: Map<number, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function main(argv: string[]): Promise<void> {
  const opts = parseBenchArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const root = process.env.MZ_ROOT;
  const distDir = process.env.MZ_DIST;
  if (!root || !distDir || !existsSync(join(distDir, 'apps/mailer/src/main.js'))) {
    throw new Error('MZ_ROOT and MZ_DIST must name the repo and a built dist/ snapshot: run it with `npm run bench`');
  }

  const started = new Date();
  const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const outDir = join(root, 'bench-results');
  const logDir = join(outDir, `${stamp}-logs`);
  const profileDir = join(outDir, `${stamp}-profiles`);
  mkdirSync(logDir, { recursive: true });
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `mz_bench_${stamp.toLowerCase()}`;
  const dbUrl = databaseUrl(serverUrl, dbName);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const stem = `mzb${stamp.toLowerCase()}`;
  const log = (msg: string) => console.log(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)}s] ${msg}`);

  log(`database ${dbName}: create + migrate + seed`);
  setupDatabase(root, distDir, dbUrl);
  const db = await connect(dbUrl);
  let infra: Infra | null = null;
  if (opts.cluster) {
    log('starting a Redis Cluster (3 masters + 3 replicas) and PgBouncer (transaction mode) on loopback');
    const [cluster, bouncer] = await Promise.all([startRedisCluster(), startPgBouncer({ poolSize: 40 })]);
    infra = { cluster, bouncer };
  }
  const redis: RedisTarget = infra
    ? new Cluster(infra.cluster.nodes, { redisOptions: { maxRetriesPerRequest: 3 } })
    : new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const dist = loadDist(distDir);
  const secret = randomBytes(24).toString('hex');
  // On a cluster every prefix carries a hash tag, so each queue's keys share a slot (as in production).
  const tagged = (p: string) => (infra ? `{${p}}` : p);
  const ctxBase = {
    root, distDir, opts, stamp, serverUrl, dbName, dbUrl, redisUrl, stem, prefix: tagged(`${stem}p`), tagged, keyStem: infra ? `{${stem}` : stem,
    infra, outDir, logDir, profileDir, db, redis, dist, log,
    running: new Set<{ stop(): Promise<unknown> }>(),
  };
  const fakes = await startChild(join(__dirname, 'children/fakes-host.js'), { NODE_ENV: 'production' }, { logFile: join(logDir, 'fakes.log') });
  const { llmUrl, smtpUrl } = await fakes.call<{ llmUrl: string; smtpUrl: string }>('info');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: opts.logLevel,
    DATABASE_URL: infra ? infra.bouncer.urlFor(dbName) : dbUrl,
    REDIS_URL: redisUrl,
    ...(infra ? { REDIS_CLUSTER_NODES: infra.cluster.seeds } : {}),
    QUEUE_PREFIX: ctxBase.prefix,
    LLM_BASE_URL: llmUrl,
    LLM_API_KEY: 'bench-key',
    LLM_MODEL: 'bench-model',
    SMTP_URL: smtpUrl,
    // The limiter stays on (its Redis cost is part of the stage) but never binds: capacity is measured.
    SMTP_RATE_PER_SEC: '100000',
    // Due letters are picked up within a quarter second instead of the 5 s default tick.
    SCHEDULER_TICK_MS: '250',
    REPLY_DOMAIN,
    APP_BASE_URL,
    MAIL_FROM,
    WEBHOOK_SECRET: secret,
    SESSION_SECRET: secret,
    // no public MX in a benchmark: no STARTTLS certificate, on purpose
    INBOUND_TLS: 'off',
    ...opts.serviceEnv,
  };
  const producerConfig = dist.parseConfig({ REDIS_URL: redisUrl, QUEUE_PREFIX: ctxBase.prefix, ...(infra ? { REDIS_CLUSTER_NODES: infra.cluster.seeds } : {}) });
  const connections = new dist.RedisConnections(producerConfig);
  const queues = new dist.QueueService(producerConfig, connections);
  const results: BenchResults = {
    startedAt: started.toISOString(),
    finishedAt: '',
    machine: await machine(db, redis),
    options: opts,
    serviceEnv: Object.fromEntries(Object.entries(env).filter(([k]) => !/SECRET|KEY|URL/.test(k))),
    defaults: {
      COMPOSER_CONCURRENCY: dist.defaults.COMPOSER_CONCURRENCY,
      MAILER_CONCURRENCY: dist.defaults.MAILER_CONCURRENCY,
      SMTP_POOL_SIZE: dist.defaults.SMTP_POOL_SIZE,
      SMTP_MAX_MESSAGES: dist.defaults.SMTP_MAX_MESSAGES,
      SCHEDULER_BATCH_SIZE: dist.defaults.SCHEDULER_BATCH_SIZE,
      DATABASE_POOL_MAX: dist.defaults.DATABASE_POOL_MAX,
      COMPOSE_LEAD: dist.defaults.COMPOSE_LEAD,
    },
    ratios: [],
    phases: {},
    errors: [],
    notes: [],
  };
  const ctx: Ctx = { ...ctxBase, fakes, env, producer: { queues, connections }, results };

  const phases: [Phase, (c: Ctx) => Promise<void>][] = [
    ['e2e', phaseEndToEnd],
    ['mailer', phaseMailer],
    ['scheduler', phaseScheduler],
    ['composer', phaseComposer],
    ['lateness', phaseLateness],
    ['degraded', phaseDegraded],
    ['cost', phaseCost],
    ['claim', phaseClaim],
    ['inbound', phaseInbound],
  ];
  try {
    for (const [name, run] of phases) {
      if (!opts.phases.includes(name)) continue;
      log(`phase ${name}`);
      try {
        await run(ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        results.errors.push({ phase: name, error: message.slice(0, 4000) });
        log(`phase ${name} FAILED: ${message.slice(0, 2000)}`);
      } finally {
        for (const r of [...ctx.running]) await r.stop().catch(() => undefined);
        ctx.running.clear();
        await deleteKeys(redis, ctx.keyStem);
      }
    }
  } finally {
    results.finishedAt = new Date().toISOString();
    results.machine.loadAvgEnd = loadavg().map((v) => Number(v.toFixed(2)));
    await fakes.stop().catch(() => undefined);
    await queues.close().catch(() => undefined);
    await connections.onApplicationShutdown().catch(() => undefined);
    await deleteKeys(redis, ctx.keyStem).catch(() => undefined);
    redis.disconnect();
    if (infra) await Promise.all([infra.cluster.stop(), infra.bouncer.stop()]).catch(() => undefined);
    await db.end().catch(() => undefined);
    if (!opts.keepDb) await dropDatabase(serverUrl, dbName).catch((err) => log(`could not drop ${dbName}: ${String(err)}`));
    else results.notes.push(`database ${dbName} kept (--keep-db)`);
    const { markdown, json } = buildReport(results);
    const base = join(outDir, stamp);
    writeFileSync(`${base}.json`, JSON.stringify(json, null, 2));
    writeFileSync(`${base}.md`, markdown);
    if (!results.errors.length && !opts.profile) rmSync(logDir, { recursive: true, force: true });
    console.log(`\n${markdown}\n`);
    log(`wrote ${base}.json and ${base}.md${results.errors.length ? ` (service logs kept in ${logDir})` : ''}`);
  }
  if (results.errors.length) process.exitCode = 1;
}

async function machine(db: Client, redis: RedisTarget) {
  const cpu = cpus();
  const pg = (await db.query(`SELECT current_setting('server_version') AS v, current_setting('shared_buffers') AS sb, current_setting('max_connections') AS mc`)).rows[0];
  const redisInfo = await redis.info('server');
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 2 ** 20),
    freeMemoryMbAtStart: Math.round(freemem() / 2 ** 20),
    node: process.version,
    kernel: release(),
    postgres: `${pg.v} (shared_buffers ${pg.sb}, max_connections ${pg.mc})`,
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    loadAvgStart: loadavg().map((v) => Number(v.toFixed(2))),
    loadAvgEnd: [] as number[],
  };
}

// ---------------------------------------------------------------------------------------------
// Shared steps

async function services(ctx: Ctx, phase: string, apps: ServiceApp[], extra: Record<string, string> = {}): Promise<ServiceHandle[]> {
  const profiled = ctx.opts.profile;
  if (profiled) {
    mkdirSync(ctx.profileDir, { recursive: true });
    ctx.pgLogOffset = existsSync(PG_LOG) ? statSync(PG_LOG).size : undefined;
  }
  const env = {
    ...ctx.env,
    ...extra,
    // Profiling: every statement's server time goes to the Postgres log (as pg_stat_statements would count it).
    ...(profiled ? { PGOPTIONS: '-c log_min_duration_statement=0 -c log_parameter_max_length=0' } : {}),
  };
  const started = await Promise.all(
    apps.map((app) =>
      startService(ctx.root, ctx.distDir, app, env, {
        logFile: join(ctx.logDir, `${phase}-${app}.log`),
        nodeArgs: [...ctx.opts.nodeArgs, ...(profiled ? ['--cpu-prof', '--cpu-prof-dir', ctx.profileDir, '--cpu-prof-name', `${phase}-${app}.cpuprofile`] : [])],
      }),
    ),
  );
  for (const s of started) ctx.running.add(s);
  return started;
}

async function stopServices(ctx: Ctx, list: ServiceHandle[]): Promise<Record<string, number | null>> {
  const rss: Record<string, number | null> = {};
  for (const s of list) rss[s.app] = peakRssMb(s.pid);
  if (ctx.pgLogOffset !== undefined) ctx.pgApps = new Map((await backends(ctx.db, ctx.dbName)).map((b) => [b.pid, b.app]));
  await Promise.all(list.map((s) => s.stop()));
  for (const s of list) ctx.running.delete(s);
  return rss;
}

function watch(ctx: Ctx, list: { app?: string; pid: number }[], extra: Record<string, number> = {}) {
  // Through PgBouncer its process is part of every statement's cost.
  const bouncer = ctx.infra?.bouncer.pid;
  const processes: Record<string, number> = { fakes: ctx.fakes.pid, ...(bouncer ? { pgbouncer: bouncer } : {}), ...extra };
  for (const s of list) if (s.app) processes[s.app] = s.pid;
  return { processes };
}

/** A BullMQ Queue that owns its connection (closed with it), as a producer in the harness. */
function queue(ctx: Ctx, name: string, prefix = ctx.prefix): Queue {
  if (ctx.infra) {
    const connection = new Cluster(ctx.infra.cluster.nodes, { redisOptions: { maxRetriesPerRequest: 3 } });
    const q = new Queue(name, { connection, prefix, defaultJobOptions: ctx.dist.DEFAULT_JOB_OPTIONS });
    // A connection passed in is not closed with the queue: close it with the run's children.
    ctx.running.add({ stop: async () => { await q.close().catch(() => undefined); connection.disconnect(); } });
    return q;
  }
  const url = new URL(ctx.redisUrl);
  const connection = {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    db: Number(url.pathname.slice(1) || 0),
    maxRetriesPerRequest: 3,
  };
  return new Queue(name, { connection, prefix, defaultJobOptions: ctx.dist.DEFAULT_JOB_OPTIONS });
}

async function outstanding(q: Queue): Promise<number> {
  const c = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children');
  return Object.values(c).reduce((s, v) => s + v, 0);
}

/** Polls until `progress()` reaches `target`; fails when nothing moved for `stallMs`. */
async function until(what: string, target: number, progress: () => Promise<number>, opts: { everyMs?: number; stallMs?: number; diagnose?: () => Promise<string> } = {}): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const v = await progress();
    if (v >= target) return;
    if (v !== last) {
      last = v;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > (opts.stallMs ?? 90_000)) {
      throw new Error(`${what}: stuck at ${v}/${target} for ${((opts.stallMs ?? 90_000) / 1000).toFixed(0)} s${opts.diagnose ? `\n${await opts.diagnose()}` : ''}`);
    }
    await sleep(opts.everyMs ?? 100);
  }
}

async function diagnose(ctx: Ctx, tag: string): Promise<string> {
  const letters = await roundLetters(ctx.db, tag).catch((e) => String(e));
  const counts: Record<string, unknown> = {};
  for (const name of [ctx.dist.QueueName.LettersCompose, ctx.dist.QueueName.LettersSend]) {
    const q = queue(ctx, name);
    counts[name] = await q.getJobCounts().catch((e) => String(e));
    await q.close();
  }
  return `letters: ${JSON.stringify(letters)}\nqueues: ${JSON.stringify(counts)}`;
}

async function enqueue(ctx: Ctx, job: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += ENQUEUE_CHUNK) {
    const chunk = ids.slice(i, i + ENQUEUE_CHUNK);
    await ctx.producer.queues.enqueueBulk(job, chunk.map((letterId) => ({ payload: { v: 1, letterId }, opts: { jobId: letterId } })));
  }
}

async function analyze(ctx: Ctx): Promise<void> {
  await ctx.db.query(`ANALYZE app_user, subscription, letter, event_log, login_token, quote_history`);
}

const sinkCount = (ctx: Ctx) => ctx.fakes.call<number>('count');

/** A letter the way the composer stores it (Markdown-rendered HTML + text), for the mailer-stage seed. */
function composedBody(): SeededBody {
  const paragraphs = [
    'Hello,',
    'Today I would like us to spend a few quiet minutes on focus. Progress rarely arrives as a big leap; it comes from one small concrete step today, repeated until it is simply what you do.',
    'Pick one thing you can finish in fifteen minutes, do it, and write down one sentence about how it went. Notice what pulled your attention away, without judging it, and come back.',
    'The mind wanders; that is its nature. Each return is the practice itself, and every return makes the next one a little easier. Guard the first hour of your morning and let the world wait.',
    'Reply to this letter with that sentence if you like — I read every reply.',
    'Warmly,\nSeneca',
  ];
  return {
    subject: 'Focus: one small concrete step today [mz:focus]',
    text: paragraphs.join('\n\n'),
    html: paragraphs.map((p) => `<p>${p.replace(/\n/g, '<br>')}</p>`).join('\n'),
  };
}

function perLetter(u: Usage, n: number, labels: string[]) {
  const out: Record<string, number> = {};
  for (const l of labels) out[l] = (u.processes[l] ?? Number.NaN) / n;
  out.postgres = u.pgTotal / n;
  out.redis = u.redis / n;
  // Through PgBouncer (--cluster) its CPU is part of every statement's cost.
  if (u.processes.pgbouncer !== undefined) out.pgbouncer = u.processes.pgbouncer / n;
  out.total = labels.reduce((s, l) => s + (u.processes[l] ?? 0), 0) / n + out.postgres + out.redis + (out.pgbouncer ?? 0);
  return out;
}

function commandsPerLetter(u: Usage, n: number, top = 12) {
  const calls = u.commands.reduce((s, c) => s + c.calls, 0);
  return {
    callsPerLetter: calls / n,
    top: u.commands.slice(0, top).map((c) => ({ command: c.command, callsPerLetter: c.calls / n, usecPerLetter: c.usec / n })),
  };
}

function dbPerLetter(u: Usage, n: number) {
  return Object.fromEntries(Object.entries(u.db).map(([k, v]) => [k, v / n]));
}

// ---------------------------------------------------------------------------------------------
// R1 + R8 + CPU/letter + RSS: scheduler → composer (L = 0) → mailer, against a raw two-hop chain

async function phaseEndToEnd(ctx: Ctx): Promise<void> {
  const { opts, dist } = ctx;
  await resetPipelineTables(ctx.db);
  await ctx.fakes.call('setLatency', 0);
  const svc = await services(ctx, 'e2e', ['scheduler', 'composer', 'mailer']);
  const chainPrefix = ctx.tagged(`${ctx.stem}c`);
  const hop = (from: string, to: string | undefined, concurrency: number) =>
    startChild(join(__dirname, 'children/chain-hop.js'), {
      REDIS_URL: ctx.redisUrl, ...(ctx.infra ? { REDIS_CLUSTER_NODES: ctx.infra.cluster.seeds } : {}), QUEUE_PREFIX: chainPrefix, FROM_QUEUE: from, ...(to ? { TO_QUEUE: to } : {}), CONCURRENCY: String(concurrency),
      JOB_OPTIONS: JSON.stringify(dist.DEFAULT_JOB_OPTIONS),
    }, { logFile: join(ctx.logDir, `chain-${from}.log`) });
  const hopA = await hop('chain-a', 'chain-b', dist.defaults.COMPOSER_CONCURRENCY);
  const hopB = await hop('chain-b', undefined, dist.defaults.MAILER_CONCURRENCY);
  ctx.running.add(hopA).add(hopB);
  const chainA = queue(ctx, 'chain-a', chainPrefix);
  const chainB = queue(ctx, 'chain-b', chainPrefix);

  const chainRound = async (n: number) => {
    await hopB.call('expect', n);
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, { processes: { hopA: hopA.pid, hopB: hopB.pid } });
    const t0 = Date.now();
    for (let i = 0; i < n; i += ENQUEUE_CHUNK) {
      const ids = Array.from({ length: Math.min(ENQUEUE_CHUNK, n - i) }, () => randomUUID());
      await chainA.addBulk(ids.map((id) => ({ name: dist.JobName.ComposeLetter, data: { v: 1, letterId: id }, opts: { jobId: id } })));
    }
    const done = await hopB.next<{ at: number }>('done', 600_000);
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, { processes: { hopA: hopA.pid, hopB: hopB.pid } }));
    // Retained completed jobs and events of the chain would otherwise sit in the pipeline's Redis memory figures.
    for (const q of [chainA, chainB]) {
      await q.clean(0, 1_000_000, 'completed');
      await q.trimEvents(0);
    }
    return { n, ms: done.at - t0, rate: ratePerSecond(n, done.at - t0), cpuMsPerJob: { hopA: usage.processes.hopA / n, hopB: usage.processes.hopB / n, redis: usage.redis / n } };
  };

  const pipelineRound = async (tag: string, n: number) => {
    await ctx.fakes.call('reset');
    const memBefore = await redisMemory(ctx.redis, ctx.prefix);
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc));
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000); // due in this very minute
    await seedSubscriptions(ctx.db, { tag, n, at });
    const t0 = Date.now();
    await until(`${tag}: letters at the SMTP sink`, n, () => sinkCount(ctx), { everyMs: 100, diagnose: () => diagnose(ctx, tag) });
    await until(`${tag}: letters marked sent`, n, async () => (await countLetters(ctx.db, tag, ['sent'])).done, { everyMs: 50 });
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc)));
    const letters = await roundLetters(ctx.db, tag);
    const compose = queue(ctx, dist.QueueName.LettersCompose);
    const send = queue(ctx, dist.QueueName.LettersSend);
    await until(`${tag}: queues drained`, 0, async () => -((await outstanding(compose)) + (await outstanding(send))), { everyMs: 100 });
    await Promise.all([compose.close(), send.close()]);
    await sleep(1000);
    const memAfter = await redisMemory(ctx.redis, ctx.prefix);
    const sink = await ctx.fakes.call<{ count: number; meanBytes: number }>('stats');
    await analyze(ctx);
    const ms = (letters.lastSentMs ?? Number.NaN) - t0;
    return { tag, n, ms, rate: ratePerSecond(n, ms), letters, usage, memBefore, memAfter, sink };
  };

  if (opts.warmup) {
    ctx.log(`e2e warm-up: ${opts.warmup} letters (not measured)`);
    await pipelineRound('e2e-warm', opts.warmup);
    await chainRound(Math.min(opts.warmup, 2000));
  }
  const chains: Awaited<ReturnType<typeof chainRound>>[] = [];
  const rounds: Awaited<ReturnType<typeof pipelineRound>>[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    chains.push(await chainRound(opts.roundN));
    ctx.log(`e2e round ${r}: raw chain ${chains.at(-1)!.rate.toFixed(0)} jobs/s`);
    rounds.push(await pipelineRound(`e2e-${r}`, opts.roundN));
    ctx.log(`e2e round ${r}: pipeline ${rounds.at(-1)!.rate.toFixed(1)} letters/s`);
  }
  const rss = await stopServices(ctx, svc);
  await Promise.all([chainA.close(), chainB.close()]);

  const labels = ['scheduler', 'composer', 'mailer'];
  ctx.results.phases.e2e = {
    rounds: rounds.map((r) => ({
      tag: r.tag, n: r.n, ms: r.ms, lettersPerSecond: r.rate, letters: r.letters, redisBefore: r.memBefore, redisAfter: r.memAfter,
      sinkMeanBytes: r.sink.meanBytes, cpuMsPerLetter: perLetter(r.usage, r.n, labels), fakesCpuMsPerLetter: r.usage.processes.fakes / r.n,
      pgCpuMsPerLetterByApp: Object.fromEntries(Object.entries(r.usage.pg).map(([k, v]) => [k, v / r.n])),
      redisCommands: commandsPerLetter(r.usage, r.n), postgresPerLetter: dbPerLetter(r.usage, r.n), tables: r.usage.tables,
    })),
    chain: chains,
    peakRssMb: rss,
  };
  ctx.results.cpuPerLetter = medianRecord(
    rounds.map((r) => ({ ...perLetter(r.usage, r.n, labels), 'fakes: LLM + SMTP sink (not in total)': r.usage.processes.fakes / r.n })),
  );
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'e2e') };
  ctx.results.ratios.push({
    id: 'R1',
    title: 'end-to-end letters/s (L = 0) ÷ raw two-hop no-op BullMQ chain',
    target: { op: '>=', value: 0.4 },
    rounds: pairwiseRatios(rounds.map((r) => r.rate), chains.map((c) => c.rate)),
    numerator: `${median(rounds.map((r) => r.rate)).toFixed(1)} letters/s`,
    denominator: `${median(chains.map((c) => c.rate)).toFixed(0)} jobs/s`,
    note: `${opts.roundN} letters per round, due in one minute → last sent; chain concurrency ${dist.defaults.COMPOSER_CONCURRENCY}/${dist.defaults.MAILER_CONCURRENCY} like composer/mailer`,
  });
  // Issue 14: the product's CPU per letter (every process, Postgres and Redis included) over the raw
  // chain's CPU per job (both hops and Redis), measured in the same run, round by round.
  const chainCpu = (c: (typeof chains)[number]) => c.cpuMsPerJob.hopA + c.cpuMsPerJob.hopB + c.cpuMsPerJob.redis;
  const letterCpu = rounds.map((r) => perLetter(r.usage, r.n, labels).total);
  ctx.results.ratios.push({
    id: 'R12',
    title: 'end-to-end CPU-ms per letter (all processes, Postgres and Redis) ÷ raw two-hop chain CPU-ms per job',
    target: { op: '<=', value: 8 },
    rounds: pairwiseRatios(letterCpu, chains.map(chainCpu)),
    numerator: `${median(letterCpu).toFixed(2)} CPU-ms/letter`,
    denominator: `${median(chains.map(chainCpu)).toFixed(3)} CPU-ms/job`,
    note: `chain: hop A ${median(chains.map((c) => c.cpuMsPerJob.hopA)).toFixed(3)} + hop B ${median(chains.map((c) => c.cpuMsPerJob.hopB)).toFixed(3)} + Redis ${median(chains.map((c) => c.cpuMsPerJob.redis)).toFixed(3)} per job`,
  });
  const mem = (f: (m: RedisMemory) => number) => rounds.map((r) => f(r.memAfter) / f(r.memBefore));
  ctx.results.ratios.push({
    id: 'R8',
    title: 'Redis used_memory after draining N letters ÷ before',
    target: { op: '<=', value: 1.05 },
    rounds: mem((m) => m.usedMemory),
    numerator: `${(median(rounds.map((r) => r.memAfter.usedMemory)) / 2 ** 20).toFixed(2)} MB`,
    denominator: `${(median(rounds.map((r) => r.memBefore.usedMemory)) / 2 ** 20).toFixed(2)} MB`,
    note: `instance-wide (shared Redis); this run's keys alone: ${median(mem((m) => m.prefixBytes)).toFixed(3)} (${(median(rounds.map((r) => r.memAfter.prefixBytes)) / 2 ** 20).toFixed(2)} MB after)`,
  });
  await collectProfiles(ctx, 'e2e');
}

function medianRecord(list: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(list.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, median(list.map((r) => r[k]))]));
}

const prefixKeys = (r: Record<string, number | null>, phase: string) => Object.fromEntries(Object.entries(r).map(([k, v]) => [`${k} (${phase})`, v]));

// ---------------------------------------------------------------------------------------------
// R2: the mailer stage against raw pooled nodemailer to the same sink

function renderTemplate(ctx: Ctx, body: SeededBody) {
  const { dist } = ctx;
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const unsubscribe = dist.signUnsubscribeToken(randomUUID(), 'x'.repeat(40));
  return dist.renderLetterMail({
    from: MAIL_FROM,
    to: 'reader-0@bench.example',
    addresses: { reply: `r+${id.replace(/-/g, '')}.00000000000000000000@${REPLY_DOMAIN}`, bounce: `b+l${id.replace(/-/g, '')}.00000000000000000000@${REPLY_DOMAIN}` },
    letter: { id, messageId: `<mz.${id}@${REPLY_DOMAIN}>`, subject: body.subject, bodyText: body.text, bodyHtml: body.html },
    topic: { code: 'focus', name: 'Focus' },
    footer: { textTemplate: dist.DEFAULT_FOOTER.text, htmlTemplate: dist.DEFAULT_FOOTER.html },
    quote: { text: 'We suffer more often in imagination than in reality.', author: 'Seneca' },
    links: {
      login: dist.links.login(APP_BASE_URL, token),
      unsubscribe: dist.links.unsubscribe(APP_BASE_URL, unsubscribe),
      unsubscribeMailto: dist.links.unsubscribeMailto(`u+${id.replace(/-/g, '')}.00000000000000000000@${REPLY_DOMAIN}`),
    },
  });
}

async function mailerStageRates(ctx: Ctx): Promise<number[]> {
  return ((ctx.results.phases.mailer as Any)?.rounds ?? []).map((r: Any) => r.msgsPerSecond);
}

async function phaseMailer(ctx: Ctx): Promise<void> {
  const { opts, dist } = ctx;
  await resetPipelineTables(ctx.db);
  const svc = await services(ctx, 'mailer', ['mailer']);
  const baseline = await startChild(join(__dirname, 'children/nodemailer-baseline.js'), { SMTP_URL: ctx.env.SMTP_URL, SMTP_POOL_SIZE: String(dist.defaults.SMTP_POOL_SIZE), SMTP_MAX_MESSAGES: String(dist.defaults.SMTP_MAX_MESSAGES) }, { logFile: join(ctx.logDir, 'nodemailer-baseline.log') });
  ctx.running.add(baseline);
  const body = composedBody();
  const mail = renderTemplate(ctx, body);
  const concurrency = dist.defaults.MAILER_CONCURRENCY;

  const baselineRound = async (n: number) => {
    await ctx.fakes.call('reset');
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, { processes: { nodemailer: baseline.pid, fakes: ctx.fakes.pid } });
    const r = await baseline.call<{ startedAt: number; endedAt: number }>('run', { n, concurrency, mail, replyDomain: REPLY_DOMAIN });
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, { processes: { nodemailer: baseline.pid, fakes: ctx.fakes.pid } }));
    const sink = await ctx.fakes.call<{ count: number; meanBytes: number }>('stats');
    if (sink.count !== n) throw new Error(`nodemailer baseline: sink got ${sink.count} of ${n}`);
    return { n, ms: r.endedAt - r.startedAt, rate: ratePerSecond(n, r.endedAt - r.startedAt), meanBytes: sink.meanBytes, cpuMsPerMsg: usage.processes.nodemailer / n };
  };

  const stageRound = async (tag: string, n: number) => {
    await seedLetters(ctx.db, { tag, n, at: new Date(Date.now() - 1000), status: 'composed', body, replyDomain: REPLY_DOMAIN });
    await analyze(ctx);
    const ids = await letterIds(ctx.db, tag);
    await ctx.fakes.call('reset');
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc));
    const t0 = Date.now();
    await enqueue(ctx, dist.JobName.SendLetter, ids);
    await until(`${tag}: letters at the SMTP sink`, n, () => sinkCount(ctx), { everyMs: 100, diagnose: () => diagnose(ctx, tag) });
    await until(`${tag}: letters marked sent`, n, async () => (await countLetters(ctx.db, tag, ['sent'])).done, { everyMs: 50 });
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc)));
    const letters = await roundLetters(ctx.db, tag);
    const sink = await ctx.fakes.call<{ count: number; meanBytes: number }>('stats');
    const ms = (letters.lastSentMs ?? Number.NaN) - t0;
    return {
      tag, n, ms, rate: ratePerSecond(n, ms), meanBytes: sink.meanBytes, letters: letters.byStatus,
      cpuMsPerLetter: perLetter(usage, n, ['mailer']), redisCommands: commandsPerLetter(usage, n), postgresPerLetter: dbPerLetter(usage, n), tables: usage.tables,
    };
  };

  const warm = Math.min(opts.roundN, 1000);
  await baselineRound(warm);
  await stageRound('mail-warm', warm);
  const bases: Awaited<ReturnType<typeof baselineRound>>[] = [];
  const rounds: Awaited<ReturnType<typeof stageRound>>[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    bases.push(await baselineRound(opts.roundN));
    rounds.push(await stageRound(`mail-${r}`, opts.roundN));
    ctx.log(`mailer round ${r}: mailer ${rounds.at(-1)!.rate.toFixed(1)} msgs/s, raw nodemailer ${bases.at(-1)!.rate.toFixed(1)} msgs/s`);
  }
  const rss = await stopServices(ctx, svc);
  ctx.results.phases.mailer = { rounds: rounds.map((r) => ({ ...r, msgsPerSecond: r.rate })), baseline: bases, peakRssMb: rss };
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'mailer') };
  ctx.results.ratios.push({
    id: 'R2',
    title: 'mailer stage msgs/s (dequeue, ledger, send, mark sent) ÷ raw pooled nodemailer → same sink',
    target: { op: '>=', value: 0.85 },
    rounds: pairwiseRatios(rounds.map((r) => r.rate), bases.map((b) => b.rate)),
    numerator: `${median(rounds.map((r) => r.rate)).toFixed(1)} msgs/s`,
    denominator: `${median(bases.map((b) => b.rate)).toFixed(1)} msgs/s`,
    note: `${opts.roundN} letters per round; pool ${dist.defaults.SMTP_POOL_SIZE} × ${dist.defaults.SMTP_MAX_MESSAGES} messages per connection, ${concurrency} in flight; same MIME (renderLetterMail), ${median(rounds.map((r) => r.meanBytes)).toFixed(0)} vs ${median(bases.map((b) => b.meanBytes)).toFixed(0)} bytes/msg`,
  });
  await collectProfiles(ctx, 'mailer');
}

// ---------------------------------------------------------------------------------------------
// R3: scheduler claim + enqueue against raw addBulk of the same count

async function phaseScheduler(ctx: Ctx): Promise<void> {
  const { opts, dist } = ctx;
  await resetPipelineTables(ctx.db);
  const svc = await services(ctx, 'scheduler', ['scheduler']);
  const compose = queue(ctx, dist.QueueName.LettersCompose);
  const raw = queue(ctx, 'raw-addbulk', ctx.tagged(`${ctx.stem}r`));

  const addBulkRound = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i += ENQUEUE_CHUNK) {
      const ids = Array.from({ length: Math.min(ENQUEUE_CHUNK, n - i) }, () => randomUUID());
      await raw.addBulk(ids.map((id) => ({ name: dist.JobName.ComposeLetter, data: { v: 1, letterId: id }, opts: { jobId: id } })));
    }
    const ms = performance.now() - t0;
    await raw.obliterate({ force: true });
    return { n, ms, rate: ratePerSecond(n, ms) };
  };

  const schedulerRound = async (tag: string, n: number) => {
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc));
    await seedSubscriptions(ctx.db, { tag, n, at: new Date(Math.floor(Date.now() / 60_000) * 60_000) });
    const seeded = Date.now();
    await until(`${tag}: compose jobs queued`, n, () => compose.getJobCountByTypes('wait', 'prioritized', 'delayed'), { everyMs: 5, diagnose: () => diagnose(ctx, tag) });
    const queued = Date.now();
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc)));
    const letters = await roundLetters(ctx.db, tag);
    await compose.obliterate({ force: true });
    await analyze(ctx);
    // The window starts when the first claim's transaction began (letter.created_at = its now()).
    const ms = queued - (letters.firstCreatedMs ?? seeded);
    return {
      tag, n, ms, rate: ratePerSecond(n, ms), pickupMs: (letters.firstCreatedMs ?? seeded) - seeded, letters: letters.byStatus,
      cpuMsPerRow: perLetter(usage, n, ['scheduler']), redisCommands: commandsPerLetter(usage, n), postgresPerRow: dbPerLetter(usage, n),
    };
  };

  await addBulkRound(Math.min(opts.n, 2000));
  await schedulerRound('sched-warm', Math.min(opts.n, 2000));
  const bases: Awaited<ReturnType<typeof addBulkRound>>[] = [];
  const rounds: Awaited<ReturnType<typeof schedulerRound>>[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    bases.push(await addBulkRound(opts.n));
    rounds.push(await schedulerRound(`sched-${r}`, opts.n));
    ctx.log(`scheduler round ${r}: claim+enqueue ${rounds.at(-1)!.rate.toFixed(0)} rows/s, raw addBulk ${bases.at(-1)!.rate.toFixed(0)} jobs/s`);
  }
  const rss = await stopServices(ctx, svc);
  await Promise.all([compose.close(), raw.close()]);
  ctx.results.phases.scheduler = { rounds, baseline: bases, peakRssMb: rss };
  await collectProfiles(ctx, 'scheduler');
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'scheduler') };
  ctx.results.ratios.push({
    id: 'R3',
    title: 'scheduler claim + enqueue rows/s ÷ raw addBulk of the same count',
    target: { op: '>=', value: 0.5 },
    rounds: pairwiseRatios(rounds.map((r) => r.rate), bases.map((b) => b.rate)),
    numerator: `${median(rounds.map((r) => r.rate)).toFixed(0)} rows/s`,
    denominator: `${median(bases.map((b) => b.rate)).toFixed(0)} jobs/s`,
    note: `N = ${opts.n}, batch ${dist.defaults.SCHEDULER_BATCH_SIZE}; first claim → last job queued`,
  });
}

// ---------------------------------------------------------------------------------------------
// R6: composer throughput at LLM latency L against concurrency ÷ L

async function phaseComposer(ctx: Ctx): Promise<void> {
  const { opts, dist } = ctx;
  await resetPipelineTables(ctx.db);
  await ctx.fakes.call('setLatency', opts.llmLatencyMs);
  const concurrency = dist.defaults.COMPOSER_CONCURRENCY;
  const svc = await services(ctx, 'composer', ['composer']);
  const n = concurrency * opts.composerWaves;
  const ideal = concurrency / (opts.llmLatencyMs / 1000);

  const round = async (tag: string, count: number) => {
    await seedLetters(ctx.db, { tag, n: count, at: new Date(Date.now() + 3_600_000), status: 'scheduled', body: composedBody(), replyDomain: REPLY_DOMAIN });
    const ids = await letterIds(ctx.db, tag);
    const before = await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc));
    const t0 = Date.now();
    await enqueue(ctx, dist.JobName.ComposeLetter, ids);
    await until(`${tag}: letters composed`, count, async () => (await countLetters(ctx.db, tag, ['composed'])).done, { everyMs: 100, diagnose: () => diagnose(ctx, tag) });
    const usage = usageBetween(before, await snapshot(ctx.db, ctx.dbName, ctx.redis, watch(ctx, svc)));
    const letters = await roundLetters(ctx.db, tag);
    const ms = (letters.lastComposedMs ?? Number.NaN) - t0;
    return { tag, n: count, ms, rate: ratePerSecond(count, ms), cpuMsPerLetter: perLetter(usage, count, ['composer']) };
  };

  await round('comp-warm', concurrency);
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    rounds.push(await round(`comp-${r}`, n));
    ctx.log(`composer round ${r}: ${rounds.at(-1)!.rate.toFixed(2)} letters/s (ideal ${ideal.toFixed(2)})`);
  }
  const rss = await stopServices(ctx, svc);
  ctx.results.phases.composer = { concurrency, llmLatencyMs: opts.llmLatencyMs, idealPerSecond: ideal, rounds, peakRssMb: rss };
  await collectProfiles(ctx, 'composer');
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'composer') };
  ctx.results.ratios.push({
    id: 'R6',
    title: `composer letters/s at L = ${opts.llmLatencyMs / 1000} s ÷ (concurrency ÷ L)`,
    target: { op: '>=', value: 0.9 },
    rounds: rounds.map((r) => r.rate / ideal),
    numerator: `${median(rounds.map((r) => r.rate)).toFixed(2)} letters/s`,
    denominator: `${ideal.toFixed(2)} letters/s`,
    note: `COMPOSER_CONCURRENCY ${concurrency} (default), ${n} letters = ${opts.composerWaves} waves`,
  });
}

// ---------------------------------------------------------------------------------------------
// R7: N due at one instant ahead of now, L = 1.5 s, compose lead on: is lateness only the send drain?

async function phaseLateness(ctx: Ctx): Promise<void> {
  const { opts, dist } = ctx;
  await resetPipelineTables(ctx.db);
  await ctx.fakes.call('setLatency', opts.llmLatencyMs);
  // Enough composer concurrency to write N letters in three quarters of the lead at latency L:
  // R7 asks whether the design hides LLM latency, given capacity for the day's volume.
  const concurrency = Math.max(dist.defaults.COMPOSER_CONCURRENCY, Math.ceil((opts.latenessN * opts.llmLatencyMs) / (0.75 * opts.latenessLeadMs)));
  const svc = await services(ctx, 'lateness', ['scheduler', 'composer', 'mailer'], { COMPOSER_CONCURRENCY: String(concurrency) });
  const mailerRates = await mailerStageRates(ctx);
  // Warm-up (not measured), as every other phase has: R2's bound is a warm mailer's rate, and in
  // production the services have been sending all day. Without it the slot's burst also pays
  // for JIT compilation, new pool connections and first-time statement preparation.
  const warm = Math.min(opts.latenessN, 1000);
  ctx.log(`lateness warm-up: ${warm} letters at L = 0 (not measured)`);
  await ctx.fakes.call('setLatency', 0);
  await ctx.fakes.call('reset');
  await seedSubscriptions(ctx.db, { tag: 'late-warm', n: warm, at: new Date(Math.floor(Date.now() / 60_000) * 60_000) });
  await until('late-warm: letters at the SMTP sink', warm, () => sinkCount(ctx), { everyMs: 100, diagnose: () => diagnose(ctx, 'late-warm') });
  await until('late-warm: letters marked sent', warm, async () => (await countLetters(ctx.db, 'late-warm', ['sent'])).done, { everyMs: 50 });
  await ctx.fakes.call('setLatency', opts.llmLatencyMs);
  await analyze(ctx);
  const rounds = [];
  for (let r = 1; r <= opts.latenessRounds; r++) {
    const tag = `late-${r}`;
    await ctx.fakes.call('reset');
    const at = new Date(Math.ceil((Date.now() + opts.latenessLeadMs) / 1000) * 1000);
    await seedSubscriptions(ctx.db, { tag, n: opts.latenessN, at });
    await until(`${tag}: letters at the SMTP sink`, opts.latenessN, () => sinkCount(ctx), { everyMs: 250, stallMs: opts.latenessLeadMs + 90_000, diagnose: () => diagnose(ctx, tag) });
    await until(`${tag}: letters marked sent`, opts.latenessN, async () => (await countLetters(ctx.db, tag, ['sent'])).done, { everyMs: 100 });
    const letters = await roundLetters(ctx.db, tag);
    await analyze(ctx);
    const drainS = ((letters.lastSentMs ?? 0) - (letters.firstSentMs ?? 0)) / 1000;
    const mailerRate = mailerRates.length ? median(mailerRates) : opts.latenessN / drainS;
    const bound = opts.latenessN / mailerRate;
    rounds.push({
      tag, n: opts.latenessN, dueAt: at.toISOString(), letters,
      composedBeforeDueMs: at.getTime() - (letters.lastComposedMs ?? Number.NaN),
      p99LatenessS: letters.latenessP99, drainS, boundS: bound, ratio: (letters.latenessP99 ?? Number.NaN) / bound,
      ownDrainRatio: (letters.latenessP99 ?? Number.NaN) / drainS,
      composeRate: ratePerSecond(opts.latenessN, (letters.lastComposedMs ?? Number.NaN) - (letters.firstCreatedMs ?? Number.NaN)),
    });
    ctx.log(`lateness round ${r}: p99 ${letters.latenessP99?.toFixed(1)} s, bound ${bound.toFixed(1)} s, composing ended ${(rounds.at(-1)!.composedBeforeDueMs / 1000).toFixed(1)} s before the slot`);
  }
  const rss = await stopServices(ctx, svc);
  ctx.results.phases.lateness = { concurrency, llmLatencyMs: opts.llmLatencyMs, leadMs: opts.latenessLeadMs, mailerRateSource: mailerRates.length ? 'R2 mailer stage (median)' : 'own drain', rounds, peakRssMb: rss };
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'lateness') };
  const lead = opts.latenessLeadMs / 1000;
  ctx.results.ratios.push({
    id: 'R7',
    title: `p99 lateness, N due ${lead} s ahead, L = ${opts.llmLatencyMs / 1000} s, compose lead on ÷ (N ÷ send rate)`,
    target: { op: '<=', value: 1.1 },
    rounds: rounds.map((r) => r.ratio),
    numerator: `${median(rounds.map((r) => r.p99LatenessS ?? Number.NaN)).toFixed(1)} s p99`,
    denominator: `${median(rounds.map((r) => r.boundS)).toFixed(1)} s (N ÷ ${mailerRates.length ? 'R2 mailer rate' : 'own drain rate'})`,
    note: `N = ${opts.latenessN}; COMPOSER_CONCURRENCY ${concurrency}; composing ended ${(median(rounds.map((r) => r.composedBeforeDueMs)) / 1000).toFixed(1)} s before the slot${lead !== 120 ? `; lead ${lead} s, not the 120 s of the target` : ''}`,
  });
  // R6 again at the concurrency R7 needed: does the composer keep up when it is wide?
  ctx.results.phases.lateness.composeRatePerSecond = median(rounds.map((r) => r.composeRate));
  ctx.results.phases.lateness.composeIdealPerSecond = concurrency / (opts.llmLatencyMs / 1000);
  await collectProfiles(ctx, 'lateness');
}

// ---------------------------------------------------------------------------------------------
// R11: letters on time while the LLM fails every call (docs/architecture.md §7, degraded mode)

/** A letter is on time when it is sent within this of its slot (the slot is a minute, a letter a moment). */
const ON_TIME_MS = 60_000;
/** A new wave of letters falls due every this often during the outage. */
const DEGRADED_WAVE_MS = 30_000;
/** After the outage, before the last wave: the circuit's open period (60 s) and a probe. */
const RECOVERY_WAIT_MS = 75_000;

async function phaseDegraded(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  await resetPipelineTables(ctx.db);
  await ctx.fakes.call('reset');
  // A provider that is down answers fast; a slow failure only makes the circuit open later.
  await ctx.fakes.call('setLatency', Math.min(opts.llmLatencyMs, 500));
  const svc = await services(ctx, 'degraded', ['scheduler', 'composer', 'mailer']);
  await ctx.db.query(`INSERT INTO app_config (key, value) VALUES ('llm_offline_fallback', 'true'::jsonb)
                      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`);
  await ctx.fakes.call('setOutage', 503);
  const start = Date.now();
  const waves = Math.max(1, Math.round(opts.outageMs / DEGRADED_WAVE_MS));
  const perWave = Math.max(1, Math.ceil(opts.degradedN / waves));
  const tags: string[] = [];
  // Slots from 30 s after the outage begins to its end: letters composed (or not) while it lasts.
  for (let w = 0; w < waves; w++) {
    const tag = `degr-${w}`;
    const at = new Date(Math.ceil((start + DEGRADED_WAVE_MS + (w * opts.outageMs) / waves) / 1000) * 1000);
    await seedSubscriptions(ctx.db, { tag, n: perWave, at });
    tags.push(tag);
  }
  const total = perWave * waves;
  ctx.log(`degraded: LLM failing (503) for ${opts.outageMs / 1000} s; ${total} letters due in ${waves} waves during it`);
  await sleep(Math.max(0, start + opts.outageMs - Date.now()));
  await ctx.fakes.call('setOutage', null);
  const llmStats = await ctx.fakes.call<{ llmRequests: number }>('stats');
  // After the outage: one more wave, which the LLM should write again once the circuit has closed
  // by itself — its first probe comes LLM_CIRCUIT_OPEN_MS (60 s by default) after it last opened.
  await sleep(RECOVERY_WAIT_MS);
  const afterAt = new Date(Math.ceil((Date.now() + 2 * DEGRADED_WAVE_MS) / 1000) * 1000);
  await seedSubscriptions(ctx.db, { tag: 'recov', n: perWave, at: afterAt });
  await until('degraded: the wave after the outage sent', perWave, async () => {
    const c = await countLetters(ctx.db, 'recov', ['sent']);
    return c.done + c.failed;
  }, { everyMs: 500, stallMs: 180_000, diagnose: () => diagnose(ctx, 'recovery') });
  const { rows: [after] } = await ctx.db.query(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE l.model <> 'offline')::int AS by_llm
       FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE 'recov-%'`,
  );
  const settled = async () => {
    let n = 0;
    for (const tag of tags) {
      const c = await countLetters(ctx.db, tag, ['sent']);
      n += c.done + c.failed;
    }
    return n;
  };
  await until('degraded: letters sent or settled', total, settled, { everyMs: 500, stallMs: 180_000, diagnose: () => diagnose(ctx, 'degraded') });
  const { rows: [r] } = await ctx.db.query(
    `SELECT count(*)::int AS n,
            count(*) FILTER (WHERE l.status = 'sent' AND l.sent_at <= l.scheduled_for + $1 * interval '1 millisecond')::int AS on_time,
            count(*) FILTER (WHERE l.status = 'sent')::int AS sent,
            count(*) FILTER (WHERE l.model = 'offline')::int AS offline,
            coalesce(jsonb_object_agg(l.fallback_reason, 1) FILTER (WHERE l.fallback_reason IS NOT NULL), '{}') AS reasons_seen,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)) FILTER (WHERE l.status = 'sent') AS p99_lateness_s
       FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE 'degr-%'`,
    [ON_TIME_MS],
  );
  const { rows: reasons } = await ctx.db.query(
    `SELECT coalesce(l.fallback_reason, '(llm)') AS reason, count(*)::int AS n
       FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE 'degr-%' GROUP BY 1 ORDER BY 2 DESC`,
  );
  const rss = await stopServices(ctx, svc);
  const share = r.n ? r.on_time / r.n : Number.NaN;
  const byReason = Object.fromEntries(reasons.map((x: Any) => [x.reason, x.n]));
  ctx.results.phases.degraded = {
    outageMs: opts.outageMs, waves, letters: r.n, sent: r.sent, onTime: r.on_time, offline: r.offline, byReason,
    p99LatenessS: r.p99_lateness_s === null ? null : Number(r.p99_lateness_s), llmRequestsDuringOutage: llmStats.llmRequests,
    afterOutage: { letters: after.n, writtenByLlm: after.by_llm }, peakRssMb: rss,
  };
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'degraded') };
  ctx.results.ratios.push({
    id: 'R11',
    title: `share of letters sent on time (within ${ON_TIME_MS / 1000} s of the slot) while the LLM fails every call for ${opts.outageMs / 1000} s, degraded mode on`,
    target: { op: '>=', value: 1 },
    rounds: [share],
    numerator: `${r.on_time} on time`,
    denominator: `${r.n} letters due during the outage`,
    note: `offline-composed ${r.offline}; by fallback reason ${JSON.stringify(byReason)}; ${llmStats.llmRequests} LLM calls answered 503; after the outage the LLM wrote ${after.by_llm} of the next ${after.n} (circuit closed by itself)${opts.outageMs < 600_000 ? `; outage ${opts.outageMs / 1000} s, the target's is 600 s (--outage 600)` : ''}`,
  });
}

// ---------------------------------------------------------------------------------------------
// R10: LLM cost per letter with prompt caching and batch composing on ÷ naive synchronous cost

/** A real provider's list prices (USD per 1M tokens: input, cached input, output), for the bench model. */
const BENCH_PRICE = { input: 0.4, cached_input: 0.1, output: 1.6 };
/** How far ahead R10's letters fall due: beyond LLM_BATCH_MARGIN (2 h), so they may be batched. */
const COST_SLOT_AHEAD_MS = 3 * 3_600_000;

async function phaseCost(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const n = Math.min(opts.roundN, 300);
  const prices = JSON.stringify({ 'bench-model': BENCH_PRICE });
  const round = async (tag: string, batch: boolean) => {
    await resetPipelineTables(ctx.db);
    await ctx.fakes.call('reset');
    await ctx.fakes.call('setLatency', 0);
    await ctx.db.query(`INSERT INTO app_config (key, value) VALUES ('llm_batch_compose', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [JSON.stringify(batch)]);
    // Both rounds create the letters at once, 3 h before their slot: with batching the scheduler's
    // lead is COMPOSE_LEAD_BATCH (24 h); the synchronous round gets a 4 h COMPOSE_LEAD instead, so
    // the same letters with the same prompts are composed right away.
    const svc = await services(ctx, `cost-${tag}`, ['scheduler', 'composer'], { LLM_PRICES: prices, LLM_BATCH_WINDOW_MS: '2000', ...(batch ? {} : { COMPOSE_LEAD: '4h' }) });
    const at = new Date(Math.ceil((Date.now() + COST_SLOT_AHEAD_MS) / 60_000) * 60_000);
    await seedSubscriptions(ctx.db, { tag, n, at });
    await until(`${tag}: letters composed`, n, async () => (await countLetters(ctx.db, tag, ['composed'])).done, { everyMs: 500, stallMs: 120_000, diagnose: () => diagnose(ctx, tag) });
    const { rows: [r] } = await ctx.db.query(
      `SELECT count(*)::int AS n, sum(l.cost_usd)::float8 AS cost, sum(l.prompt_tokens)::float8 AS prompt, sum(l.cached_tokens)::float8 AS cached,
              sum(l.completion_tokens)::float8 AS completion
         FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE $1 || '-%' AND l.status = 'composed'`,
      [tag],
    );
    const llm = await ctx.fakes.call<{ llmRequests: number }>('stats');
    await stopServices(ctx, svc);
    // Naive: every prompt token at the full input price, synchronous, no cache.
    const naive = (r.prompt * BENCH_PRICE.input + r.completion * BENCH_PRICE.output) / 1e6;
    return { tag, batch, letters: r.n, costUsd: r.cost, naiveUsd: naive, promptTokens: r.prompt, cachedTokens: r.cached, completionTokens: r.completion, llmRequests: llm.llmRequests };
  };
  const sync = await round('cost-sync', false);
  const batched = await round('cost-batch', true);
  await ctx.db.query(`DELETE FROM app_config WHERE key = 'llm_batch_compose'`);
  ctx.results.phases.cost = { price: BENCH_PRICE, rounds: [sync, batched] };
  const per1k = (usd: number, letters: number) => (1000 * usd) / Math.max(1, letters);
  ctx.results.ratios.push({
    id: 'R10',
    title: 'LLM cost per 1,000 letters with prompt caching and batch composing on ÷ naive synchronous cost (no cache, list price)',
    target: { op: '<=', value: 0.55 },
    rounds: [batched.costUsd / batched.naiveUsd],
    numerator: `$${per1k(batched.costUsd, batched.letters).toFixed(4)} per 1k letters`,
    denominator: `$${per1k(batched.naiveUsd, batched.letters).toFixed(4)} per 1k letters`,
    note: `prices ${JSON.stringify(BENCH_PRICE)} per 1M tokens; synchronous with caching alone: ${(sync.costUsd / sync.naiveUsd).toFixed(3)} (cached ${(100 * sync.cachedTokens / Math.max(1, sync.promptTokens)).toFixed(0)} % of prompt tokens); batched letters: ${batched.letters}, synchronous LLM calls during the batch round ${batched.llmRequests}`,
  });
}

// ---------------------------------------------------------------------------------------------
// R4: claim cost per due row, 1,000 due among 1M subscriptions vs among 10k

async function phaseClaim(ctx: Ctx): Promise<void> {
  const { opts, db } = ctx;
  await resetPipelineTables(ctx.db);
  const grow = async (total: number) => {
    const have = Number((await db.query(`SELECT count(*) AS n FROM subscription`)).rows[0].n);
    if (have >= total) return;
    await db.query('BEGIN');
    // Seed data only (not measured): FK triggers off for speed; every row is valid by construction.
    await db.query(`SET LOCAL session_replication_role = replica`);
    await db.query(
      `INSERT INTO app_user (id, email, name) SELECT md5('r4u' || u)::uuid, format('r4-%s@bench.example', u), format('Reader %s', u)
         FROM generate_series($1::int / 6, ($2::int - 1) / 6) u ON CONFLICT DO NOTHING`,
      [have, total],
    );
    // Not due: spread over the rest of the day, as a real table is.
    await db.query(
      `INSERT INTO subscription (user_id, topic_id, timezone, send_time_local, next_run_at)
       SELECT md5('r4u' || (g / 6))::uuid, t.ids[1 + g % 6], 'UTC', '07:30', now() + interval '1 hour' + ((g::bigint * 7919) % 82800) * interval '1 second'
         FROM generate_series($1::int, $2::int - 1) g, (SELECT array_agg(id ORDER BY code) AS ids FROM topic) t`,
      [have, total],
    );
    await db.query('COMMIT');
    await db.query(`VACUUM ANALYZE app_user, subscription`);
  };
  // The due rows are chosen at random from the whole table, so at 1M they are scattered over its pages.
  const makeDue = async (): Promise<string[]> =>
    (await db.query(`SELECT id FROM subscription ORDER BY random() LIMIT $1`, [opts.claimDue])).rows.map((r: { id: string }) => r.id);
  const undue = (ids: string[]) => db.query(`UPDATE subscription SET next_run_at = now() + interval '2 hours' WHERE id = ANY($1::uuid[])`, [ids]);

  const child = await startChild(join(__dirname, 'children/claim-cost.js'), {
    MZ_DIST: ctx.distDir, DATABASE_URL: ctx.dbUrl, REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: `${ctx.stem}k`, REPLY_DOMAIN, NODE_ENV: 'production',
    WEBHOOK_SECRET: ctx.env.WEBHOOK_SECRET, SESSION_SECRET: ctx.env.SESSION_SECRET, INBOUND_TLS: 'off',
  }, { logFile: join(ctx.logDir, 'claim-cost.log') });
  ctx.running.add(child);
  const reps = Math.max(7, opts.rounds);
  const measure = async (total: number) => {
    await grow(total);
    const due = await makeDue();
    const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    const hhmm = slot.toISOString().slice(11, 16);
    const t0 = Date.now();
    const r = await child.call<{ subscriptions: number; reps: { ms: number }[]; claims: { ms: number; rows: number }[]; plan: string }>(
      'measure', { dueIds: due, slot: slot.toISOString(), sendTimeLocal: hhmm, reps }, 1_800_000,
    );
    await undue(due);
    ctx.log(`claim: ${r.subscriptions} subscriptions, ${median(r.reps.map((x) => x.ms)).toFixed(1)} ms per pass of ${opts.claimDue} due (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const perRow = (list: { ms: number; rows: number }[]) => list.map((c) => (c.ms * 1000) / Math.max(1, c.rows));
    return { ...r, perRowUs: r.reps.map((x) => (x.ms * 1000) / opts.claimDue), claimPerRowUs: perRow(r.claims) };
  };
  const small = await measure(opts.claimSmall);
  ctx.log(`claim: growing the table to ${opts.claimLarge} subscriptions`);
  const large = await measure(opts.claimLarge);
  await child.stop();
  ctx.running.delete(child);
  ctx.results.phases.claim = { due: opts.claimDue, small, large };
  ctx.results.ratios.push({
    id: 'R4',
    title: `claim cost per due row, ${opts.claimDue} due among ${opts.claimLarge.toLocaleString('en-US')} ÷ among ${opts.claimSmall.toLocaleString('en-US')}`,
    target: { op: '<=', value: 1.3 },
    // The two tables are measured one after the other, not interleaved: each big-table repetition
    // is compared with the small table's median (so the median of these is the ratio of medians).
    rounds: large.perRowUs.map((us) => us / median(small.perRowUs)),
    numerator: `${median(large.perRowUs).toFixed(0)} µs/row`,
    denominator: `${median(small.perRowUs).toFixed(0)} µs/row`,
    note: `full scheduleDue() pass of the real service (claim, insert, advance, events, addBulk); bare claim SELECT: ${median(large.claimPerRowUs).toFixed(1)} vs ${median(small.claimPerRowUs).toFixed(1)} µs/row`,
  });
}

// ---------------------------------------------------------------------------------------------
// R9: event-loop stall while the inbound parser takes pathological mail

async function phaseInbound(ctx: Ctx): Promise<void> {
  await resetPipelineTables(ctx.db);
  // The real inbound process: webhook → store → replies.process → MessageParser (worker thread) →
  // classify → record. Its /metrics carries prom-client's event-loop delay histogram (10 ms
  // resolution), which each scrape reads and resets: scrape, post one mail, wait until the row
  // is processed, scrape again — the max is the longest stall of that interval.
  const smtpPort = await freePort();
  const [inbound] = await services(ctx, 'inbound', ['inbound'], { INBOUND_SMTP_PORT: String(smtpPort), LLM_BASE_URL: '' });
  const scrape = async () => {
    const text = await inbound.metrics();
    const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text);
    return { lagMs: m ? Number(m[1]) * 1000 : Number.NaN, gc: gcTotals(text) };
  };
  const interval = async <T>(fn: () => Promise<T>) => {
    const before = await scrape(); // reading resets the delay histogram
    const started = Date.now();
    const value = await fn();
    const after = await scrape();
    return {
      value, ms: Date.now() - started, stallMs: after.lagMs,
      gc: { count: after.gc.count - before.gc.count, sumMs: after.gc.sumMs - before.gc.sumMs, over10ms: after.gc.over10ms - before.gc.over10ms },
    };
  };
  const post = async (label: string, build: (messageId: string) => Buffer) => {
    const messageId = `<r9-${randomUUID()}@bench.example>`;
    const raw = build(messageId);
    const r = await interval(async () => {
      const t = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', ctx.env.WEBHOOK_SECRET).update(`${t}.`).update(raw).digest('hex');
      const res = await fetch(`${inbound.url}/webhooks/reply`, {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822', 'x-mz-signature': `t=${t},v1=${sig}` },
        body: new Uint8Array(raw),
      });
      if (res.status !== 202) throw new Error(`inbound webhook answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      let row: { processed: boolean; kind: string | null; error: string | null } | undefined;
      await until(`inbound: ${label} processed`, 1, async () => {
        row = (await ctx.db.query(`SELECT processed_at IS NOT NULL AS processed, kind, error FROM inbound_message WHERE message_id = $1`, [messageId])).rows[0];
        return row?.processed ? 1 : 0;
      }, { everyMs: 20, stallMs: 60_000 });
      return row;
    });
    return { label, bytes: raw.length, ms: r.ms, stallMs: r.stallMs, gc: r.gc, kind: r.value?.kind ?? null, error: r.value?.error?.slice(0, 160) ?? null };
  };
  // Control: the same service left alone for a second. On a shared, busy machine the OS alone
  // delays timers; a stall no larger than this is not the mail's doing.
  const idle = async () => {
    const r = await interval(() => sleep(1000));
    return { label: 'idle control (1 s, no mail)', bytes: 0, ms: r.ms, stallMs: r.stallMs, gc: r.gc, kind: null, error: null };
  };
  const rounds = Math.max(3, ctx.opts.rounds);
  await post('warm-up (small reply)', (id) => Buffer.from(`${replyHeaders(['To: reply@reply.bench.example'], 'text/plain', id)}\r\n\r\ndone\r\n`));
  const runs: Awaited<ReturnType<typeof post>>[] = [];
  const controls: Awaited<ReturnType<typeof idle>>[] = [];
  for (let i = 0; i < rounds; i++) {
    controls.push(await idle());
    runs.push(await post('2 MB format=flowed', (id) => flowedMail(2 * 1024 * 1024, id)));
    runs.push(await post('100k-address To: (0.9 MB header)', (id) => manyAddressMail(100_000, true, id)));
  }
  const refused = await post('100k named addresses (3.8 MB header)', (id) => manyAddressMail(100_000, false, id));
  const rss = await stopServices(ctx, [inbound]);
  ctx.results.peakRssMb = { ...(ctx.results.peakRssMb ?? {}), ...prefixKeys(rss, 'inbound') };

  // A finer probe (1 ms) around the parser alone, in a harness process, and mailparser on the main thread for contrast.
  const child = await startChild(join(__dirname, 'children/loop-stall.js'), { MZ_DIST: ctx.distDir }, { logFile: join(ctx.logDir, 'loop-stall.log') });
  ctx.running.add(child);
  type Run = { label: string; bytes: number; parseMs: number; outcome: string; maxGapMs: number; histogramMaxMs: number };
  const probe = await child.call<{ cold: Run; runs: Run[]; refused: Run; inThread: Run[] }>('run', { rounds, reference: true }, 900_000);
  await child.stop();
  ctx.running.delete(child);
  const stall = (x: Run) => Math.max(x.maxGapMs, x.histogramMaxMs);
  const perRound: number[] = [];
  for (let i = 0; i < runs.length; i += 2) perRound.push(Math.max(runs[i].stallMs, runs[i + 1]?.stallMs ?? 0));
  const probeMax = Math.max(...probe.runs.map(stall));
  ctx.results.phases.inbound = { service: { runs, refused, controls, peakRssMb: rss }, parserProbe: probe };
  ctx.results.ratios.push({
    id: 'R9',
    title: 'longest event-loop stall in inbound while it takes a 2 MB format=flowed mail and a 100k-address header (ms)',
    target: { op: '<=', value: 50 },
    rounds: perRound,
    numerator: `${median(perRound).toFixed(0)} ms`,
    denominator: '50 ms bound',
    note: `inbound process via its signed webhook (store, queue, parse in the worker thread, classify), nodejs_eventloop_lag_max at 10 ms resolution; idle control ${median(controls.map((c) => c.stallMs)).toFixed(0)} ms; parser alone at 1 ms: ${probeMax.toFixed(1)} ms (on the main thread it would be ${probe.inThread.map((x) => `${stall(x).toFixed(0)}`).join(' / ')} ms)`,
  });
}

// ---------------------------------------------------------------------------------------------
// --profile digests

async function collectProfiles(ctx: Ctx, phase: string): Promise<void> {
  if (!ctx.opts.profile || !existsSync(ctx.profileDir)) return;
  const digests: Record<string, unknown> = {};
  for (const file of readdirSync(ctx.profileDir).filter((f) => f.startsWith(`${phase}-`) && f.endsWith('.cpuprofile'))) {
    digests[file] = summariseCpuProfile(JSON.parse(readFileSync(join(ctx.profileDir, file), 'utf8')), 20);
  }
  (ctx.results.profiles ??= {})[phase] = { cpu: digests, statements: pgStatementDigest(ctx) };
}

/** The part of the shared Postgres log this run wrote (duration lines of the bench database). */
function pgStatementDigest(ctx: Ctx) {
  if (ctx.pgLogOffset === undefined || !existsSync(PG_LOG)) return { note: `${PG_LOG} not readable` };
  const fd = openSync(PG_LOG, 'r');
  try {
    const length = statSync(PG_LOG).size - ctx.pgLogOffset;
    const buf = Buffer.alloc(Math.max(0, length));
    readSync(fd, buf, 0, buf.length, ctx.pgLogOffset);
    const apps = ctx.pgApps ?? new Map<number, string>();
    return aggregateStatementLog(buf.toString('latin1'), ctx.dbName, (pid) => apps.get(pid) ?? '(closed connection)').slice(0, 40);
  } finally {
    closeSync(fd);
    ctx.pgLogOffset = undefined;
  }
}
