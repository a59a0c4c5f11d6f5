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
