/**
 * Profile digests for `npm run bench -- --profile` (pure; see bench-profile.spec.ts):
 * - V8 .cpuprofile (node --cpu-prof) → self time per function and per package/file;
 * - Postgres server log written with log_min_duration_statement=0 → a pg_stat_statements-like
 *   table (calls, total and mean ms per statement), for servers where the extension cannot be
 *   preloaded without a restart.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  share: number;
}

/** Where a frame's code lives: a package name, a repo file, a Node internal, or a V8 pseudo-frame. */
export function frameOwner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  // The bench runs the services from a snapshot under node_modules/.cache/…/dist: that is our code.
  if (nm >= 0 && !url.startsWith('.cache/', nm + 'node_modules/'.length)) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1).replace(/^file:\/\//, '');
  return url.replace(/^file:\/\//, '');
}

/** Self time (ms) per function and per owner, largest first; idle time is left out of the shares. */
export function summariseCpuProfile(profile: CpuProfile, top = 15): { totalMs: number; idleMs: number; functions: SelfTime[]; owners: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length && deltas.length === samples.length) {
    // timeDeltas[i] is the time since the previous sample: it belongs to what ran at sample i - 1.
    for (let i = 1; i < samples.length; i++) selfUs.set(samples[i - 1], (selfUs.get(samples[i - 1]) ?? 0) + Math.max(0, deltas[i]));
  } else {
    const interval = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const perHit = interval ? (profile.endTime - profile.startTime) / interval : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * perHit);
  }
  const fn = new Map<string, number>();
  const owner = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const where = frameOwner(url, functionName);
    const key = url ? `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}` : functionName || '(anonymous)';
    fn.set(key, (fn.get(key) ?? 0) + us);
    owner.set(where, (owner.get(where) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs ? us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, functions: rank(fn), owners: rank(owner) };
}

export interface StatementStat {
  statement: string;
  /** Executions (extended-protocol `execute` or simple-protocol `statement`). */
  calls: number;
  /** Server time over parse + bind + execute, ms. */
  totalMs: number;
  meanMs: number;
  /** Part of totalMs spent in parse/bind (per-call planning of unnamed statements). */
  parseBindMs: number;
}

const LOG_LINE = /^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[(\d+)\] [^@\s]*@(\S+) LOG:\s+duration: ([\d.]+) ms\s+(parse|bind|execute|statement)(?: [^:]*)?: (.*)$/;

/** Collapses whitespace and numbered placeholders' surroundings so the same statement groups once. */
export function normaliseStatement(sql: string, max = 220): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Aggregates `duration:` lines of one database from a Postgres log (log_line_prefix '%m [%p] %q%u@%d ').
 * Continuation lines of multi-line statements start with a tab and are appended. `appOf` maps a
 * backend pid to the service that owned the connection (from pg_stat_activity), for grouping.
 */
export function aggregateStatementLog(text: string, database: string, appOf: (pid: number) => string = () => '?'): (StatementStat & { app: string })[] {
  const entries: { pid: number; ms: number; phase: string; sql: string }[] = [];
  let current: { pid: number; ms: number; phase: string; sql: string } | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      if (current) current.sql += ` ${line.trim()}`;
      continue;
    }
    current = null;
    const m = LOG_LINE.exec(line);
    if (!m || m[2] !== database) continue;
    current = { pid: Number(m[1]), ms: Number(m[3]), phase: m[4], sql: m[5] };
    entries.push(current);
  }
  const groups = new Map<string, StatementStat & { app: string }>();
  for (const e of entries) {
    const app = appOf(e.pid);
    const statement = normaliseStatement(e.sql);
    const key = `${app}\u0000${statement}`;
    const g = groups.get(key) ?? { app, statement, calls: 0, totalMs: 0, meanMs: 0, parseBindMs: 0 };
    g.totalMs += e.ms;
    if (e.phase === 'execute' || e.phase === 'statement') g.calls++;
    else g.parseBindMs += e.ms;
    groups.set(key, g);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, meanMs: g.calls ? g.totalMs / g.calls : 0 }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** `INFO commandstats` → calls and µs per command. */
export function parseCommandStats(info: string): Map<string, { calls: number; usec: number }> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

/** Differences after − before, commands with no new calls left out, busiest first. */
export function diffCommandStats(
  before: Map<string, { calls: number; usec: number }>,
  after: Map<string, { calls: number; usec: number }>,
): { command: string; calls: number; usec: number }[] {
  const out: { command: string; calls: number; usec: number }[] = [];
  for (const [command, a] of after) {
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out.push({ command, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out.sort((x, y) => y.usec - x.usec);
}

export interface GcTotals {
  /** Collections so far, all kinds. */
  count: number;
  /** Time spent in them, ms. */
  sumMs: number;
  /** Collections longer than 10 ms (prom-client's default buckets: 1, 10, 100 ms, …). */
  over10ms: number;
}

/** Totals of prom-client's `nodejs_gc_duration_seconds` histogram (all kinds) from a /metrics scrape. */
export function gcTotals(metrics: string): GcTotals {
  let count = 0;
  let sum = 0;
  let le10 = 0;
  for (const m of metrics.matchAll(/^nodejs_gc_duration_seconds_(count|sum|bucket)\{([^}]*)\} ([\d.e+-]+)$/gm)) {
    const v = Number(m[3]);
    if (m[1] === 'count') count += v;
    else if (m[1] === 'sum') sum += v;
    else if (/(^|,)le="0\.01"/.test(m[2])) le10 += v;
  }
  return { count, sumMs: sum * 1000, over10ms: count - le10 };
}

/** `INFO` field value (e.g. used_memory, used_cpu_user) as a number; NaN when absent. */
export function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info);
  return m ? Number(m[1]) : Number.NaN;
}
