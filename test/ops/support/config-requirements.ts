/**
 * Which configuration keys a deployment must set explicitly, derived from the services' own
 * ConfigSchema rather than a list kept by hand: the keys production refuses to default (the
 * secrets), and every key whose default only makes sense on a developer's machine (loopback
 * addresses, *.localhost names).
 */
import { ConfigSchema } from '@mz/contracts';

export function keysThatMustBeExplicit(): string[] {
  const refused = ConfigSchema.safeParse({ NODE_ENV: 'production' });
  const secretKeys = refused.success ? [] : refused.error.issues.map((i) => String(i.path[0]));
  const defaults = ConfigSchema.parse({ NODE_ENV: 'development' }) as Record<string, unknown>;
  const localOnly = Object.entries(defaults)
    .filter(([, v]) => typeof v === 'string' && /127\.0\.0\.1|localhost/.test(v))
    .map(([k]) => k);
  return [...new Set([...secretKeys, ...localOnly, 'NODE_ENV', 'QUEUE_PREFIX'])].sort();
}

/**
 * Keys production accepts in place of another: the MX certificate, or INBOUND_TLS=off on purpose —
 * and only the inbound service (or a process that does not say which it is) needs either.
 */
const ALTERNATIVES: Record<string, (env: Record<string, string | undefined>) => boolean> = {
  INBOUND_TLS_CERT_FILE: (env) => env.INBOUND_TLS === 'off' || (env.APP !== undefined && env.APP !== 'inbound'),
};

/** The keys of `keysThatMustBeExplicit()` that `env` leaves unset or empty. */
export function missingExplicitKeys(env: Record<string, string | undefined>): string[] {
  return keysThatMustBeExplicit().filter((k) => (env[k] === undefined || env[k] === '') && !ALTERNATIVES[k]?.(env));
}
