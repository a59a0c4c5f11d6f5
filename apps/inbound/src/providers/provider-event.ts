import type { ProviderEventRow, ProviderEventType } from '@mz/db';

export type { ProviderEventType };

/**
 * One provider event in our terms, whatever the provider's shape: what happened, to which
 * address, and which of our messages it names (what the mailer stamped for that provider).
 * `key` is the provider's own id for the event, so a retried delivery of it is stored once.
 * The row ProviderEventRepository stores, field for field.
 */
export type ProviderEventInput = ProviderEventRow;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stamped id as echoed back: a UUID, or null (anything else is not ours). */
export function stampedId(value: unknown): string | null {
  return typeof value === 'string' && UUID.test(value.trim()) ? value.trim().toLowerCase() : null;
}

/** A date from a provider's timestamp (unix seconds, possibly fractional, or ISO text), or null. */
export function eventDate(value: unknown): Date | null {
  const d = typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : null;
  return d && Number.isFinite(d.getTime()) ? d : null;
}

/** Short printable text for the detail column (provider text can be long or hostile). */
export function detailText(value: unknown, max = 300): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value).replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return s ? s.slice(0, max) : null;
}

export function address(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  const a = (m ? m[1] : value).trim().toLowerCase();
  return /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/.test(a) && a.length <= 320 ? a : null;
}
