/**
 * The TLS-RPT endpoint (RFC 8460) over real HTTP against a real database: reports as JSON and
 * gzip are stored once per organisation and report id, their failures counted by result type;
 * malformed, foreign, oversized and inflating bodies are refused with nothing stored; reporters
 * are rate limited per IP.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MetricsService } from '@mz/platform';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi } from '../testing/api-harness';
import { TLSRPT_BODY_LIMIT, TLSRPT_INFLATED_LIMIT } from './tlsrpt-report';

jest.setTimeout(60_000);

const DOMAIN = 'reply.mentor.test';

/** RFC 8460 §4.4's example, about our domain. */
function report(over: { id?: string; org?: string; domain?: string; failures?: number; details?: unknown[] } = {}) {
  return {
    'organization-name': over.org ?? 'Company-X',
    'date-range': { 'start-datetime': '2026-12-01T00:00:00Z', 'end-datetime': '2026-12-01T23:59:59Z' },
    'contact-info': 'sts-reporting@company-x.example',
    'report-id': over.id ?? `5065427c-${randomBytes(4).toString('hex')}`,
    policies: [{
      policy: {
        'policy-type': 'sts',
        'policy-string': ['version: STSv1', 'mode: testing', `mx: ${over.domain ?? DOMAIN}`, 'max_age: 86400'],
        'policy-domain': over.domain ?? DOMAIN,
        'mx-host': [over.domain ?? DOMAIN],
      },
      summary: { 'total-successful-session-count': 5326, 'total-failure-session-count': over.failures ?? 303 },
      'failure-details': over.details ?? [
        { 'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8:abcd:0012::1', 'receiving-mx-hostname': 'Reply.Mentor.Test', 'failed-session-count': 100 },
        { 'result-type': 'starttls-not-supported', 'sending-mta-ip': '2001:db8:abcd:0013::1', 'receiving-mx-hostname': DOMAIN, 'receiving-ip': '203.0.113.56', 'failed-session-count': 200, 'additional-information': 'https://reports.company-x.example/x' },
        { 'result-type': 'validation-failure', 'sending-mta-ip': '198.51.100.62', 'receiving-ip': '203.0.113.58', 'receiving-mx-hostname': DOMAIN, 'failed-session-count': 3, 'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED' },
      ],
    }],
  };
}

describe('POST /api/tlsrpt', () => {
  let h: ApiHarness;
  let ipSeq = 0;
  /** Each test reports from its own address (TRUST_PROXY=loopback), so the per-IP limit is its own. */
  let ip = '';
  beforeEach(() => {
    ip = `198.51.100.${++ipSeq}`;
  });

  beforeAll(async () => {
    h = await startApi(await createTestEnv(), { TRUST_PROXY: 'loopback' });
  });
  afterAll(() => h?.close());

  const post = (body: string | Buffer, type: string, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/api/tlsrpt`, { method: 'POST', headers: { 'content-type': type, 'x-forwarded-for': ip, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const postJson = (value: unknown) => post(JSON.stringify(value), 'application/tlsrpt+json');
  const rows = async (): Promise<number> => Number((await h.ds.query(`SELECT count(*)::int AS n FROM tlsrpt_report`))[0].n);
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = h.svc.app.get(MetricsService).registry.getSingleMetric(name);
    const values = m ? (await m.get()).values : [];
    return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  };

  it('stores a JSON report once: a re-delivery answers 200 and counts nothing again', async () => {
    const r = report();
    const before = { expired: await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'certificate-expired' }), ok: await metric('mz_tlsrpt_successful_sessions_total') };
    const first = await postJson(r);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ status: 'stored' });
    const [row] = await h.ds.query(`SELECT * FROM tlsrpt_report WHERE report_id = $1`, [r['report-id']]);
    expect(row).toMatchObject({
      organization_name: 'Company-X', contact_info: 'sts-reporting@company-x.example', policy_domain: DOMAIN, policy_types: ['sts'],
      successful_sessions: '5326', failed_sessions: '303',
    });
    expect(row.date_start.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(row.date_end.toISOString()).toBe('2026-12-01T23:59:59.000Z');
    expect(row.policies).toEqual([{
      policyType: 'sts', mxHost: [DOMAIN], successful: 5326, failed: 303,
      failures: [
        { resultType: 'certificate-expired', receivingMxHostname: DOMAIN, failed: 100 },
        { resultType: 'starttls-not-supported', receivingMxHostname: DOMAIN, failed: 200 },
        { resultType: 'validation-failure', receivingMxHostname: DOMAIN, failed: 3 },
      ],
    }]);
    expect(await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'certificate-expired' })).toBe(before.expired + 100);
    expect(await metric('mz_tlsrpt_successful_sessions_total')).toBe(before.ok + 5326);

    const again = await postJson(r);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    expect(Number((await h.ds.query(`SELECT count(*)::int AS n FROM tlsrpt_report WHERE report_id = $1`, [r['report-id']]))[0].n)).toBe(1);
    expect(await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'certificate-expired' })).toBe(before.expired + 100);
    expect(await metric('mz_tlsrpt_successful_sessions_total')).toBe(before.ok + 5326);
    expect(await metric('mz_tlsrpt_reports_total', { outcome: 'duplicate' })).toBeGreaterThanOrEqual(1);
  });

  it('stores a gzip report (application/tlsrpt+gzip); undetailed failures and unregistered types get bounded labels', async () => {
    const r = report({ failures: 10, details: [{ 'result-type': 'some-future-type', 'failed-session-count': 4 }] });
    const before = { other: await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'other' }), unspecified: await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'unspecified' }) };
    const res = await post(gzipSync(JSON.stringify(r)), 'application/tlsrpt+gzip');
    expect(res.status).toBe(201);
    const [row] = await h.ds.query(`SELECT failed_sessions, policies FROM tlsrpt_report WHERE report_id = $1`, [r['report-id']]);
    expect(row.failed_sessions).toBe('10');
    expect(row.policies[0].failures).toEqual([{ resultType: 'some-future-type', receivingMxHostname: null, failed: 4 }]);
    expect(await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'other' })).toBe(before.other + 4);
    expect(await metric('mz_tlsrpt_failed_sessions_total', { result_type: 'unspecified' })).toBe(before.unspecified + 6);
    // The same organisation may reuse nothing; another organisation's equal report id is its own report.
    expect((await postJson({ ...r, 'organization-name': 'Company-Y' })).status).toBe(201);
  });

  it('refuses malformed, inconsistent and foreign reports with 400, storing nothing', async () => {
    const n = await rows();
    const base = report();
    const bad: [string, string | unknown][] = [
      ['not JSON', '{"organization-name": '],
      ['a JSON array', '[]'],
      ['missing report-id', { ...base, 'report-id': undefined }],
      ['empty organisation', { ...base, 'organization-name': '  ' }],
      ['negative count', report({ failures: -1, details: [] })],
      ['fractional count', report({ failures: 1.5, details: [] })],
      ['details exceed the summary', report({ failures: 1, details: [{ 'result-type': 'certificate-expired', 'failed-session-count': 2 }] })],
      ['another domain (forged or misdirected)', report({ domain: 'victim.example' })],
      ['end before start', { ...base, 'date-range': { 'start-datetime': '2026-12-02T00:00:00Z', 'end-datetime': '2026-12-01T00:00:00Z' } }],
      ['not a date', { ...base, 'date-range': { 'start-datetime': 'yesterday', 'end-datetime': '2026-12-01T00:00:00Z' } }],
      ['unknown policy type', { ...base, policies: [{ ...base.policies[0], policy: { ...base.policies[0].policy, 'policy-type': 'dane' } }] }],
      ['no policies', { ...base, policies: [] }],
      ['a NUL in a string', { ...base, 'organization-name': 'Company\u0000X' }],
      ['a control character in the organisation', { ...base, 'organization-name': 'Company\nX' }],
      ['a bad result type', report({ details: [{ 'result-type': 'DROP TABLE', 'failed-session-count': 1 }] })],
      ['deeply nested', JSON.stringify({ ...base, x: JSON.parse('['.repeat(200) + ']'.repeat(200)) })],
    ];
    for (const [what, body] of bad) {
      const res = await post(typeof body === 'string' ? body : JSON.stringify(body), 'application/tlsrpt+json');
      expect([what, res.status]).toEqual([what, 400]);
      expect((await res.json()).message).toMatch(/^Invalid body/);
    }
    const notGzip = await post(Buffer.from('plainly not gzip'), 'application/tlsrpt+gzip');
    expect(notGzip.status).toBe(400);
    expect((await post('', 'application/tlsrpt+json')).status).toBe(400);
    expect(await rows()).toBe(n);
  });

  it('refuses other media types (415), oversized bodies and gzip bombs (413), storing nothing', async () => {
    const n = await rows();
    const body = JSON.stringify(report());
    for (const type of ['application/json', 'text/plain', 'application/octet-stream']) expect([type, (await post(body, type)).status]).toEqual([type, 415]);
    expect((await post(gzipSync(body), 'application/tlsrpt+json', { 'content-encoding': 'gzip' })).status).toBe(415);
    expect((await post(Buffer.alloc(TLSRPT_BODY_LIMIT + 1, 0x20), 'application/tlsrpt+json')).status).toBe(413);
    // A few KiB that inflate past the cap: refused once the cap is reached, not after inflating it all.
    const bomb = gzipSync(Buffer.alloc(TLSRPT_INFLATED_LIMIT * 8, 0x20), { level: 9 });
    expect(bomb.length).toBeLessThan(TLSRPT_BODY_LIMIT);
    const res = await post(bomb, 'application/tlsrpt+gzip');
    expect(res.status).toBe(413);
    expect((await res.json()).message).toMatch(/inflates beyond/);
    expect(await rows()).toBe(n);
  });

  it('limits reports per IP: 429 with Retry-After, body unread, nothing stored', async () => {
    for (let i = 0; i < 60; i++) expect((await post('{}', 'application/tlsrpt+json')).status).toBe(400);
    const n = await rows();
    const res = await postJson(report());
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rows()).toBe(n);
    // Another reporter is unaffected.
    ip = '198.51.100.250';
    expect((await postJson(report())).status).toBe(201);
  });
});
