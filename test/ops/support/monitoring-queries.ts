/**
 * The metric names the dashboard and alert rules depend on, and promtool (Debian package
 * `prometheus`) to check their PromQL offline. live-metrics.e2e-spec.ts compares them with what
 * running services actually export on /metrics.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { K8S_DIR, KubeObject, readYamlObjects, REPO_ROOT } from './kube-manifests';

export const DASHBOARD_PATH = join(K8S_DIR, 'grafana', 'mentor-zero-dashboard.json');
export const PROMETHEUS_RULE_PATH = join(K8S_DIR, 'base', 'prometheus-rule.yaml');
export const OPERATIONS_DOC_PATH = join(REPO_ROOT, 'docs', 'operations.md');

export function readDashboard(): any {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8'));
}

/** Every panel of the dashboard, rows' nested panels included. */
export function dashboardPanels(dashboard: any = readDashboard()): any[] {
  const out: any[] = [];
  for (const p of dashboard.panels ?? []) {
    out.push(p);
    for (const nested of p.panels ?? []) out.push(nested);
  }
  return out;
}

export function dashboardExpressions(dashboard: any = readDashboard()): string[] {
  return dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => String(t.expr)));
}

export function prometheusRuleObject(): KubeObject {
  const [rule] = readYamlObjects(PROMETHEUS_RULE_PATH);
  return rule;
}

export function alertRules(rule: KubeObject = prometheusRuleObject()): any[] {
  return rule.spec.groups.flatMap((g: any) => g.rules.filter((r: any) => r.alert));
}

/** Dashboard variables replaced by what Grafana would send with "All" selected. */
export function concreteQuery(expr: string): string {
  return expr.replace(/\$namespace\b|\$\{namespace\}/g, '.*');
}

const SERIES_SUFFIX = /_(bucket|sum|count)$/;
const NAME = /\b((?:mz|process|nodejs)_[a-zA-Z0-9_]+)\b/g;

/**
 * Metric families a PromQL expression reads, histogram series (`_bucket`, `_sum`, `_count`) folded
 * into their family — our counters end in `_total`, so those suffixes only ever name histogram
 * series. Whether a family exists is checked against live services (live-metrics.e2e-spec.ts),
 * not against a list kept by hand.
 */
export function metricFamilies(expr: string): string[] {
  const out = new Set<string>();
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of withoutStrings.matchAll(NAME)) {
    const name = m[1];
    out.add(name.replace(SERIES_SUFFIX, ''));
  }
  return [...out];
}

/** Every metric family named by the dashboard or an alert rule. */
export function referencedMetricNames(): string[] {
  const exprs = [...dashboardExpressions(), ...alertRules().map((r) => String(r.expr))];
  return [...new Set(exprs.flatMap(metricFamilies))].sort();
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces → dashes. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[1].replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

// ---------------------------------------------------------------------------------------------
// promtool

export function promtoolAvailable(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface PromtoolResult {
  code: number;
  output: string;
}

export function promtool(args: string[], cwd?: string): PromtoolResult {
  try {
    const output = execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed (Debian package `prometheus`): the alert rules are checked with it');
    return { code: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes Prometheus rule groups to `<dir>/<name>` and returns the path. */
export function writeRuleFile(dir: string, name: string, groups: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ groups }));
  return path;
}
