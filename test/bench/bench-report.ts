/** Turns a run's results into the JSON file and the Markdown report (pure; see bench-report.spec.ts). */
import type { BenchOptions } from './bench-options';
import { formatNumber, formatRatioTable, markdownTable, median, type RatioRow, type RatioSummary, summarise } from './bench-stats';

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: {
    cores: number;
    cpuModel: string;
    memoryMb: number;
    freeMemoryMbAtStart: number;
    node: string;
    kernel: string;
    postgres: string;
    redis: string;
    loadAvgStart: number[];
    loadAvgEnd: number[];
  };
  options: BenchOptions;
  serviceEnv: Record<string, string>;
  defaults: Record<string, number>;
  ratios: RatioRow[];
  // Phase details are free-form: they go to the JSON as measured.
  phases: Record<string, any>;
  /** Median CPU-ms per letter by process, end to end at L = 0. */
  cpuPerLetter?: Record<string, number>;
  /** VmHWM per "service (phase)", MB. */
  peakRssMb?: Record<string, number | null>;
  profiles?: Record<string, unknown>;
  errors: { phase: string; error: string }[];
  notes: string[];
}

const ORDER = ['R1', 'R2', 'R3', 'R4', 'R6', 'R7', 'R8', 'R9', 'R10', 'R11', 'R12'];
const n0 = (v: number) => formatNumber(v, 0);
const n2 = (v: number) => formatNumber(v, 2);

export function buildReport(results: BenchResults): { markdown: string; json: BenchResults & { summary: RatioSummary[] } } {
  const summary = [...results.ratios].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id)).map(summarise);
  const m = results.machine;
  const o = results.options;
  const minutes = (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 60_000;
  const out: string[] = [];
  out.push(`# Mentor Zero benchmark — ${results.startedAt}`);
  out.push('');
  out.push(
    `Machine: ${m.cores} cores (${m.cpuModel}), ${n0(m.memoryMb / 1024)} GB RAM, Node ${m.node}, Linux ${m.kernel}, ` +
      `PostgreSQL ${m.postgres}, Redis ${m.redis}. Load average at start ${m.loadAvgStart.join(' / ')}, at end ${m.loadAvgEnd.join(' / ')} ` +
      `(the machine is shared: other work running at the same time shows up in the rounds' spread).`,
  );
  out.push('');
  out.push(
    `Run: N = ${n0(o.n)} (R3), ${n0(o.roundN)} letters per e2e/mailer round (R1, R2, R8), ${n0(o.latenessN)} due at once in R7; ` +
      `${o.rounds} round(s) per figure (median; R7: ${o.latenessRounds}), warm-up ${n0(o.warmup)} letters, ` +
      `LLM latency ${o.llmLatencyMs} ms for R6/R7, services at LOG_LEVEL=${o.logLevel}${o.profile ? ', profiled (--cpu-prof, statement log)' : ''}; took ${formatNumber(minutes, 1)} min. ` +
      `Service defaults: composer concurrency ${results.defaults.COMPOSER_CONCURRENCY}, mailer concurrency ${results.defaults.MAILER_CONCURRENCY}, ` +
      `SMTP pool ${results.defaults.SMTP_POOL_SIZE} × ${results.defaults.SMTP_MAX_MESSAGES} messages per connection, scheduler batch ${results.defaults.SCHEDULER_BATCH_SIZE}, DB pool ${results.defaults.DATABASE_POOL_MAX}; ` +
      `bench overrides: SCHEDULER_TICK_MS=${results.serviceEnv.SCHEDULER_TICK_MS}, SMTP_RATE_PER_SEC=${results.serviceEnv.SMTP_RATE_PER_SEC} (limiter on, never binding)` +
      (Object.keys(o.serviceEnv ?? {}).length ? `; set with --service-env: ${Object.entries(o.serviceEnv).map(([k, v]) => `${k}=${/SECRET|KEY|URL/.test(k) ? '…' : v}`).join(', ')}.` : '.') +
      (o.nodeArgs?.length ? ` Node flags for every service (--node-arg): ${o.nodeArgs.join(' ')}.` : ''),
  );
  out.push('');
  out.push('## Ratios');
  out.push('');
  out.push(summary.length ? formatRatioTable(summary) : '_no ratio measured_');

  if (results.cpuPerLetter) {
    out.push('');
    out.push('## CPU per letter (end to end, L = 0, median of rounds)');
    out.push('');
    out.push(markdownTable(['process', 'CPU-ms / letter'], Object.entries(results.cpuPerLetter).map(([k, v]) => [k === 'redis' ? 'redis (instance-wide)' : k === 'postgres' ? 'postgres backends' : k, n2(v)])));
  }
  if (results.peakRssMb && Object.keys(results.peakRssMb).length) {
    out.push('');
    out.push('## Peak RSS per service (VmHWM)');
    out.push('');
    out.push(markdownTable(['service (phase)', 'MB'], Object.entries(results.peakRssMb).map(([k, v]) => [k, v === null ? 'n/a' : n0(v)])));
  }

  const e2e = results.phases.e2e;
  if (e2e?.rounds?.length) {
    const rounds = e2e.rounds as { redisCommands: { callsPerLetter: number; top: { command: string; callsPerLetter: number; usecPerLetter: number }[] }; postgresPerLetter: Record<string, number> }[];
    const pg = (k: string) => median(rounds.map((r) => r.postgresPerLetter[k] ?? Number.NaN));
    out.push('');
    out.push('## Where the work goes (end to end, per letter, median of rounds)');
    out.push('');
    out.push(
      `Postgres: ${n2(pg('xact_commit'))} commits, ${n2(pg('tup_inserted'))} rows inserted, ${n2(pg('tup_updated'))} updated, ` +
        `${n2(pg('tup_fetched'))} fetched, ${n2(pg('blks_hit'))} buffer hits per letter. Redis: ${n2(median(rounds.map((r) => r.redisCommands.callsPerLetter)))} commands per letter (Lua scripts count their inner calls).`,
    );
    out.push('');
    const top = rounds[Math.floor(rounds.length / 2)].redisCommands.top;
    out.push(markdownTable(['redis command', 'calls / letter', 'µs / letter'], top.map((c) => [c.command, n2(c.callsPerLetter), n2(c.usecPerLetter)])));
  }

  const details: string[] = [];
  const claim = results.phases.claim;
  if (claim) {
    details.push(
      `- R4: one full scheduler pass over ${claim.due} due rows — ${n0(median(claim.small.perRowUs))} µs/row among ${n0(claim.small.subscriptions)} subscriptions, ` +
        `${n0(median(claim.large.perRowUs))} µs/row among ${n0(claim.large.subscriptions)}; the claim SELECT alone ${formatNumber(median(claim.small.claimPerRowUs), 1)} vs ${formatNumber(median(claim.large.claimPerRowUs), 1)} µs/row (plans in the JSON).`,
    );
  }
  const late = results.phases.lateness;
  if (late?.rounds?.length) {
    const r = late.rounds[0];
    details.push(
      `- R7: composer concurrency ${late.concurrency}; composing ran at ${n2(late.composeRatePerSecond)} letters/s (ideal ${n2(late.composeIdealPerSecond)}); ` +
        `lateness p50 ${n2(r.letters.latenessP50)} s, p99 ${n2(r.letters.latenessP99)} s, max ${n2(r.letters.latenessMax)} s; send drain ${n2(r.drainS)} s; p99 ÷ own drain ${n2(r.ownDrainRatio)}.`,
    );
  }
  const inbound = results.phases.inbound;
  if (inbound?.service?.runs?.length) {
    type Interval = { label: string; bytes: number; ms: number; stallMs: number; gc?: { count: number; sumMs: number; over10ms: number }; kind: string | null; error: string | null };
    const svc = (x: Interval) => [
      x.label, n0(x.bytes / 1024), n0(x.ms), formatNumber(x.stallMs, 1),
      x.gc ? `${x.gc.count} (${formatNumber(x.gc.sumMs, 1)} ms, ${x.gc.over10ms} > 10 ms)` : '', x.error ? `error: ${x.error}` : (x.kind ?? ''),
    ];
    const ordered: Interval[] = [];
    const controls: Interval[] = inbound.service.controls ?? [];
    inbound.service.runs.forEach((r: Interval, i: number) => {
      if (i % 2 === 0 && controls[i / 2]) ordered.push(controls[i / 2]);
      ordered.push(r);
    });
    details.push('- R9 in the inbound process (webhook → stored → parsed → classified), with an idle control before each pair:');
    details.push('');
    details.push(markdownTable(['mail', 'KB', 'ms to processed', 'longest stall ms', 'GCs meanwhile', 'outcome'], [...ordered.map(svc), svc(inbound.service.refused)]));
    const p = inbound.parserProbe;
    const fmt = (x: { label: string; parseMs: number; maxGapMs: number; histogramMaxMs: number; outcome: string }) =>
      [x.label, n0(x.parseMs), formatNumber(Math.max(x.maxGapMs, x.histogramMaxMs), 1), x.outcome];
    details.push('');
    details.push('- R9, the MessageParser alone in a harness process (1 ms probe), and mailparser on the main thread for contrast:');
    details.push('');
    details.push(markdownTable(['mail', 'parse ms', 'longest stall ms', 'outcome'], [fmt(p.cold), ...p.runs.map(fmt), ...(p.refused ? [fmt(p.refused)] : []), ...p.inThread.map(fmt)]));
  }
  if (details.length) {
    out.push('');
    out.push('## Details');
    out.push('');
    out.push(...details);
  }
  if (results.errors.length) {
    out.push('');
    out.push('## Errors');
    out.push('');
    for (const e of results.errors) out.push(`- ${e.phase}: ${e.error.split('\n')[0]}`);
  }
  if (results.notes.length) {
    out.push('');
    out.push('## Notes');
    out.push('');
    for (const n of results.notes) out.push(`- ${n}`);
  }
  return { markdown: out.join('\n'), json: { ...results, summary } };
}
