import { gzipSync } from 'node:zlib';
import { BadRequestException } from '@nestjs/common';
import { reportText, resultTypeLabel, summariseReport, TLSRPT_INFLATED_LIMIT, TlsRptInputError } from './tlsrpt-report';

/** RFC 8460 §4.4's example report, as a sender would post it about company-y.example. */
const RFC_EXAMPLE = {
  'organization-name': 'Company-X',
  'date-range': { 'start-datetime': '2016-04-01T00:00:00Z', 'end-datetime': '2016-04-01T23:59:59Z' },
  'contact-info': 'sts-reporting@company-x.example',
  'report-id': '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
  policies: [{
    policy: {
      'policy-type': 'sts',
      'policy-string': ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
      'policy-domain': 'company-y.example',
      'mx-host': ['*.mail.company-y.example'],
    },
    summary: { 'total-successful-session-count': 5326, 'total-failure-session-count': 303 },
    'failure-details': [
      { 'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8:abcd:0012::1', 'receiving-mx-hostname': 'mx1.mail.company-y.example', 'failed-session-count': 100 },
      { 'result-type': 'starttls-not-supported', 'sending-mta-ip': '2001:db8:abcd:0013::1', 'receiving-mx-hostname': 'mx2.mail.company-y.example', 'receiving-ip': '203.0.113.56', 'failed-session-count': 200, 'additional-information': 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported' },
      { 'result-type': 'validation-failure', 'sending-mta-ip': '198.51.100.62', 'receiving-ip': '203.0.113.58', 'receiving-mx-hostname': 'mx-backup.mail.company-y.example', 'failed-session-count': 3, 'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED' },
    ],
  }],
};

const text = (v: unknown) => JSON.stringify(v);

describe('summariseReport', () => {
  it("reads RFC 8460's example: totals, failures by result type and receiving MX", () => {
    const s = summariseReport(text(RFC_EXAMPLE), 'company-y.example');
    expect(s).toMatchObject({
      organizationName: 'Company-X', reportId: '5065427c-23d3-47ca-b6e0-946ea0e8c4be', contactInfo: 'sts-reporting@company-x.example',
      policyDomain: 'company-y.example', policyTypes: ['sts'], successful: 5326, failed: 303,
    });
    expect(s.dateStart.toISOString()).toBe('2016-04-01T00:00:00.000Z');
    expect(s.policies[0].failures).toEqual([
      { resultType: 'certificate-expired', receivingMxHostname: 'mx1.mail.company-y.example', failed: 100 },
      { resultType: 'starttls-not-supported', receivingMxHostname: 'mx2.mail.company-y.example', failed: 200 },
      { resultType: 'validation-failure', receivingMxHostname: 'mx-backup.mail.company-y.example', failed: 3 },
    ]);
  });

  it('sums details of one result type and MX (the sending IPs are not kept); names compare case- and dot-insensitively', () => {
    const details = [
      { 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1', 'receiving-mx-hostname': 'MX1.Mail.Company-Y.Example.', 'failed-session-count': 4 },
      { 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.2', 'receiving-mx-hostname': 'mx1.mail.company-y.example', 'failed-session-count': 6 },
    ];
    const report = { ...RFC_EXAMPLE, policies: [{ ...RFC_EXAMPLE.policies[0], policy: { ...RFC_EXAMPLE.policies[0].policy, 'policy-domain': 'Company-Y.Example.' }, 'failure-details': details }] };
    const s = summariseReport(text(report), 'company-y.example');
    expect(s.policies[0].failures).toEqual([{ resultType: 'certificate-expired', receivingMxHostname: 'mx1.mail.company-y.example', failed: 10 }]);
  });

  it('refuses a report about another domain, naming the field', () => {
    let err: unknown;
    try {
      summariseReport(text(RFC_EXAMPLE), 'reply.mentor.test');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestException);
    expect((err as BadRequestException).getResponse()).toMatchObject({ issues: [{ path: 'policies.0.policy.policy-domain' }] });
  });
});

describe('resultTypeLabel', () => {
  it('keeps the registered result types and folds anything else into other', () => {
    expect(resultTypeLabel('certificate-host-mismatch')).toBe('certificate-host-mismatch');
    expect(resultTypeLabel('sts-webpki-invalid')).toBe('sts-webpki-invalid');
    expect(resultTypeLabel('made-up-by-a-sender')).toBe('other');
  });
});

describe('reportText', () => {
  const status = (p: Promise<unknown>) => p.then(() => 0, (e: unknown) => (e instanceof TlsRptInputError ? e.status : -1));

  it('takes JSON as is and inflates gzip, media type parameters ignored', async () => {
    expect(await reportText('application/tlsrpt+json; charset=utf-8', Buffer.from('{"a":1}'))).toBe('{"a":1}');
    expect(await reportText('Application/TLSRPT+gzip', gzipSync('{"a":1}'))).toBe('{"a":1}');
  });

  it('refuses other media types (415), broken gzip (400), and stops inflating at the cap (413)', async () => {
    expect(await status(reportText(undefined, Buffer.from('{}')))).toBe(415);
    expect(await status(reportText('application/json', Buffer.from('{}')))).toBe(415);
    expect(await status(reportText('application/tlsrpt+gzip', Buffer.from('{}')))).toBe(400);
    expect(await status(reportText('application/tlsrpt+gzip', gzipSync(Buffer.alloc(TLSRPT_INFLATED_LIMIT + 1))))).toBe(413);
    expect((await reportText('application/tlsrpt+gzip', gzipSync(Buffer.alloc(TLSRPT_INFLATED_LIMIT, 0x20)))).length).toBe(TLSRPT_INFLATED_LIMIT);
  });
});
