import { parseConfig } from '@mz/contracts';
import { loadDkimKeys, mtaStsPolicyId } from '@mz/domain';
import { type OpsCommand, parseOptions, UsageError } from '../command';
import { buildDnsRecords, formatZone } from './dns-records';

const POLICIES = ['none', 'quarantine', 'reject'] as const;

function addressDomain(mailFrom: string): string {
  const address = /<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom;
  const at = address.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`MAIL_FROM "${mailFrom}" has no domain`);
  return address.slice(at + 1).trim().toLowerCase();
}

/** Where senders post TLS reports: the api's endpoint (api/tlsrpt), on https only. */
function tlsRptRua(appBaseUrl: string): string | null {
  const base = new URL(appBaseUrl);
  return base.protocol === 'https:' ? `${base.origin}/api/tlsrpt` : null;
}

/** `npm run mz -- dns-records`: what to publish for the configured domains. */
export const dnsRecordsCommand: OpsCommand = {
  name: 'dns-records',
  summary: 'Print the DNS records to publish: MX, SPF, MTA-STS and TLS reporting for REPLY_DOMAIN, DKIM (current and next selector), DMARC for the From domain',
  usage: [
    '--mx-host <host>        host receiving mail for REPLY_DOMAIN (default: REPLY_DOMAIN itself, which then needs an A/AAAA record)',
    '--spf "<mechanisms>"    SPF mechanisms for the outgoing relay (default: a:<SMTP_URL host>; an email provider documents its own include:)',
    '--dmarc-policy <p>      none | quarantine | reject (default: quarantine)',
    '--dmarc-rua <mailto:…>  where receivers send aggregate DMARC reports (default: none)',
    '--json                  machine-readable output',
  ],
  async run(args, io) {
    const o = parseOptions(args, { 'mx-host': 'string', spf: 'string', 'dmarc-policy': 'string', 'dmarc-rua': 'string', json: 'boolean' });
    const config = parseConfig(io.env);
    const policy = (o['dmarc-policy'] ?? 'quarantine') as string;
    if (!(POLICIES as readonly string[]).includes(policy)) throw new UsageError(`--dmarc-policy must be one of ${POLICIES.join(', ')}`);
    const rua = o['dmarc-rua'] as string | undefined;
    if (rua && !/^mailto:[^\s;,]+@[^\s;,]+$/.test(rua)) throw new UsageError('--dmarc-rua must be a mailto: URI');
    const mxHost = ((o['mx-host'] as string | undefined) ?? config.REPLY_DOMAIN).replace(/\.$/, '').toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(mxHost)) throw new UsageError('--mx-host must be a host name');
    const spf = ((o.spf as string | undefined) ?? `a:${new URL(config.SMTP_URL).hostname}`).trim();
    if (!spf || /["\\]|\ball\b/.test(spf)) throw new UsageError('--spf takes mechanisms only (the record ends with -all)');
    const out = buildDnsRecords({
      replyDomain: config.REPLY_DOMAIN, fromDomain: addressDomain(config.MAIL_FROM), dkim: loadDkimKeys(config), mxHost, spf,
      dmarcPolicy: policy as (typeof POLICIES)[number], dmarcRua: rua ?? null,
      tlsRptRua: tlsRptRua(config.APP_BASE_URL),
      mtaStsId: config.MTA_STS_MODE === 'none' ? null : mtaStsPolicyId(config),
    });
    if (o.json) io.out(JSON.stringify(out, null, 2));
    else for (const line of formatZone(out)) io.out(line);
    for (const w of out.warnings) io.err(`warning: ${w}`);
    return 0;
  },
};
