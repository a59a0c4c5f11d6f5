import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { z } from 'zod';
import { singleLine } from '@mz/contracts';
import type { TlsRptPolicyCounts } from '@mz/db';
import { validationError, ZodPipe } from '../common/zod-validation.pipe';

/** The two media types of RFC 8460 §5.3 for reports submitted over https. */
export const TLSRPT_JSON = 'application/tlsrpt+json';
export const TLSRPT_GZIP = 'application/tlsrpt+gzip';

/**
 * A report from a large sender for one day is a few KiB; thousands of failure details stay well
 * under a MiB. The inflated cap stops a small gzip body from expanding into memory without bound.
 */
export const TLSRPT_BODY_LIMIT = 1024 * 1024;
export const TLSRPT_INFLATED_LIMIT = 4 * 1024 * 1024;

/**
 * The result types RFC 8460 §4.3 registers. The registry can grow: another well-formed type is
 * stored as sent and counted as `other`, so a metric label never takes a value from the request.
 */
export const TLSRPT_RESULT_TYPES = [
  'starttls-not-supported', 'certificate-host-mismatch', 'certificate-expired', 'certificate-not-trusted', 'validation-failure',
  'tlsa-invalid', 'dnssec-invalid', 'dane-required', 'sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid',
] as const;

export function resultTypeLabel(resultType: string): string {
  return (TLSRPT_RESULT_TYPES as readonly string[]).includes(resultType) ? resultType : 'other';
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const hostName = z.string().max(255).regex(/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i, 'expected a host name');

/**
 * RFC 8460 §4.4's JSON, the fields we read; others are ignored (the format is extensible). Counts
 * are whole numbers a sender could have seen; a report whose failure details add up to more
 * failures than its summary is inconsistent and refused.
 */
export const TlsRptReportSchema = z.object({
  'organization-name': singleLine(256).pipe(z.string().min(1)),
  'date-range': z.object({
    'start-datetime': z.iso.datetime({ offset: true }),
    'end-datetime': z.iso.datetime({ offset: true }),
  }).refine((r) => Date.parse(r['end-datetime']) >= Date.parse(r['start-datetime']), 'end-datetime is before start-datetime'),
  'contact-info': singleLine(512).optional(),
  'report-id': singleLine(256).pipe(z.string().min(1)),
  policies: z.array(z.object({
    policy: z.object({
      'policy-type': z.enum(['sts', 'tlsa', 'no-policy-found']),
      'policy-string': z.array(z.string().max(1024)).max(100).optional(),
      'policy-domain': hostName,
      'mx-host': z.array(hostName).max(100).optional(),
    }),
    summary: z.object({
      'total-successful-session-count': count,
      'total-failure-session-count': count,
    }),
    'failure-details': z.array(z.object({
      'result-type': z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a result type'),
      'sending-mta-ip': z.string().max(64).optional(),
      'receiving-mx-hostname': hostName.optional(),
      'receiving-mx-helo': z.string().max(255).optional(),
      'receiving-ip': z.string().max(64).optional(),
      'failed-session-count': count,
      'additional-information': z.string().max(2048).optional(),
      'failure-reason-code': z.string().max(256).optional(),
    })).max(10_000).optional(),
  }).refine(
    (p) => (p['failure-details'] ?? []).reduce((n, d) => n + d['failed-session-count'], 0) <= p.summary['total-failure-session-count'],
    { message: 'failure-details count more failed sessions than total-failure-session-count', path: ['failure-details'] },
  )).min(1).max(100),
});
export type TlsRptReportJson = z.output<typeof TlsRptReportSchema>;

/** What a report comes down to: the row we keep. */
export interface TlsRptSummary {
  organizationName: string;
  reportId: string;
  contactInfo: string | null;
  dateStart: Date;
  dateEnd: Date;
  policyDomain: string;
  policyTypes: string[];
  successful: number;
  failed: number;
  policies: TlsRptPolicyCounts[];
}

export class TlsRptInputError extends Error {
  constructor(readonly status: 400 | 413 | 415, message: string) {
    super(message);
  }
}

const gunzipAsync = promisify(gunzip);

/** The report's JSON text from the request body, by media type; gzip inflated up to a cap. */
export async function reportText(contentType: string | undefined, body: Buffer): Promise<string> {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === TLSRPT_JSON) return body.toString('utf8');
  if (type !== TLSRPT_GZIP) throw new TlsRptInputError(415, `expected Content-Type ${TLSRPT_JSON} or ${TLSRPT_GZIP}`);
  try {
    return (await gunzipAsync(body, { maxOutputLength: TLSRPT_INFLATED_LIMIT })).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TlsRptInputError(413, `report inflates beyond ${TLSRPT_INFLATED_LIMIT} bytes`);
    throw new TlsRptInputError(400, 'body is not valid gzip');
  }
}

const normaliseDomain = (d: string) => d.toLowerCase().replace(/\.$/, '');

/**
 * Parses and checks a report, then sums it. A report about any domain other than REPLY_DOMAIN is
 * not ours to count (anyone can POST here: RFC 8460 has no authentication for https) and is a
 * 400, as is anything malformed; the BadRequestException carries the problems.
 */
export function summariseReport(text: string, replyDomain: string): TlsRptSummary {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw validationError('body', [{ path: '', message: 'not valid JSON' }]);
  }
  // The api's shared door for outside input: depth and NUL checks, then the schema.
  const report = new ZodPipe(TlsRptReportSchema).transform(json);
  const ours = normaliseDomain(replyDomain);
  const foreign = report.policies.findIndex((p) => normaliseDomain(p.policy['policy-domain']) !== ours);
  if (foreign >= 0) throw validationError('body', [{ path: `policies.${foreign}.policy.policy-domain`, message: `not this service's domain (${ours})` }]);

  const policies = report.policies.map((p): TlsRptPolicyCounts => {
    const byKey = new Map<string, TlsRptPolicyCounts['failures'][number]>();
    for (const d of p['failure-details'] ?? []) {
      const mx = d['receiving-mx-hostname'] ? normaliseDomain(d['receiving-mx-hostname']) : null;
      const key = `${d['result-type']}\u0000${mx ?? ''}`;
      const entry = byKey.get(key) ?? { resultType: d['result-type'], receivingMxHostname: mx, failed: 0 };
      entry.failed += d['failed-session-count'];
      byKey.set(key, entry);
    }
    return {
      policyType: p.policy['policy-type'],
      mxHost: (p.policy['mx-host'] ?? []).map(normaliseDomain),
      successful: p.summary['total-successful-session-count'],
      failed: p.summary['total-failure-session-count'],
      failures: [...byKey.values()],
    };
  });
  return {
    organizationName: report['organization-name'],
    reportId: report['report-id'],
    contactInfo: report['contact-info'] || null,
    dateStart: new Date(report['date-range']['start-datetime']),
    dateEnd: new Date(report['date-range']['end-datetime']),
    policyDomain: ours,
    policyTypes: [...new Set(policies.map((p) => p.policyType))],
    successful: policies.reduce((n, p) => n + p.successful, 0),
    failed: policies.reduce((n, p) => n + p.failed, 0),
    policies,
  };
}
