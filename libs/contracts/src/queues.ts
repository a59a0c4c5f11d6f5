/**
 * Queue names are frozen: they are the addresses of jobs already sitting in Redis. Renaming one
 * strands every queued job under the old name, so values never change — add new ones instead.
 * BullMQ keys look like `<prefix>:<queue>:<id>`; names must not contain ':'.
 */
export const QueueName = Object.freeze({
  LettersCompose: 'letters.compose',
  LettersSend: 'letters.send',
  MailTransactional: 'mail.transactional',
  RepliesProcess: 'replies.process',
  Maintenance: 'maintenance',
  /** The composer's Batch API window (docs/architecture.md §7): its own queue, so compose backlogs and drains never count it. */
  LlmBatch: 'llm.batch',
} as const);
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
export const ALL_QUEUES: readonly QueueName[] = Object.freeze(Object.values(QueueName));

/** Job names inside the queues; also frozen (never derived from class names). */
export const JobName = Object.freeze({
  ComposeLetter: 'compose-letter',
  PreviewLetter: 'preview-letter',
  SendLetter: 'send-letter',
  SendLoginLink: 'send-login-link',
  ProcessReply: 'process-reply',
  ProcessProviderEvent: 'process-provider-event',
  CleanupExpiredAuth: 'cleanup-expired-auth',
  RollupKpis: 'rollup-kpis',
  SweepStuckLetters: 'sweep-stuck-letters',
  LlmBatch: 'llm-batch',
} as const);
export type JobName = (typeof JobName)[keyof typeof JobName];
