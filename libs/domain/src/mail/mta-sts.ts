import { createHash } from 'node:crypto';
import type { AppConfig } from '@mz/contracts';

type MtaStsConfig = Pick<AppConfig, 'MTA_STS_MODE' | 'MTA_STS_MX' | 'MTA_STS_MAX_AGE' | 'REPLY_DOMAIN'>;

/** The STSv1 policy text (RFC 8461 §3.2): CRLF-separated key: value lines. */
export function mtaStsPolicy(config: MtaStsConfig): string {
  const mx = (config.MTA_STS_MX ?? config.REPLY_DOMAIN).split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return ['version: STSv1', `mode: ${config.MTA_STS_MODE}`, ...mx.map((h) => `mx: ${h}`), `max_age: ${config.MTA_STS_MAX_AGE}`].join('\r\n') + '\r\n';
}

/**
 * The `id` of the `_mta-sts` TXT record (RFC 8461 §3.1: up to 32 letters and digits). Senders
 * re-fetch the policy only when the id changes, so it is derived from the policy text: whoever
 * changes MTA_STS_* and prints the records again gets a new id, and an unchanged policy keeps its.
 */
export function mtaStsPolicyId(config: MtaStsConfig): string {
  return createHash('sha256').update(mtaStsPolicy(config)).digest('hex').slice(0, 20);
}
