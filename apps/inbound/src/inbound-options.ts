import type { DNSResolver } from 'mailauth';
import type { Clock } from '@mz/platform';

/** Knobs that are not environment settings: limits with sensible defaults, overridable in tests. */
export interface InboundOptions {
  /** Per client IP: SMTP connections per minute. */
  smtpConnectionsPerMinute: number;
  /** Per client IP: messages (MAIL FROM) per minute. */
  smtpMessagesPerMinute: number;
  /** RCPT TO per message; each must be on REPLY_DOMAIN, and the message is stored once. */
  smtpMaxRecipients: number;
  /** Concurrent SMTP clients. */
  smtpMaxClients: number;
  /** Idle SMTP connections are dropped after this. */
  smtpSocketTimeoutMs: number;
  /** How often the TLS certificate files are checked for a renewal (a mounted Secret updates in place). */
  tlsReloadMs: number;
  /** Signed webhook requests are accepted this far from our clock, either way (seconds). */
  webhookToleranceSeconds: number;
  /** Unprocessed rows older than this get their job re-queued (the gap between commit and enqueue). */
  redriveAfterMs: number;
  /** Per client IP and provider: requests per minute to the provider webhooks (shared by replicas, in Redis). */
  providerWebhookRequestsPerMinute: number;
  /**
   * Hosts an SNS SigningCertURL or SubscribeURL may name (https only). Production: `SNS_HOST`
   * (`sns.<region>.amazonaws.com`) — no environment variable changes it; tests pass their local server.
   */
  snsHostPattern?: RegExp;
  /** An extra CA for those https fetches (tests: the test CA). */
  snsCa?: string;
  /** An SNS message whose signed Timestamp is older than this is refused (seconds). */
  snsMaxAgeSeconds: number;
  /** How long a fetched SNS signing certificate is reused. */
  snsCertCacheMs: number;
  /** Pins "now" for reply understanding (tests of relative dates); the platform Clock otherwise. */
  clock?: Clock;
  /** DNS for SPF/DKIM/DMARC/ARC (node:dns when unset); tests pass a fake zone. */
  resolver?: DNSResolver;
}

export const INBOUND_OPTIONS = Symbol('INBOUND_OPTIONS');

export const DEFAULT_INBOUND_OPTIONS: InboundOptions = {
  smtpConnectionsPerMinute: 60,
  smtpMessagesPerMinute: 30,
  smtpMaxRecipients: 20,
  smtpMaxClients: 100,
  smtpSocketTimeoutMs: 60_000,
  tlsReloadMs: 30_000,
  webhookToleranceSeconds: 300,
  redriveAfterMs: 60_000,
  providerWebhookRequestsPerMinute: 1200,
  snsMaxAgeSeconds: 3600,
  snsCertCacheMs: 6 * 3600_000,
};
