import { promises as dns } from 'node:dns';
import { Inject, Injectable } from '@nestjs/common';
import { arc, authenticate, dkimVerify, dmarc, type DNSResolver } from 'mailauth';
import type { Logger } from 'pino';
import type { AppConfig, InboundSource } from '@mz/contracts';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';

/** RFC 8601 result values as mailauth reports them. */
export type AuthResultValue = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

/**
 * What authentication says about a message, kept in its analysis for the console. `path` says
 * where the SPF result came from: our own check of the SMTP connection, a trusted provider's
 * Authentication-Results header (webhook/IMAP), or nowhere (no SPF verdict: DKIM and DMARC only).
 */
export interface AuthVerdict {
  path: 'smtp' | 'trusted_header' | 'dkim_only';
  spf: { result: AuthResultValue; domain: string | null } | null;
  /** Every DKIM signature's result; `aligned` when its d= aligns with the From domain. */
  dkim: { result: AuthResultValue; domain: string | null; aligned: boolean }[];
  dmarc: { result: AuthResultValue; domain: string | null; policy: string | null };
  arc: AuthResultValue | null;
  /** The authserv-id whose Authentication-Results header supplied a result (webhook/IMAP). */
  trustedAuthservId: string | null;
  /** A header the sender could have written, ignored: its authserv-id, for the console. */
  ignoredAuthservId: string | null;
  error?: string;
  /**
   * Not checked at all: the header section is larger than any real mail's (AUTH_MAX_HEADER_BYTES).
   * Never a pass: a reply like that speaks for nobody until a person has read it.
   */
  unverifiable?: 'headers_too_large';
}

/**
 * The largest header section authenticated. mailauth parses headers on the event loop (a 0.9 MB
 * To: header stalled it for 150 ms, against R9's 50 ms bound); real mail, Received chains and ARC
 * sets included, stays far below this. Larger ones are not checked and count as unverifiable.
 */
export const AUTH_MAX_HEADER_BYTES = 128 * 1024;

/** Bytes before the blank line that ends the header section (the whole message if there is none). */
export function headerSectionBytes(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return ends.length ? Math.min(...ends) : raw.length;
}

export interface AuthInput {
  raw: Buffer;
  source: InboundSource;
  envelopeFrom: string | null;
  remoteAddress: string | null;
  helo: string | null;
}

/**
 * The verdict contradicts the From address: DMARC fails for its domain and the domain asks
 * receivers to quarantine or reject such mail. A reply like that speaks for nobody.
 */
export function contradictsFrom(v: AuthVerdict): boolean {
  return v.dmarc.result === 'fail' && (v.dmarc.policy === 'quarantine' || v.dmarc.policy === 'reject');
}

const RESULT = /^(pass|fail|softfail|neutral|none|temperror|permerror|policy)$/;
const asResult = (v: unknown): AuthResultValue => (typeof v === 'string' && RESULT.test(v.toLowerCase()) ? (v.toLowerCase() as AuthResultValue) : 'neutral');

/** The node:dns resolver mailauth defaults to, made explicit so tests can swap in a fake zone. */
export const systemResolver: DNSResolver = (name, rrtype) => dns.resolve(name, rrtype) as Promise<string[][] | string[]>;

/** One parsed Authentication-Results header (RFC 8601), comments removed. */
export interface AuthResultsHeader {
  authservId: string;
  results: { method: string; result: AuthResultValue; props: Record<string, string> }[];
}

export function parseAuthResults(value: string): AuthResultsHeader | null {
  let text = value.replace(/\r?\n[ \t]+/g, ' ');
  // Comments can nest once or twice in practice; strip innermost first.
  for (let i = 0; i < 4 && /\([^()]*\)/.test(text); i++) text = text.replace(/\([^()]*\)/g, ' ');
  const parts = text.split(';').map((p) => p.trim()).filter(Boolean);
  const id = /^([^\s;]+)/.exec(parts.shift() ?? '')?.[1]?.toLowerCase();
  if (!id) return null;
  const results: AuthResultsHeader['results'] = [];
  for (const part of parts) {
    const m = /^([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$/i.exec(part);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const p of m[3].matchAll(/([a-z0-9-]+\.[a-z0-9-]+)\s*=\s*("[^"]*"|[^\s;]+)/gi)) props[p[1].toLowerCase()] = p[2].replace(/^"|"$/g, '');
    results.push({ method: m[1].toLowerCase(), result: asResult(m[2]), props });
  }
  return { authservId: id, results };
}

const domainOf = (address: string | undefined | null) => {
  const at = address ? address.lastIndexOf('@') : -1;
  return at > 0 ? address!.slice(at + 1).replace(/[>\s]/g, '').toLowerCase() : address ? address.toLowerCase() : null;
};

/**
 * SPF, DKIM, DMARC and ARC for one stored message with mailauth, through one DNS resolver
 * (node:dns in production, a fake zone in tests: nothing in a test reaches the internet).
 *
 * - SMTP: mailauth's authenticate() with the connecting IP, HELO and MAIL FROM we recorded.
 * - Webhook and IMAP: we never saw the connection, so SPF cannot be checked here. DKIM and ARC
 *   are verified by us; an SPF (and DMARC) result is taken only from the topmost
 *   Authentication-Results header, and only when its authserv-id is in
 *   INBOUND_TRUSTED_AUTHSERV_IDS — the header our provider prepends. Anything further down may
 *   have been written by the sender and is ignored. DMARC is then evaluated by us over our DKIM
 *   results and that SPF domain.
 *
 * A DNS failure is a temporary result (temperror), never a pass; an exception anywhere makes
 * every result temperror.
 */
@Injectable()
export class MailAuthenticator {
  private readonly logger: Logger;
  private readonly resolver: DNSResolver;
  private readonly trusted: Set<string>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'mail-auth' });
    this.resolver = options.resolver ?? systemResolver;
    this.trusted = new Set(config.INBOUND_TRUSTED_AUTHSERV_IDS);
  }

  async verify(input: AuthInput): Promise<AuthVerdict> {
    if (headerSectionBytes(input.raw) > AUTH_MAX_HEADER_BYTES) {
      const e: AuthResultValue = 'permerror';
      return {
        path: input.source === 'smtp' ? 'smtp' : 'dkim_only', spf: { result: e, domain: null }, dkim: [], dmarc: { result: e, domain: null, policy: null },
        arc: e, trustedAuthservId: null, ignoredAuthservId: null, error: `header section over ${AUTH_MAX_HEADER_BYTES / 1024} KB: not authenticated`,
        unverifiable: 'headers_too_large',
      };
    }
    try {
      return input.source === 'smtp' && input.remoteAddress ? await this.smtp(input) : await this.relayed(input);
    } catch (err) {
      this.logger.warn({ err }, 'message authentication failed; recorded as temperror');
      const t: AuthResultValue = 'temperror';
      return {
        path: input.source === 'smtp' ? 'smtp' : 'dkim_only', spf: { result: t, domain: null }, dkim: [], dmarc: { result: t, domain: null, policy: null },
        arc: t, trustedAuthservId: null, ignoredAuthservId: null, error: (err as Error).message.slice(0, 200),
      };
    }
  }

  private async smtp(input: AuthInput): Promise<AuthVerdict> {
    const r = await authenticate(input.raw, {
      ip: input.remoteAddress!, helo: input.helo ?? undefined, sender: input.envelopeFrom ?? '', mta: this.config.REPLY_DOMAIN,
      resolver: this.resolver, disableBimi: true,
    });
    return {
      path: 'smtp',
      spf: r.spf ? { result: asResult(r.spf.status?.result), domain: r.spf.domain ?? null } : null,
      dkim: this.dkim(r.dkim),
      dmarc: this.dmarcOf(r.dmarc),
      arc: r.arc ? asResult(r.arc.status?.result) : null,
      trustedAuthservId: null, ignoredAuthservId: null,
    };
  }

  private async relayed(input: AuthInput): Promise<AuthVerdict> {
    const verified = await dkimVerify(input.raw, { resolver: this.resolver });
    const parsed = verified.headers?.parsed ?? [];
    const first = parsed.find((h) => h.key === 'authentication-results');
    const header = first ? parseAuthResults(String(first.line).replace(/^[^:]*:/, '')) : null;
    const trusted = header && this.trusted.has(header.authservId) ? header : null;
    const ignored = parsed.filter((h) => h.key === 'authentication-results').map((h) => parseAuthResults(String(h.line).replace(/^[^:]*:/, ''))?.authservId).find((id) => id && id !== trusted?.authservId) ?? null;

    const spfRow = trusted?.results.find((x) => x.method === 'spf');
    const spf = spfRow ? { result: spfRow.result, domain: domainOf(spfRow.props['smtp.mailfrom'] ?? spfRow.props['smtp.helo']) } : null;
    const arcResult = verified.arc?.chain ? await arc(verified.arc as Parameters<typeof arc>[0], { resolver: this.resolver }) : null;
    const computed = verified.headerFrom?.length
      ? await dmarc({
          headerFrom: verified.headerFrom,
          spfDomains: spf?.result === 'pass' && spf.domain ? [spf.domain] : [],
          dkimDomains: (verified.results ?? []).filter((x) => x.status?.result === 'pass').map((x) => ({ id: x.id, domain: x.signingDomain, aligned: x.status?.aligned, underSized: x.status?.underSized })),
          arcResult: arcResult ?? undefined,
          resolver: this.resolver,
        })
      : false;
    let dmarcVerdict = this.dmarcOf(computed);
    // Our own evaluation can miss a pass the provider saw (a body it re-encoded); its trusted word
    // may upgrade a fail or none to pass — never the reverse of a pass we computed ourselves.
    const headerDmarc = trusted?.results.find((x) => x.method === 'dmarc');
    if (headerDmarc && dmarcVerdict.result !== 'pass' && headerDmarc.result === 'pass') dmarcVerdict = { ...dmarcVerdict, result: 'pass' };
    return {
      path: trusted ? 'trusted_header' : 'dkim_only',
      spf,
      dkim: this.dkim(verified),
      dmarc: dmarcVerdict,
      arc: arcResult ? asResult(arcResult.status?.result) : null,
      trustedAuthservId: trusted?.authservId ?? null,
      ignoredAuthservId: ignored,
    };
  }

  private dkim(r: { results?: { signingDomain?: string; status?: { result?: string; aligned?: string | boolean } }[] }): AuthVerdict['dkim'] {
    return (r.results ?? []).map((x) => ({ result: asResult(x.status?.result), domain: x.signingDomain?.toLowerCase() ?? null, aligned: !!x.status?.aligned }));
  }

  private dmarcOf(d: unknown): AuthVerdict['dmarc'] {
    if (!d || typeof d !== 'object') return { result: 'none', domain: null, policy: null };
    const r = d as { status?: { result?: string }; domain?: string; policy?: string };
    return { result: asResult(r.status?.result), domain: r.domain ?? null, policy: r.policy?.toLowerCase() ?? null };
  }
}
