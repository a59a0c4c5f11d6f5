/**
 * Alerts and dashboard, checked offline with Prometheus' own promtool: the PromQL parses, each
 * alert fires on the situation it describes and stays quiet otherwise (promtool unit tests over
 * synthetic series) and every alert links to its runbook section. That the metrics and labels
 * they read exist is checked against live services in live-metrics.e2e-spec.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  alertRules,
  concreteQuery,
  dashboardExpressions,
  dashboardPanels,
  markdownAnchors,
  metricFamilies,
  OPERATIONS_DOC_PATH,
  prometheusRuleObject,
  promtool,
  readDashboard,
  referencedMetricNames,
  tempDir,
  writeRuleFile,
} from './support/monitoring-queries';

/** The alerts the issue asks for, by what they watch. */
const REQUIRED_ALERTS: Record<string, { alert: string; reads: string }> = {
  'backlog age': { alert: 'MentorZeroQueueBacklogAge', reads: 'mz_queue_oldest_waiting_age_seconds' },
  'lateness p99': { alert: 'MentorZeroLetterLatenessHigh', reads: 'mz_letter_lateness_seconds' },
  'send failure rate': { alert: 'MentorZeroSendFailureRateHigh', reads: 'mz_smtp_send_duration_seconds' },
  'letters stuck in sending': { alert: 'MentorZeroLettersStuckSending', reads: 'mz_letters_stuck_sending' },
  'failed letters': { alert: 'MentorZeroLettersFailed', reads: 'mz_letters_failed_total' },
  'inbound parse errors': { alert: 'MentorZeroInboundParseErrors', reads: 'mz_inbound_parse_failures_total' },
  'no letters sent for an hour while letters are due': { alert: 'MentorZeroNoLettersSent', reads: 'mz_letters_due_unsent' },
  'letters written offline because the LLM fails': { alert: 'MentorZeroLlmDegraded', reads: 'mz_letters_degraded_total' },
  'TLS to the relay failing': { alert: 'MentorZeroSmtpTlsFailing', reads: 'mz_smtp_tls_failures_total' },
  'a certificate close to expiry': { alert: 'MentorZeroCertificateExpiring', reads: 'mz_tls_certificate_expiry_seconds' },
  'senders reporting TLS failures to the MX': { alert: 'MentorZeroTlsRptFailures', reads: 'mz_tlsrpt_failed_sessions_total' },
};

describe('PrometheusRule', () => {
  const rule = prometheusRuleObject();
  const alerts = alertRules(rule);
  const dir = tempDir('mz-rules-');

  it('passes promtool check rules', () => {
    const file = writeRuleFile(dir, 'alerts.yaml', rule.spec.groups);
    const result = promtool(['check', 'rules', file]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  it.each(Object.entries(REQUIRED_ALERTS))('alerts on %s', (_what, { alert, reads }) => {
    const rules = alerts.filter((a) => a.alert === alert);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      expect(metricFamilies(r.expr)).toContain(reads);
      expect(['info', 'warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
    }
  });

  it('links every alert to its runbook section in docs/operations.md', () => {
    const anchors = markdownAnchors(readFileSync(OPERATIONS_DOC_PATH, 'utf8'));
    for (const a of alerts) {
      expect(a.annotations.runbook_url).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      expect([a.alert, anchors.has(a.alert.toLowerCase())]).toEqual([a.alert, true]);
    }
  });

  it("docs/operations.md's own links point at sections that exist", () => {
    const doc = readFileSync(OPERATIONS_DOC_PATH, 'utf8');
    const anchors = markdownAnchors(doc);
    const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    for (const link of links) expect([link, anchors.has(link)]).toEqual([link, true]);
  });

  /**
   * promtool unit tests. Annotations are dropped from the copy under test (promtool would
   * compare their rendered text); their templates are checked by `check rules` above.
   */
  describe('fires when it should (promtool test rules)', () => {
    const unitRules = rule.spec.groups.map((g: any) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }: any) => r) }));
    writeRuleFile(dir, 'unit-rules.yaml', unitRules);

    function runUnitTests(name: string, tests: unknown[]) {
      const file = join(dir, `${name}.test.yaml`);
      writeFileSync(file, stringify({ rule_files: ['unit-rules.yaml'], evaluation_interval: '1m', tests }));
      const result = promtool(['test', 'rules', file], dir);
      if (result.code !== 0) throw new Error(`promtool test rules ${name} failed:\n${result.output}`);
      expect(result.output).toMatch(/SUCCESS/);
    }

    it('MentorZeroNoLettersSent: letters due and no send in an hour, even with no mailer at all', () => {
      runUnitTests('no-letters-sent', [
        {
          // no mailer running: mz_letters_sent_total has no series at all
          interval: '1m',
          input_series: [{ series: 'mz_letters_due_unsent{job="mentor-zero-scheduler",pod="s1"}', values: '3x90' }],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [] },
            { eval_time: '30m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
          ],
        },
        {
          // a mailer that has stopped sending: its counter is flat
          interval: '1m',
          input_series: [
            { series: 'mz_letters_due_unsent{pod="s1"}', values: '0x60 5x80' },
            { series: 'mz_letters_sent_total{pod="m1"}', values: '0+4x60 240x80' },
          ],
          alert_rule_test: [
            // sends stopped at minute 60: quiet until a whole hour without a send has passed (+ for: 10m)
            { eval_time: '100m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [] },
            { eval_time: '125m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [] },
            { eval_time: '135m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
          ],
        },
        {
          // sending, or nothing due: quiet
          interval: '1m',
          input_series: [
            { series: 'mz_letters_due_unsent{pod="s1"}', values: '2x90' },
            { series: 'mz_letters_sent_total{pod="m1"}', values: '0+1x90' },
            { series: 'mz_letters_due_unsent{pod="s2",namespace="idle"}', values: '0x90' },
          ],
          alert_rule_test: [{ eval_time: '80m', alertname: 'MentorZeroNoLettersSent', exp_alerts: [] }],
        },
      ]);
    });

    it('MentorZeroQueueBacklogAge: warning past 5 minutes, critical past 30, per queue', () => {
      runUnitTests('backlog', [
        {
          interval: '1m',
          input_series: [
            { series: 'mz_queue_oldest_waiting_age_seconds{queue="letters.send",pod="s1"}', values: '400x20' },
            { series: 'mz_queue_oldest_waiting_age_seconds{queue="letters.send",pod="s2"}', values: '390x20' },
            { series: 'mz_queue_oldest_waiting_age_seconds{queue="letters.compose",pod="s1"}', values: '2000x20' },
            { series: 'mz_queue_oldest_waiting_age_seconds{queue="replies.process",pod="s1"}', values: '3x20' },
          ],
          alert_rule_test: [
            {
              eval_time: '10m',
              alertname: 'MentorZeroQueueBacklogAge',
              exp_alerts: [
                { exp_labels: { severity: 'warning', queue: 'letters.send' } },
                { exp_labels: { severity: 'warning', queue: 'letters.compose' } },
                { exp_labels: { severity: 'critical', queue: 'letters.compose' } },
              ],
            },
          ],
        },
      ]);
    });

    it('MentorZeroLetterLatenessHigh: p99 above 5 minutes, not when letters are on time', () => {
      const late = [
        { series: 'mz_letter_lateness_seconds_bucket{le="60"}', values: '0+10x60' },
        { series: 'mz_letter_lateness_seconds_bucket{le="300"}', values: '0+10x60' },
        { series: 'mz_letter_lateness_seconds_bucket{le="900"}', values: '0+20x60' },
        { series: 'mz_letter_lateness_seconds_bucket{le="+Inf"}', values: '0+20x60' },
      ];
      const onTime = late.map((s) => ({ ...s, values: '0+20x60' }));
      runUnitTests('lateness', [
        { interval: '1m', input_series: late, alert_rule_test: [{ eval_time: '50m', alertname: 'MentorZeroLetterLatenessHigh', exp_alerts: [{ exp_labels: { severity: 'warning' } }] }] },
        { interval: '1m', input_series: onTime, alert_rule_test: [{ eval_time: '50m', alertname: 'MentorZeroLetterLatenessHigh', exp_alerts: [] }] },
      ]);
    });

    it('MentorZeroSendFailureRateHigh: over 10% of SMTP attempts not accepted', () => {
      const attempts = (accepted: string, failed: string) => [
        { series: 'mz_smtp_send_duration_seconds_count{outcome="accepted",pod="m1"}', values: accepted },
        { series: 'mz_smtp_send_duration_seconds_count{outcome="network",pod="m1"}', values: failed },
      ];
      runUnitTests('send-failure-rate', [
        { interval: '1m', input_series: attempts('0+8x60', '0+2x60'), alert_rule_test: [{ eval_time: '45m', alertname: 'MentorZeroSendFailureRateHigh', exp_alerts: [{ exp_labels: { severity: 'warning' } }] }] },
        { interval: '1m', input_series: attempts('0+99x60', '0+1x60'), alert_rule_test: [{ eval_time: '45m', alertname: 'MentorZeroSendFailureRateHigh', exp_alerts: [] }] },
        // too few attempts to mean anything
        { interval: '1m', input_series: attempts('0x60', '0x30 1x30'), alert_rule_test: [{ eval_time: '45m', alertname: 'MentorZeroSendFailureRateHigh', exp_alerts: [] }] },
      ]);
    });

    it('MentorZeroLettersStuckSending: rows past their lease for 15 minutes', () => {
      runUnitTests('stuck', [
        {
          interval: '1m',
          input_series: [
            { series: 'mz_letters_stuck_sending{pod="s1"}', values: '0x5 2x30' },
            { series: 'mz_letters_stuck_sending{pod="s2"}', values: '0x5 2x30' },
          ],
          alert_rule_test: [
            { eval_time: '15m', alertname: 'MentorZeroLettersStuckSending', exp_alerts: [] },
            { eval_time: '25m', alertname: 'MentorZeroLettersStuckSending', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          ],
        },
      ]);
    });

    it('MentorZeroLettersFailed: new failures, by stage and class, then it clears', () => {
      runUnitTests('failed', [
        {
          interval: '1m',
          input_series: [{ series: 'mz_letters_failed_total{stage="send",error_type="permanent",pod="m1"}', values: '0x10 1x60' }],
          alert_rule_test: [
            { eval_time: '15m', alertname: 'MentorZeroLettersFailed', exp_alerts: [{ exp_labels: { severity: 'warning', stage: 'send', error_type: 'permanent' } }] },
            { eval_time: '60m', alertname: 'MentorZeroLettersFailed', exp_alerts: [] },
          ],
        },
      ]);
    });

    it('MentorZeroLlmDegraded: an open circuit or letters written offline for 5 minutes, quiet once the LLM is back', () => {
      runUnitTests('llm-degraded', [
        {
          // the circuit opens at minute 10 and closes at minute 30
          interval: '1m',
          input_series: [{ series: 'mz_llm_circuit_open{pod="c1"}', values: '0x10 1x20 0x60' }],
          alert_rule_test: [
            { eval_time: '12m', alertname: 'MentorZeroLlmDegraded', exp_alerts: [] },
            { eval_time: '20m', alertname: 'MentorZeroLlmDegraded', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
            { eval_time: '60m', alertname: 'MentorZeroLlmDegraded', exp_alerts: [] },
          ],
        },
        {
          // circuit closed, but letters keep falling back (e.g. an expired key: llm_rejected)
          interval: '1m',
          input_series: [
            { series: 'mz_llm_circuit_open{pod="c1"}', values: '0x60' },
            { series: 'mz_letters_degraded_total{reason="llm_rejected",pod="c1"}', values: '0x10 1+1x50' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'MentorZeroLlmDegraded', exp_alerts: [] },
            { eval_time: '30m', alertname: 'MentorZeroLlmDegraded', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          ],
        },
      ]);
    });

    it('MentorZeroSmtpTlsFailing and MentorZeroCertificateExpiring', () => {
      runUnitTests('tls', [
        {
          interval: '1m',
          input_series: [
            { series: 'mz_smtp_tls_failures_total{pod="m1"}', values: '0x10 1+1x30' },
            { series: 'mz_tls_certificate_expiry_seconds{use="inbound_smtp",pod="i1"}', values: '2592000x10 864000x30' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'MentorZeroSmtpTlsFailing', exp_alerts: [] },
            { eval_time: '20m', alertname: 'MentorZeroSmtpTlsFailing', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
            { eval_time: '9m', alertname: 'MentorZeroCertificateExpiring', exp_alerts: [] },
            { eval_time: '20m', alertname: 'MentorZeroCertificateExpiring', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          ],
        },
      ]);
    });

    it('MentorZeroTlsRptFailures: a real share of reported sessions failing, not one stray failure', () => {
      runUnitTests('tlsrpt', [
        {
          // one report a day arrives at minute 30: 1000 sessions, 50 failed (5%)
          interval: '10m',
          input_series: [
            { series: 'mz_tlsrpt_successful_sessions_total{pod="a1"}', values: '0x2 950x200' },
            { series: 'mz_tlsrpt_failed_sessions_total{result_type="certificate-expired",pod="a1"}', values: '0x2 50x200' },
          ],
          alert_rule_test: [
            { eval_time: '20m', alertname: 'MentorZeroTlsRptFailures', exp_alerts: [] },
            { eval_time: '2h', alertname: 'MentorZeroTlsRptFailures', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
            // a day after the report it has aged out of the window
            { eval_time: '26h', alertname: 'MentorZeroTlsRptFailures', exp_alerts: [] },
          ],
        },
        {
          // 2 failed of 10000: below the threshold
          interval: '10m',
          input_series: [
            { series: 'mz_tlsrpt_successful_sessions_total{pod="a1"}', values: '0x2 9998x200' },
            { series: 'mz_tlsrpt_failed_sessions_total{result_type="starttls-not-supported",pod="a1"}', values: '0x2 2x200' },
          ],
          alert_rule_test: [{ eval_time: '2h', alertname: 'MentorZeroTlsRptFailures', exp_alerts: [] }],
        },
      ]);
    });

    it('MentorZeroProviderWebhookRejections: per provider, a stream of unverified requests, not one', () => {
      runUnitTests('provider-webhooks', [
        {
          interval: '1m',
          input_series: [
            { series: 'mz_provider_webhook_requests_total{provider="mailgun",endpoint="events",outcome="unverified_mismatch",pod="i1"}', values: '0x10 1+2x30' },
            { series: 'mz_provider_webhook_requests_total{provider="ses",endpoint="events",outcome="unverified_replayed",pod="i1"}', values: '0x10 1x30' },
            { series: 'mz_provider_webhook_requests_total{provider="ses",endpoint="events",outcome="accepted",pod="i1"}', values: '0+50x40' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'MentorZeroProviderWebhookRejections', exp_alerts: [] },
            { eval_time: '25m', alertname: 'MentorZeroProviderWebhookRejections', exp_alerts: [{ exp_labels: { severity: 'warning', provider: 'mailgun', outcome: 'unverified_mismatch' } }] },
          ],
        },
      ]);
    });

    it('MentorZeroInboundParseErrors: a real share of messages, not one odd message', () => {
      const inbound = (received: string, failures: string) => [
        { series: 'mz_inbound_received_total{source="smtp",pod="i1"}', values: received },
        { series: 'mz_inbound_parse_failures_total{pod="i1"}', values: failures },
      ];
      runUnitTests('parse-errors', [
        { interval: '1m', input_series: inbound('0+10x60', '0+1x60'), alert_rule_test: [{ eval_time: '40m', alertname: 'MentorZeroInboundParseErrors', exp_alerts: [{ exp_labels: { severity: 'warning' } }] }] },
        { interval: '1m', input_series: inbound('0+100x60', '0+1x60'), alert_rule_test: [{ eval_time: '40m', alertname: 'MentorZeroInboundParseErrors', exp_alerts: [] }] },
        { interval: '1m', input_series: inbound('0x60', '0x30 1x30'), alert_rule_test: [{ eval_time: '40m', alertname: 'MentorZeroInboundParseErrors', exp_alerts: [] }] },
      ]);
    });

    it('MentorZeroSchedulerAbsent and MentorZeroSchedulerStalled: no scheduler, or one that no longer ticks', () => {
      runUnitTests('scheduler', [
        {
          interval: '1m',
          input_series: [{ series: 'up{job="mentor-zero-api",pod="a1"}', values: '1x30' }],
          alert_rule_test: [{ eval_time: '20m', alertname: 'MentorZeroSchedulerAbsent', exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
        },
        {
          // two replicas up; ticks stop at minute 10 (the gauge keeps its last value)
          interval: '1m',
          input_series: [
            { series: 'up{job="mentor-zero-scheduler",pod="s1"}', values: '1x40' },
            { series: 'mz_scheduler_last_tick_timestamp_seconds{pod="s1"}', values: '0+60x10 600x30' },
            { series: 'mz_scheduler_last_tick_timestamp_seconds{pod="s2"}', values: '0+60x10 590x30' },
          ],
          alert_rule_test: [
            { eval_time: '8m', alertname: 'MentorZeroSchedulerStalled', exp_alerts: [] },
            { eval_time: '8m', alertname: 'MentorZeroSchedulerAbsent', exp_alerts: [] },
            { eval_time: '20m', alertname: 'MentorZeroSchedulerStalled', exp_alerts: [{ exp_labels: { severity: 'critical' } }] },
          ],
        },
      ]);
    });

    it('MentorZeroTargetDown and MentorZeroAmbiguousResends', () => {
      runUnitTests('misc', [
        {
          interval: '1m',
          input_series: [
            { series: 'up{job="mentor-zero-mailer",pod="m1"}', values: '0x20' },
            { series: 'up{job="mentor-zero-mailer",pod="m2"}', values: '1x20' },
            { series: 'mz_ambiguous_resends_total{pod="s1"}', values: '0x5 1x30' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'MentorZeroTargetDown', exp_alerts: [{ exp_labels: { severity: 'warning', job: 'mentor-zero-mailer', pod: 'm1' } }] },
            { eval_time: '10m', alertname: 'MentorZeroAmbiguousResends', exp_alerts: [{ exp_labels: { severity: 'info' } }] },
          ],
        },
      ]);
    });
  });
});

describe('Grafana dashboard', () => {
  const dashboard = readDashboard();
  const panels = dashboardPanels(dashboard);
  const graphs = panels.filter((p) => p.type !== 'row');

  it('is a valid dashboard with a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('mentor-zero');
    expect(dashboard.title).toBeTruthy();
    expect(typeof dashboard.schemaVersion).toBe('number');
    const variables = dashboard.templating.list.map((v: any) => v.name);
    expect(variables).toEqual(expect.arrayContaining(['datasource', 'namespace']));
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of graphs) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.refId).toMatch(/^[A-Z]$/);
    }
  });

  it('lays panels out without overlaps inside the 24-column grid', () => {
    const boxes = panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const b of boxes) {
      expect(b.x + b.w).toBeLessThanOrEqual(24);
      expect(b.h).toBeGreaterThan(0);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect([a.title, b.title, overlap]).toEqual([a.title, b.title, false]);
      }
    }
  });

  it('covers throughput by stage, lateness, the LLM, SMTP outcomes, reply intents and queue depths', () => {
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(expect.arrayContaining(['Throughput by stage', 'Lateness', 'LLM', 'SMTP', 'Replies', 'Queues']));
    const used = new Set(dashboardExpressions(dashboard).flatMap(metricFamilies));
    for (const family of [
      'mz_letters_scheduled_total', 'mz_letters_composed_total', 'mz_letters_sent_total', 'mz_letters_failed_total',
      'mz_letter_lateness_seconds', 'mz_llm_request_duration_seconds', 'mz_llm_tokens_total', 'mz_llm_cost_usd_total',
      'mz_smtp_send_duration_seconds', 'mz_reply_intents_total', 'mz_queue_depth', 'mz_queue_oldest_waiting_age_seconds',
    ]) expect(used).toContain(family);
  });

  it('has queries promtool parses, each scoped by the namespace variable', async () => {
    const dir = tempDir('mz-dashboard-');
    const rules = graphs.flatMap((p) => p.targets.map((t: any) => ({ record: `dashboard:panel_${p.id}_${t.refId}`, expr: concreteQuery(t.expr) })));
    const file = writeRuleFile(dir, 'dashboard.yaml', [{ name: 'dashboard', rules }]);
    const result = promtool(['check', 'rules', file]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
    // every query is scoped by the namespace variable
    for (const expr of dashboardExpressions(dashboard)) for (const family of metricFamilies(expr)) expect(expr).toMatch(new RegExp(`${family}[a-z_]*\\{[^}]*namespace=~"\\$namespace"`));
  });
});

describe('referencedMetricNames', () => {
  it('lists every metric family the dashboard and alerts use, for the live /metrics comparison', () => {
    const names = referencedMetricNames();
    expect(names).toEqual(expect.arrayContaining(['mz_letters_sent_total', 'mz_letters_due_unsent', 'mz_smtp_send_duration_seconds', 'process_resident_memory_bytes']));
    expect(names.filter((n) => /_(bucket|count|sum)$/.test(n))).toEqual([]);
  });
});
