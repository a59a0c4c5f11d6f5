/**
 * The dashboard and the alerts checked against reality: all five built services are started, each
 * /metrics is scraped, and every metric family a Grafana query or a PrometheusRule expression
 * reads must be exported by some live service, with every label the expression matches or groups
 * by present on that family's live series (or added by Prometheus as a target label). A family
 * with labels but no series yet cannot prove its labels; a little traffic is driven first so the
 * HTTP histogram has series.
 */
import { alertRules, dashboardExpressions } from './support/monitoring-queries';
import { familiesIn, labelsIn, type LiveFamily, parseExposition, TARGET_LABELS } from './support/live-metrics';
import { type AppName, type ServiceProcess, startServiceProcess } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';

const APPS: AppName[] = ['api', 'scheduler', 'composer', 'mailer', 'inbound'];

describe('dashboards and alerts against live /metrics', () => {
  let env: TestEnv;
  const running: ServiceProcess[] = [];
  const live = new Map<string, LiveFamily>();

  beforeAll(async () => {
    env = await createTestEnv();
    running.push(...(await Promise.all(APPS.map((app) => startServiceProcess(app, env.vars)))));
    for (const svc of running) {
      await fetch(`${svc.url}/health/ready`);
      await fetch(`${svc.url}/no-such-route`);
    }
    // Two scrapes: collectors that fill gauges on scrape have run at least once.
    for (const svc of running) await (await fetch(`${svc.url}/metrics`)).text();
    for (const svc of running) parseExposition(await (await fetch(`${svc.url}/metrics`)).text(), live);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop(20_000)));
    await env?.dispose();
  }, 60_000);

  const sources = () => [
    ...dashboardExpressions().map((expr) => ({ where: 'dashboard', expr })),
    ...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: String(r.expr) })),
  ];

  it('every metric a dashboard query or an alert reads is exported by a live service', () => {
    const missing = sources().flatMap(({ where, expr }) => familiesIn(expr, live).filter((f) => !live.has(f)).map((f) => `${where}: ${f}`));
    expect(missing).toEqual([]);
  });

  /** Problems of one expression: labels not on the live series of the families it reads. */
  function labelProblems(where: string, expr: string): { checked: boolean; problems: string[] } {
    const families = familiesIn(expr, live).map((f) => live.get(f)).filter((f): f is LiveFamily => !!f);
    const withSeries = families.filter((f) => f.hasSeries);
    // Labels are known only from series; a family not yet observed proves nothing either way.
    if (!withSeries.length || withSeries.length !== families.length) return { checked: false, problems: [] };
    const known = new Set([...TARGET_LABELS, ...withSeries.flatMap((f) => [...f.labels])]);
    return { checked: true, problems: labelsIn(expr).filter((l) => !known.has(l)).map((l) => `${where}: ${l} in ${expr}`) };
  }

  it('catches a forged query: an unknown metric, a label no series has', () => {
    expect(familiesIn('rate(mz_no_such_metric_total[5m])', live).filter((f) => !live.has(f))).toEqual(['mz_no_such_metric_total']);
    const forged = labelProblems('forged', 'sum by (route, tenant) (rate(mz_http_request_duration_seconds_count{namespace=~".*", stauts="500"}[5m]))');
    expect(forged).toEqual({ checked: true, problems: [expect.stringContaining('tenant'), expect.stringContaining('stauts')] });
  });

  it('every label they match or group by is on a live series of the metrics they read', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { where, expr } of sources()) {
      const r = labelProblems(where, expr);
      if (r.checked) checked++;
      problems.push(...r.problems);
    }
    expect(problems).toEqual([]);
    // The HTTP panels, the queue and process metrics at least are live from the start.
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('the HTTP histogram is live on every service, by route pattern', () => {
    const http = live.get('mz_http_request_duration_seconds');
    expect(http?.type).toBe('histogram');
    expect([...(http?.labels ?? [])].sort()).toEqual(['method', 'route', 'service', 'status']);
  });
});
