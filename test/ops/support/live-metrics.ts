/**
 * What running services actually export on /metrics, parsed from the Prometheus text format:
 * each family's type and the label names seen on its series.
 */
export interface LiveFamily {
  type: string;
  labels: Set<string>;
  /** True when at least one series was exported (labels are known only then). */
  hasSeries: boolean;
}

export function parseExposition(text: string, into: Map<string, LiveFamily> = new Map()): Map<string, LiveFamily> {
  const family = (name: string) => {
    let f = into.get(name);
    if (!f) into.set(name, (f = { type: 'untyped', labels: new Set(), hasSeries: false }));
    return f;
  };
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      family(type[1]).type = type[2];
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    let name = m[1];
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (base !== name && into.get(base)?.type === 'histogram') name = base;
    const f = family(name);
    f.hasSeries = true;
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (l[1] !== 'le' && l[1] !== 'quantile') f.labels.add(l[1]);
  }
  return into;
}

/** Labels Prometheus itself attaches to every scraped series (ServiceMonitor target labels). */
export const TARGET_LABELS = new Set(['namespace', 'pod', 'instance', 'job', 'container', 'endpoint', 'service']);

const SERIES_SUFFIX = /_(bucket|sum|count)$/;

/** Metric names a PromQL expression reads, histogram series folded into their live family. */
export function familiesIn(expr: string, live: Map<string, LiveFamily>): string[] {
  const out = new Set<string>();
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of withoutStrings.matchAll(/\b((?:mz|process|nodejs)_[a-zA-Z0-9_]+)\b/g)) {
    const base = m[1].replace(SERIES_SUFFIX, '');
    out.add(base !== m[1] && live.get(base)?.type === 'histogram' ? base : m[1]);
  }
  return [...out];
}

/**
 * Label names an expression relies on: matchers inside `{…}` and grouping clauses
 * (`by`, `without`, `on`, `ignoring`, `group_left/right`). `le` belongs to histogram buckets.
 */
export function labelsIn(expr: string): string[] {
  const out = new Set<string>();
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const sel of noStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const l of sel[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.add(l[1]);
  }
  for (const g of noStrings.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of g[1].split(',').map((s) => s.trim()).filter(Boolean)) out.add(l);
  }
  // label_replace(v, "dst", …) introduces its destination label: strings were blanked above, read them from the original.
  for (const r of expr.matchAll(/label_replace\([^,]+,\s*"([^"]+)"/g)) out.delete(r[1]);
  out.delete('le');
  out.delete('__name__');
  return [...out];
}
