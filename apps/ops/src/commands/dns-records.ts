import type { DkimKeys } from '@mz/domain';

/** One resource record to publish. `values` holds TXT strings (≤ 255 bytes each) or one MX rdata. */
export interface DnsRecord {
  name: string;
  type: 'MX' | 'TXT';
  values: string[];
  /** Why it exists, printed above it. */
  purpose: string;
}

export interface DnsRecordsInput {
  replyDomain: string;
  /** The From header's domain (MAIL_FROM): DMARC is published there. */
  fromDomain: string;
  dkim: DkimKeys | null;
  /** Host that receives mail for REPLY_DOMAIN (the inbound service, or the MTA in front of it). */
  mxHost: string;
  /** SPF mechanisms naming the hosts that send our mail (the outgoing relay). */
  spf: string;
  dmarcPolicy: 'none' | 'quarantine' | 'reject';
  /** mailto: for aggregate reports, if any. */
  dmarcRua: string | null;
  /**
   * The api's TLS-RPT endpoint (`https://<APP_BASE_URL host>/api/tlsrpt`), or null when the api is
   * not on https: RFC 8460 reports are only ever posted over https.
   */
  tlsRptRua: string | null;
  /** The `_mta-sts` record's policy id when MTA_STS_MODE is testing or enforce, else null. */
  mtaStsId: string | null;
}

export interface DnsRecordsOutput {
  records: DnsRecord[];
  /** Things that will make receivers distrust our mail as configured. */
  warnings: string[];
}

/** A TXT value in ≤ 255-byte strings (RFC 1035 character-strings); resolvers join them. */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

/** Registrable-domain approximation for alignment warnings: the last two labels. */
const orgDomain = (d: string) => d.split('.').slice(-2).join('.');
const aligned = (a: string, b: string) => a === b || orgDomain(a) === orgDomain(b);

/**
 * The records that make our mail verifiable (docs/architecture.md §8):
 * - MX for REPLY_DOMAIN: replies, DSNs and feedback reports come back to the inbound service;
 * - SPF for REPLY_DOMAIN: it is the envelope sender's domain (the `b+…` bounce addresses);
 * - DKIM for each selector (current and, during a rotation, next), the public key derived from
 *   the configured private key — never typed by hand;
 * - DMARC for the From domain, relaxed alignment (DKIM d= and the envelope domain share its
 *   organisational domain);
 * - TLS reporting (RFC 8460) for REPLY_DOMAIN: senders post daily reports on TLS to our MX to the
 *   api's endpoint, which counts them;
 * - with MTA-STS on, `_mta-sts` for REPLY_DOMAIN, whose id tells senders to fetch the policy again.
 */
export function buildDnsRecords(input: DnsRecordsInput): DnsRecordsOutput {
  const records: DnsRecord[] = [];
  const warnings: string[] = [];
  records.push({ name: input.replyDomain, type: 'MX', values: [`10 ${input.mxHost}.`], purpose: 'replies, bounces and feedback reports reach the inbound service' });
  records.push({ name: input.replyDomain, type: 'TXT', values: txtStrings(`v=spf1 ${input.spf} -all`), purpose: 'SPF for the envelope sender (bounce addresses on REPLY_DOMAIN)' });
  if (input.mtaStsId) {
    records.push({ name: `_mta-sts.${input.replyDomain}`, type: 'TXT', values: [`v=STSv1; id=${input.mtaStsId}`], purpose: 'MTA-STS (RFC 8461): the policy at https://mta-sts.<REPLY_DOMAIN>/.well-known/mta-sts.txt; the id changes with the policy' });
  }
  if (input.tlsRptRua) {
    records.push({ name: `_smtp._tls.${input.replyDomain}`, type: 'TXT', values: txtStrings(`v=TLSRPTv1; rua=${input.tlsRptRua}`), purpose: 'TLS reporting (RFC 8460): senders report how TLS to the MX went, to the api' });
  } else {
    warnings.push('APP_BASE_URL is not https: no _smtp._tls record, TLS reports (RFC 8460) are only posted over https');
  }
  if (input.dkim) {
    for (const [role, key] of [['current', input.dkim.current], ['next', input.dkim.next]] as const) {
      if (!key) continue;
      records.push({
        name: `${key.selector}._domainkey.${key.domain}`, type: 'TXT', values: txtStrings(`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`),
        purpose: role === 'current' ? `DKIM: the key letters are signed with now (${key.bits}-bit RSA)` : `DKIM: the next key, published ahead of the rotation (${key.bits}-bit RSA)`,
      });
    }
    if (!aligned(input.dkim.current.domain, input.fromDomain)) warnings.push(`DKIM_DOMAIN ${input.dkim.current.domain} does not align with the From domain ${input.fromDomain}: DMARC will not pass on DKIM`);
  } else {
    warnings.push('DKIM is not configured (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY): letters leave unsigned');
  }
  if (!aligned(input.replyDomain, input.fromDomain)) warnings.push(`REPLY_DOMAIN ${input.replyDomain} does not align with the From domain ${input.fromDomain}: DMARC cannot pass on SPF`);
  const dmarc = ['v=DMARC1', `p=${input.dmarcPolicy}`, 'adkim=r', 'aspf=r', ...(input.dmarcRua ? [`rua=${input.dmarcRua}`] : [])].join('; ');
  records.push({ name: `_dmarc.${input.fromDomain}`, type: 'TXT', values: txtStrings(dmarc), purpose: 'DMARC for the From domain' });
  return { records, warnings };
}

/** Zone-file lines (one record per line, TTL 3600), comments naming each record's purpose. */
export function formatZone(out: DnsRecordsOutput): string[] {
  const lines: string[] = [];
  for (const w of out.warnings) lines.push(`; WARNING: ${w}`);
  for (const r of out.records) {
    lines.push(`; ${r.purpose}`);
    const rdata = r.type === 'TXT' ? r.values.map((v) => `"${v.replace(/(["\\])/g, '\\$1')}"`).join(' ') : r.values.join(' ');
    lines.push(`${r.name}.\t3600\tIN\t${r.type}\t${rdata}`);
  }
  return lines;
}
