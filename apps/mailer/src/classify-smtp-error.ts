import type { FailureClass } from '@mz/contracts';
import { maskText } from '@mz/platform';

/**
 * The one place that decides what an SMTP failure means (docs/architecture.md §3). Every mail the mailer sends
 * goes through it, so the BullMQ backoff, the `letter` row and the metrics all agree.
 */
export interface SmtpFailure {
  failureClass: FailureClass;
  /** The address does not exist (hard bounce): it goes on the suppression list. */
  hardBounce: boolean;
  /** Basic SMTP reply code, when the server replied. */
  responseCode?: number;
  /** RFC 3463 enhanced status code (`4.7.1`), when the reply carried one. */
  enhancedCode?: string;
  /** Safe for `letter.last_error` and logs: addresses and tokens masked, length capped. */
  summary: string;
}

/** Errors Node or nodemailer raise when the connection, not the message, was the problem. */
const NETWORK_CODES = new Set([
  'ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL', 'EMAXLIMIT', 'EPROXY',
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
]);

const ENHANCED = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;
/**
 * RFC 3463: X.1.1 bad mailbox, X.1.2 bad domain, X.1.3 bad address syntax, X.1.6 mailbox moved,
 * X.1.10 null MX, X.2.1 mailbox disabled. Only these say the address itself is dead.
 */
const DEAD_ADDRESS = /^5\.(1\.(1|2|3|6|10)|2\.1)$/;
/** 550s without an enhanced code that are about us (spam, policy), not about the address. */
const POLICY_HINT = /spam|block|policy|reputation|blacklist|denylist|dmarc|spf|dkim|rate|too many/i;

const MAX_SUMMARY = 300;

export function classifySmtpError(err: unknown): SmtpFailure {
  const e = (err ?? {}) as { responseCode?: unknown; code?: unknown; response?: unknown; message?: unknown };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const response = typeof e.response === 'string' ? e.response : undefined;
  const enhancedCode = response ? ENHANCED.exec(response)?.[1] : undefined;
  const summary = summarize(responseCode, code, response ?? (typeof e.message === 'string' ? e.message : String(err)));
  const result = (failureClass: FailureClass, hardBounce = false): SmtpFailure => ({ failureClass, hardBounce, responseCode, enhancedCode, summary });

  // TLS to the relay failed (no STARTTLS under SMTP_REQUIRE_TLS, an untrusted certificate): a
  // configuration problem, never the message's — retried on the network schedule, never sent in plaintext.
  if (code === 'ETLS') return { ...result('network'), summary: summarize(undefined, code, `TLS to the relay failed: ${response ?? (typeof e.message === 'string' ? e.message : '')}`) };
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    // 421 closes the channel ("too many connections", "try later"); 4.7.x deferrals are throttling/reputation.
    if (responseCode === 421 || enhancedCode?.startsWith('4.7.')) return result('rate_limit');
    // 503 is a session-state error: the same message goes through on a fresh connection.
    if (responseCode < 500 || responseCode === 503) return result('network');
    return result('permanent', isDeadAddress(responseCode, enhancedCode, response));
  }
  if (code && NETWORK_CODES.has(code)) return result('network');
  return result('processing');
}

function isDeadAddress(responseCode: number, enhanced: string | undefined, response: string | undefined): boolean {
  if (enhanced) return DEAD_ADDRESS.test(enhanced);
  // Plain 550/551/553 with nothing more specific: mailbox unavailable / not local / name not allowed.
  return [550, 551, 553].includes(responseCode) && !POLICY_HINT.test(response ?? '');
}

function summarize(responseCode: number | undefined, code: string | undefined, text: string): string {
  const head = responseCode !== undefined ? `SMTP ${responseCode}` : code ? `SMTP ${code}` : 'SMTP error';
  const body = maskText(text.replace(/[\r\n]+/g, ' ').trim());
  const s = `${head}: ${body}`;
  return s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY - 1)}…` : s;
}
