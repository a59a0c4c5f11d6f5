/**
 * Pure statistics and reporting for the benchmark harness: medians over rounds, percentiles,
 * ratio targets and the Markdown tables. No I/O here, so it is unit-tested (bench-stats.spec.ts).
 */

/** Median of finite numbers; NaN when there are none. */
export function median(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return Number.NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/**
 * Percentile by linear interpolation between closest ranks (the "R-7" / Excel PERCENTILE.INC
 * definition, also Postgres' percentile_cont), `p` in [0, 1]; NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile p must be in [0, 1], got ${p}`);
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return Number.NaN;
  const rank = p * (xs.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo);
}

/** Per-second rate of `count` events over `ms` milliseconds; NaN for an empty or zero window. */
export function ratePerSecond(count: number, ms: number): number {
  return ms > 0 && count > 0 ? (count * 1000) / ms : Number.NaN;
}

export type Comparison = '>=' | '<=';

export interface Target {
  op: Comparison;
  value: number;
}

export function meetsTarget(value: number, target: Target): boolean | null {
  if (!Number.isFinite(value)) return null;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

/** One row of the ratio table: a measured quantity over its baseline (or bound), per round. */
export interface RatioRow {
  id: string;
  /** What is divided by what, in words. */
  title: string;
  target: Target;
  /** Ratio of each round (numerator[i] / denominator[i], or a direct value such as a stall in ms). */
  rounds: number[];
  /** Human-readable median numerator and denominator, e.g. "212 letters/s" and "2,304 jobs/s". */
  numerator: string;
  denominator: string;
  /** Caveats that change how the number reads (e.g. "measured in a harness process"). */
  note?: string;
}

export interface RatioSummary extends RatioRow {
  value: number;
  met: boolean | null;
}

export function summarise(row: RatioRow): RatioSummary {
  const value = median(row.rounds);
  return { ...row, value, met: meetsTarget(value, row.target) };
}

/** Ratios divided pairwise per round: each round's pipeline run is compared with the baseline run beside it. */
export function pairwiseRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  const n = Math.min(numerators.length, denominators.length);
  return Array.from({ length: n }, (_, i) => (denominators[i] ? numerators[i] / denominators[i] : Number.NaN));
}

/** 1234.5 → "1,235", 12.345 → "12.3", 0.01234 → "0.0123": significant enough, never noisy. */
export function formatNumber(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function verdict(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'met' : 'MISSED';
}

/** The headline table: id, what, median ratio, target, verdict, the medians it came from, rounds. */
export function formatRatioTable(rows: readonly RatioSummary[]): string {
  return markdownTable(
    ['id', 'ratio', 'value', 'target', 'result', 'measured', 'baseline / bound', 'rounds', 'note'],
    rows.map((r) => [
      r.id,
      r.title,
      formatNumber(r.value, Math.abs(r.value) >= 10 ? 1 : 3),
      `${r.target.op} ${r.target.value}`,
      verdict(r.met),
      r.numerator,
      r.denominator,
      r.rounds.map((v) => formatNumber(v, Math.abs(v) >= 10 ? 1 : 3)).join(', '),
      r.note ?? '',
    ]),
  );
}
