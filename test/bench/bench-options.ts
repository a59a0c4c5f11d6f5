/** Command-line options of `npm run bench` (pure; see bench-options.spec.ts). */

export const PHASES = ['baselines', 'e2e', 'mailer', 'scheduler', 'claim', 'composer', 'lateness', 'degraded', 'cost', 'inbound'] as const;
export type Phase = (typeof PHASES)[number];
/** What `--cluster` measures: the service phases whose harness reads Redis through the cluster too. */
export const CLUSTER_PHASES: readonly Phase[] = ['e2e', 'mailer', 'degraded'];

export interface BenchOptions {
  /** Subscriptions due at once for the scheduler's claim + enqueue (R3). */
  n: number;
  /** Letters per measured round of the end-to-end and mailer-stage rates (R1, R2, R8). */
  roundN: number;
  /** Letters due at one instant in R7. */
  latenessN: number;
  /** Rounds per figure; each figure is the median. */
  rounds: number;
  /** Rounds of R7 (each waits the two-minute compose lead, so it defaults to 1). */
  latenessRounds: number;
  /** The lead R7 seeds its subscriptions ahead of now, ms (DESIGN: two minutes). */
  latenessLeadMs: number;
  /** LLM latency for R6/R7, ms. */
  llmLatencyMs: number;
  /** R11: how long the LLM fails every call, ms, and the letters due spread over that time. */
  outageMs: number;
  degradedN: number;
  /** R6 runs COMPOSER_CONCURRENCY × this many letters (full waves of LLM calls). */
  composerWaves: number;
  /** R4: due rows, and the two table sizes compared. */
  claimDue: number;
  claimSmall: number;
  claimLarge: number;
  /** Letters of the unmeasured warm-up before the e2e rounds (JIT, pools, BullMQ retention at steady state). */
  warmup: number;
  phases: Phase[];
  build: boolean;
  /** Services run with --cpu-prof; the Postgres statement log is aggregated per statement. */
  profile: boolean;
  keepDb: boolean;
  /** Services on a loopback Redis Cluster (3 masters + 3 replicas) and Postgres through PgBouncer. */
  cluster: boolean;
  logLevel: string;
  /** Variables set for every service on top of the harness's own (`--service-env K=V`): configuration A/B runs. */
  serviceEnv: Record<string, string>;
  /** Node/V8 flags put before every service's entry point (`--node-arg`), for those NODE_OPTIONS refuses. */
  nodeArgs: string[];
  quick: boolean;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --n <count>            subscriptions due in the same minute for R3 (default 10000; e.g. --n 100000);
                         also the upper bound of the two sizes below
  --round-n <count>      letters per end-to-end / mailer-stage round, R1 R2 R8 (default min(n, 2000))
  --lateness-n <count>   letters due at one instant in R7 (default: --round-n)
  --rounds <k>           rounds per figure, median reported (default 3)
  --quick                smoke run: --n 2000, round-n 1000, 1 round, 30 s lateness lead, 100k-row claim table
  --phases <a,b,...>     subset of: ${PHASES.join(', ')} (default all)
  --lateness-rounds <k>  rounds of R7 (default 1: each waits the 2-minute lead)
  --lateness-lead <s>    seconds R7's letters are due ahead of now (default 120)
  --llm-latency <ms>     fake LLM latency for R6/R7 (default 1500)
  --outage <s>           R11: seconds the fake LLM fails every call (default 120; the target's is 600)
  --degraded-n <count>   R11: letters due spread over the outage (default min(round-n, 600))
  --composer-waves <k>   R6 letters = COMPOSER_CONCURRENCY × k (default 8)
  --claim-large <rows>   R4 big table size (default 1000000)
  --warmup <letters>     unmeasured e2e warm-up (default min(n, 2000): fills BullMQ's retention for R8)
  --profile              --cpu-prof the services and aggregate the Postgres statement log
  --log-level <level>    services' LOG_LEVEL (default info, as in production)
  --service-env <K=V>    set a variable for every service (repeatable), e.g. DATABASE_POOL_MAX=4:
                         A/B runs of a setting; the report lists what was set
  --node-arg <flag>      a node or V8 flag for every service (repeatable), e.g. --node-arg=--no-memory-reducer:
                         the V8 flags NODE_OPTIONS refuses
  --no-build             use dist/ as it is
  --keep-db              keep the mz_bench_* database for inspection
  --cluster              run on a loopback Redis Cluster (3+3) with Postgres through PgBouncer
                         (transaction mode), baselines included; phases: e2e, mailer, degraded
  --help`;

const positiveInt = (name: string, raw: string | undefined, min = 1): number => {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} expects an integer >= ${min}, got "${raw ?? ''}"`);
  return v;
};

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    n: quick ? 2000 : 10_000,
    roundN: -1,
    latenessN: -1,
    rounds: quick ? 1 : 3,
    latenessRounds: 1,
    latenessLeadMs: quick ? 30_000 : 120_000,
    outageMs: quick ? 45_000 : 120_000,
    degradedN: -1,
    llmLatencyMs: 1500,
    composerWaves: quick ? 4 : 8,
    claimDue: 1000,
    claimSmall: 10_000,
    claimLarge: quick ? 100_000 : 1_000_000,
    warmup: -1,
    phases: [...PHASES],
    build: true,
    profile: false,
    keepDb: false,
    cluster: false,
    logLevel: 'info',
    serviceEnv: {},
    nodeArgs: [],
    quick,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--n':
        o.n = positiveInt(flag, value(), 10);
        break;
      case '--round-n':
        o.roundN = positiveInt(flag, value(), 10);
        break;
      case '--lateness-n':
        o.latenessN = positiveInt(flag, value(), 10);
        break;
      case '--rounds':
        o.rounds = positiveInt(flag, value());
        break;
      case '--lateness-rounds':
        o.latenessRounds = positiveInt(flag, value());
        break;
      case '--outage':
        o.outageMs = positiveInt(flag, value(), 10) * 1000;
        break;
      case '--degraded-n':
        o.degradedN = positiveInt(flag, value(), 10);
        break;
      case '--lateness-lead':
        o.latenessLeadMs = positiveInt(flag, value(), 5) * 1000;
        break;
      case '--llm-latency':
        o.llmLatencyMs = positiveInt(flag, value(), 0);
        break;
      case '--composer-waves':
        o.composerWaves = positiveInt(flag, value(), 2);
        break;
      case '--claim-large':
        o.claimLarge = positiveInt(flag, value(), 20_000);
        break;
      case '--warmup':
        o.warmup = positiveInt(flag, value(), 0);
        break;
      case '--phases': {
        const list = value().split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = list.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (unknown.length || !list.length) throw new Error(`--phases: unknown phase(s) ${unknown.join(', ') || '(none given)'}; known: ${PHASES.join(', ')}`);
        o.phases = PHASES.filter((p) => list.includes(p));
        break;
      }
      case '--profile':
        o.profile = true;
        break;
      case '--log-level':
        o.logLevel = value();
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(o.logLevel)) throw new Error(`--log-level: unknown level "${o.logLevel}"`);
        break;
      case '--service-env': {
        const v = value();
        const eq = v.indexOf('=');
        const key = eq > 0 ? v.slice(0, eq) : '';
        if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`--service-env expects NAME=value with an upper-case NAME, got "${v}"`);
        o.serviceEnv[key] = v.slice(eq + 1);
        break;
      }
      case '--node-arg': {
        const v = value();
        if (!/^--[a-z0-9][a-z0-9-]*(=[^\s]+)?$/.test(v)) throw new Error(`--node-arg expects one flag like --no-memory-reducer or --max-semi-space-size=32, got "${v}"`);
        o.nodeArgs.push(v);
        break;
      }
      case '--no-build':
        o.build = false;
        break;
      case '--keep-db':
        o.keepDb = true;
        break;
      case '--cluster':
        o.cluster = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option "${arg}"\n\n${USAGE}`);
    }
  }
  if (o.roundN < 0) o.roundN = Math.min(o.n, quick ? 1000 : 2000);
  if (o.latenessN < 0) o.latenessN = o.roundN;
  if (o.degradedN < 0) o.degradedN = Math.min(o.roundN, 600);
  // 2,000 letters fill BullMQ's retention (1,000 completed jobs per queue, ~10k stream entries):
  // R8 compares steady states only after that.
  if (o.warmup < 0) o.warmup = Math.min(o.n, 2000);
  if (o.claimLarge <= o.claimSmall) throw new Error('--claim-large must exceed the 10,000-row small table');
  if (o.cluster) {
    const unsupported = o.phases.filter((p) => !CLUSTER_PHASES.includes(p));
    if (argv.some((a) => a === '--phases' || a.startsWith('--phases='))) {
      if (unsupported.length) throw new Error(`--cluster runs the phases ${CLUSTER_PHASES.join(', ')}; not ${unsupported.join(', ')}`);
    } else o.phases = [...CLUSTER_PHASES];
  }
  return o;
}
