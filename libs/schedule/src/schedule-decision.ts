import { isPastCatchUpWindow, localDateOf, type NextRunInput, nextRun, type Run } from './schedule';

/** What the scheduler knows about a due subscription (the locked row). */
export interface DueSubscription {
  timezone: string;
  sendTimeLocal: string;
  /** The slot being claimed. */
  nextRunAt: Date;
  lastScheduledLocalDate: string | null;
  pausedUntil: Date | null;
}

export const CATCH_UP_SKIP_REASON = 'missed_catch_up_window';

export type DueDecision =
  /** Insert a letter row for the slot: `scheduled` (then compose it) or `skipped` (too late to send). */
  | { action: 'letter'; status: 'scheduled' | 'skipped'; scheduledFor: Date; localDate: string; nextRunAt: Date; lastScheduledLocalDate: string }
  /** No letter for this slot; only move the cursor. */
  | { action: 'advance'; reason: 'paused' | 'already_scheduled'; nextRunAt: Date; lastScheduledLocalDate: string | null };

const later = (a: Date, b: Date) => (a > b ? a : b);

/** Distinct questions kept; a tick asks a few per (zone, send time, slot) it meets. */
const RUNS_KEPT = 10_000;
const runs = new Map<string, Run>();

/**
 * `nextRun`, remembered. It is pure, and every row due at one slot asks it the same questions —
 * batch after batch, where the per-batch memo of `decideDue` forgets
 * them — while the Temporal arithmetic behind one answer costs a few hundred µs. Answers are
 * shared, never mutated.
 */
function knownRun(input: NextRunInput): Run {
  const key = JSON.stringify([input.timezone, input.sendTimeLocal, input.now.getTime(), input.lastScheduledLocalDate ?? null]);
  let run = runs.get(key);
  if (!run) {
    run = nextRun(input); // throws for an invalid schedule: nothing is remembered
    if (runs.size >= RUNS_KEPT) runs.clear();
    runs.set(key, run);
  }
  return run;
}

/**
 * The local date a slot honours. Usually the wall-clock date of the slot; but a slot pushed past
 * midnight by a DST gap still belongs to the day before (see `nextRun`), so when the slot is
 * exactly a run of the current schedule, that run's date is used.
 */
export function slotLocalDate(timezone: string, sendTimeLocal: string, slot: Date): string {
  const probe = knownRun({ timezone, sendTimeLocal, now: new Date(slot.getTime() - 1) });
  return probe.at.getTime() === slot.getTime() ? probe.localDate : localDateOf(slot, timezone);
}

/**
 * Decides what happens to one due slot (docs/architecture.md §3). Pure: the same row and clock give the same
 * answer, so it is unit-tested exhaustively and the batch code only persists it.
 *
 * - paused past the slot → no letter; next run from `paused_until`;
 * - the slot's local date already has its scheduled letter (time or zone changed the same day)
 *   → no second letter; next run on a later local date;
 * - slot older than the catch-up window → a `skipped` letter records the miss; the next run is
 *   the first slot still inside the window (one skip row per outage, not one per missed day);
 * - otherwise a `scheduled` letter, and the next run is the following local date's slot.
 *
 * Throws ScheduleError when the stored timezone or time is invalid.
 */
export function decideDue(sub: DueSubscription, now: Date, catchUpWindowMs: number): DueDecision {
  const { timezone, sendTimeLocal, nextRunAt: slot, lastScheduledLocalDate: last, pausedUntil } = sub;
  // Nothing is ever scheduled further in the past than the catch-up window allows.
  const earliest = new Date(now.getTime() - catchUpWindowMs);
  const runAfter = (from: Date, lastDate: string | null) => knownRun({ timezone, sendTimeLocal, now: from, lastScheduledLocalDate: lastDate }).at;

  if (pausedUntil && pausedUntil > slot) {
    return { action: 'advance', reason: 'paused', nextRunAt: runAfter(later(pausedUntil, earliest), last), lastScheduledLocalDate: last };
  }
  const localDate = slotLocalDate(timezone, sendTimeLocal, slot);
  if (last && localDate <= last) {
    return { action: 'advance', reason: 'already_scheduled', nextRunAt: runAfter(later(slot, earliest), last), lastScheduledLocalDate: last };
  }
  if (isPastCatchUpWindow(slot, now, catchUpWindowMs)) {
    return { action: 'letter', status: 'skipped', scheduledFor: slot, localDate, nextRunAt: runAfter(earliest, localDate), lastScheduledLocalDate: localDate };
  }
  return { action: 'letter', status: 'scheduled', scheduledFor: slot, localDate, nextRunAt: runAfter(slot, localDate), lastScheduledLocalDate: localDate };
}

/** `next_run_at` for a subscription that has none (new or re-enabled): from now, or after its pause. */
export function initialRun(sub: Omit<DueSubscription, 'nextRunAt'>, now: Date): Date {
  const from = sub.pausedUntil && sub.pausedUntil > now ? sub.pausedUntil : now;
  return nextRun({ timezone: sub.timezone, sendTimeLocal: sub.sendTimeLocal, now: from, lastScheduledLocalDate: sub.lastScheduledLocalDate }).at;
}
