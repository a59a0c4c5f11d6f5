/** Dates, times and numbers for people: Intl only, no hand-made offset arithmetic. */

const LOCALE = typeof navigator !== 'undefined' ? navigator.language : 'en-GB';

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

function valid(d: Date): boolean {
  return !Number.isNaN(d.getTime());
}

/** "Tue 4 Nov, 07:30" in `timeZone` (the browser's zone when omitted). */
export function formatDateTime(value: string | number | Date | null | undefined, timeZone?: string, locale = LOCALE): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = toDate(value);
  if (!valid(d)) return '—';
  return new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone }).format(d);
}

/** "4 Nov 2025" */
export function formatDate(value: string | number | Date | null | undefined, timeZone?: string, locale = LOCALE): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = toDate(value);
  if (!valid(d)) return '—';
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone }).format(d);
}

/** "2025-11-04 07:30:12" in UTC: unambiguous for admins comparing with logs. */
export function formatUtc(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = toDate(value);
  if (!valid(d)) return '—';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The zone's short name at that instant, e.g. "CET", "GMT+5:30". */
export function zoneAbbreviation(value: string | number | Date, timeZone: string, locale = LOCALE): string {
  const d = toDate(value);
  if (!valid(d)) return '';
  const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}

/** "in 3 hours", "2 days ago" relative to `now`. */
export function relativeTime(value: string | number | Date | null | undefined, now: Date = new Date(), locale = LOCALE): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = toDate(value);
  if (!valid(d)) return '—';
  const diffSec = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diffSec);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (abs < 45) return rtf.format(diffSec, 'second');
  if (abs < 45 * 60) return rtf.format(Math.round(diffSec / 60), 'minute');
  if (abs < 22 * 3600) return rtf.format(Math.round(diffSec / 3600), 'hour');
  if (abs < 26 * 86400) return rtf.format(Math.round(diffSec / 86400), 'day');
  if (abs < 320 * 86400) return rtf.format(Math.round(diffSec / (30 * 86400)), 'month');
  return rtf.format(Math.round(diffSec / (365 * 86400)), 'year');
}

export function formatNumber(n: number | null | undefined, opts: Intl.NumberFormatOptions = {}, locale = LOCALE): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return new Intl.NumberFormat(locale, opts).format(n);
}

export function formatPercent(ratio: number | null | undefined, locale = LOCALE): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '—';
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(ratio);
}

/** US dollars with enough digits for fractions of a cent ("$0.000123", "$12.40"). */
export function formatUsd(usd: number | null | undefined, locale = LOCALE): string {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return '—';
  const digits = usd === 0 || Math.abs(usd) >= 1 ? 2 : Math.min(8, 2 + Math.max(0, -Math.floor(Math.log10(Math.abs(usd))) - 1) + 2);
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2, maximumFractionDigits: digits }).format(usd);
}

/** Milliseconds as "850 ms", "12.4 s", "3 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Sentence-case a snake_case enum for display: "rate_limit" → "Rate limit". */
export function humanize(code: string | null | undefined): string {
  if (!code) return '—';
  const s = code.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A letter subject without its routing tag: "On patience [mz:focus]" → "On patience". */
export function displaySubject(subject: string | null | undefined): string | null {
  if (!subject) return null;
  return subject.replace(/\s*\[mz:[a-z0-9-]+\]\s*$/i, '').trim() || subject;
}

/**
 * A stored reply's text split at its forward mark (`forwardedAt`, apps/inbound's analysis): what the
 * subscriber wrote, and the message they forwarded (null when nothing was, or the mark does not fit).
 */
export function splitForwarded(text: string, forwardedAt: number | null | undefined): { written: string; forwarded: string | null } {
  if (typeof forwardedAt !== 'number' || !Number.isInteger(forwardedAt) || forwardedAt < 0 || forwardedAt >= text.length) return { written: text, forwarded: null };
  return { written: text.slice(0, forwardedAt).trimEnd(), forwarded: text.slice(forwardedAt) };
}
