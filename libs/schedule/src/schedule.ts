// The one schedule function shared by the scheduler and the API's preview endpoint (docs/architecture.md §3).
// All calendar work goes through Temporal: IANA rules, gaps and folds are the library's job, and
// this file only decides which local date a run belongs to.
import { Temporal } from 'temporal-polyfill';

/** Invalid schedule input (timezone, send time, date, count). The message names the bad value. */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export interface NextRunInput {
  /** IANA zone name, e.g. 'Europe/Paris'. */
  timezone: string;
  /** Wall-clock send time 'HH:MM'. */
  sendTimeLocal: string;
  now: Date;
  /** Local date ('YYYY-MM-DD') of the last scheduled letter; the next run is on a later date. */
  lastScheduledLocalDate?: string | null;
}

export interface Run {
  at: Date;
  /**
   * Local date 'YYYY-MM-DD' whose send time this run honours; the key for "at most one run per
   * local date". Usually the date part of `local`; the day before when a gap pushed the time
   * past midnight.
   */
  localDate: string;
  /** Local date-time actually used, 'YYYY-MM-DDTHH:MM' (03:30 when 02:30 falls in a gap). */
  local: string;
}

export interface PreviewRunsInput {
  timezone: string;
  sendTimeLocal: string;
  after: Date;
  lastScheduledLocalDate?: string | null;
  /** 1..30 */
  count: number;
}

export const MAX_PREVIEW_RUNS = 30;

const SEND_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
// Shape of an IANA name ('UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+2').
// Temporal also accepts UTC offsets and ISO strings with a bracketed zone; neither is a zone a
// subscriber lives in, so they are refused before Temporal sees them.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

// A run's instant is never more than a couple of days from the first candidate date; this bound
// only guards against an impossible infinite loop.
const MAX_CANDIDATE_DAYS = 14;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * True for IANA zone names exactly as the tz database spells them ('Europe/Paris', 'UTC',
 * links such as 'Asia/Calcutta' too). Offsets ('+02:00'), unknown names and other casings
 * ('europe/paris') are refused so stored values compare equal.
 */
export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || !IANA_NAME.test(tz)) return false;
  try {
    return Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(tz).timeZoneId === tz;
  } catch {
    return false;
  }
}

/** True for 'HH:MM', 00:00..23:59, two digits each. */
export function isValidSendTime(t: string): boolean {
  return typeof t === 'string' && SEND_TIME.test(t);
}

function assertTimezone(timezone: string): void {
  if (!isValidTimezone(timezone)) {
    throw new ScheduleError(`Invalid timezone ${describe(timezone)}: expected an IANA zone name such as "Europe/Paris"`);
  }
}

function assertSendTime(sendTimeLocal: string): void {
  if (!isValidSendTime(sendTimeLocal)) {
    throw new ScheduleError(`Invalid send time ${describe(sendTimeLocal)}: expected "HH:MM" between 00:00 and 23:59`);
  }
}

/** Throws ScheduleError unless both the timezone and the send time are valid. */
export function assertSchedule(timezone: string, sendTimeLocal: string): void {
  assertTimezone(timezone);
  assertSendTime(sendTimeLocal);
}

function toInstant(value: Date, name: string): Temporal.Instant {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ScheduleError(`Invalid ${name} ${describe(value)}: expected a valid Date`);
  }
  return Temporal.Instant.fromEpochMilliseconds(value.getTime());
}

function parseLocalDate(value: string, name: string): Temporal.PlainDate {
  if (typeof value !== 'string' || !LOCAL_DATE.test(value)) {
    throw new ScheduleError(`Invalid ${name} ${describe(value)}: expected "YYYY-MM-DD"`);
  }
  try {
    return Temporal.PlainDate.from(value, { overflow: 'reject' });
  } catch {
    throw new ScheduleError(`Invalid ${name} ${describe(value)}: not a calendar date`);
  }
}

/** Wall-clock date 'YYYY-MM-DD' of `instant` in `timezone`. */
export function localDateOf(instant: Date, timezone: string): string {
  assertTimezone(timezone);
  return toInstant(instant, 'instant').toZonedDateTimeISO(timezone).toPlainDate().toString();
}

function formatLocal(zdt: Temporal.ZonedDateTime): string {
  return zdt.toPlainDateTime().toString({ smallestUnit: 'minute' });
}

/**
 * First instant strictly after `now` whose wall clock in `timezone` reads `sendTimeLocal`, on a
 * local date later than `lastScheduledLocalDate`.
 *
 * Gaps and folds follow RFC 5545 / Temporal 'compatible': a nonexistent time moves forward by
 * the gap's length, a repeated time uses its first occurrence (once it has passed, that date is
 * done). A run belongs to the local date whose send time it honours, even when the shift lands
 * it after midnight (America/Nuuk skips 23:00-24:00 on 2026-03-28: its 23:30 run is at 00:30 on
 * the 29th and the 29th still gets its own 23:30 run). A date with no wall clock at all
 * (Pacific/Apia 2011-12-30) would be shifted onto the next date's own slot; it gets no run,
 * so no instant is ever used twice.
 */
export function nextRun(input: NextRunInput): Run {
  const { timezone, sendTimeLocal, now, lastScheduledLocalDate } = input;
  assertSchedule(timezone, sendTimeLocal);
  const nowInstant = toInstant(now, 'now');
  const last =
    lastScheduledLocalDate === undefined || lastScheduledLocalDate === null
      ? null
      : parseLocalDate(lastScheduledLocalDate, 'lastScheduledLocalDate');
  const time = Temporal.PlainTime.from(sendTimeLocal);
  const slot = (date: Temporal.PlainDate): Temporal.ZonedDateTime =>
    date.toPlainDateTime(time).toZonedDateTime(timezone, { disambiguation: 'compatible' });

  // Start a day early: yesterday's slot, shifted across midnight by a gap, may still be ahead.
  let date = nowInstant.toZonedDateTimeISO(timezone).toPlainDate().subtract({ days: 1 });
  if (last && Temporal.PlainDate.compare(date, last) <= 0) date = last.add({ days: 1 });

  // Slots never move backwards as the date advances, so the first that qualifies is the earliest.
  for (let i = 0; i < MAX_CANDIDATE_DAYS; i++, date = date.add({ days: 1 })) {
    const zdt = slot(date);
    if (Temporal.Instant.compare(zdt.toInstant(), nowInstant) <= 0) continue;
    const shiftedPastDate = Temporal.PlainDate.compare(zdt.toPlainDate(), date) > 0;
    if (shiftedPastDate && Temporal.ZonedDateTime.compare(slot(date.add({ days: 1 })), zdt) <= 0) continue;
    return { at: new Date(zdt.epochMilliseconds), localDate: date.toString(), local: formatLocal(zdt) };
  }
  throw new ScheduleError(`No run found for ${describe(sendTimeLocal)} in ${describe(timezone)} after ${now.toISOString()}`);
}

/** `count` (1..30) consecutive next runs; each run's local date is the next call's last date. */
export function previewRuns(input: PreviewRunsInput): Run[] {
  const { count } = input;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW_RUNS) {
    throw new ScheduleError(`Invalid count ${describe(count)}: expected an integer from 1 to ${MAX_PREVIEW_RUNS}`);
  }
  const runs: Run[] = [];
  let lastScheduledLocalDate = input.lastScheduledLocalDate;
  for (let i = 0; i < count; i++) {
    const run = nextRun({ timezone: input.timezone, sendTimeLocal: input.sendTimeLocal, now: input.after, lastScheduledLocalDate });
    runs.push(run);
    lastScheduledLocalDate = run.localDate;
  }
  return runs;
}

/** True when the slot at `scheduledFor` passed more than `windowMs` before `now` (skip, don't send late). */
export function isPastCatchUpWindow(scheduledFor: Date, now: Date, windowMs: number): boolean {
  const slot = toInstant(scheduledFor, 'scheduledFor');
  const current = toInstant(now, 'now');
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
    throw new ScheduleError(`Invalid catch-up window ${describe(windowMs)}: expected a non-negative number of milliseconds`);
  }
  return current.epochMilliseconds - slot.epochMilliseconds > windowMs;
}
