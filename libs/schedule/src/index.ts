export {
  MAX_PREVIEW_RUNS,
  ScheduleError,
  assertSchedule,
  isPastCatchUpWindow,
  isValidSendTime,
  isValidTimezone,
  localDateOf,
  nextRun,
  previewRuns,
} from './schedule';
export type { NextRunInput, PreviewRunsInput, Run } from './schedule';
export { CATCH_UP_SKIP_REASON, decideDue, initialRun, slotLocalDate } from './schedule-decision';
export type { DueDecision, DueSubscription } from './schedule-decision';
