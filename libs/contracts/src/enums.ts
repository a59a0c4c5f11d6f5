export const USER_ROLES = ['subscriber', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const USER_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const LETTER_KINDS = ['scheduled', 'send_now'] as const;
export type LetterKind = (typeof LETTER_KINDS)[number];

/**
 * scheduled → composing → composed → sending → sent
 *                 ↘ retrying ↙          ↘ retrying (send stage, body present)
 * any → failed | skipped | cancelled
 */
export const LETTER_STATUSES = ['scheduled', 'composing', 'composed', 'sending', 'sent', 'retrying', 'failed', 'skipped', 'cancelled'] as const;
export type LetterStatus = (typeof LETTER_STATUSES)[number];
/** Letters still on their way: cancelled when the topic is disabled or unsubscribed. */
export const PENDING_LETTER_STATUSES: readonly LetterStatus[] = ['scheduled', 'composing', 'composed', 'retrying'];

/** Failure classes (docs/architecture.md §3) — decided once, in one place, per side effect. */
export const FAILURE_CLASSES = ['rate_limit', 'network', 'processing', 'permanent'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/**
 * The mail providers we relay through (MAIL_PROVIDER): which headers the mailer stamps so that the
 * provider's events name our letter, and which native webhooks are expected. `smtp`: none.
 */
export const MAIL_PROVIDERS = ['smtp', 'ses', 'sendgrid', 'mailgun', 'postmark'] as const;
export type MailProvider = (typeof MAIL_PROVIDERS)[number];
/** The providers with native webhooks on the inbound service. */
export const WEBHOOK_PROVIDERS = ['mailgun', 'sendgrid', 'postmark', 'ses'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** How a message reached us: our own receivers, or a provider's inbound webhook (named after it). */
export const INBOUND_SOURCES = ['smtp', 'imap', 'webhook', 'simulator', ...WEBHOOK_PROVIDERS] as const;
export type InboundSource = (typeof INBOUND_SOURCES)[number];

export const INBOUND_KINDS = ['reply', 'auto_reply', 'bounce', 'complaint', 'unmatched'] as const;
export type InboundKind = (typeof INBOUND_KINDS)[number];

export const REPLY_INTENTS = ['done', 'note', 'unsubscribe', 'pause'] as const;
export type ReplyIntent = (typeof REPLY_INTENTS)[number];

export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export const EVENT_TYPES = [
  'LETTER_SCHEDULED', 'LETTER_COMPOSED', 'LETTER_SENT', 'LETTER_FAILED', 'LETTER_SKIPPED', 'LETTER_CANCELLED',
  'LETTER_RETRY_REQUESTED', 'REPLY_PROCESSED', 'UNSUBSCRIBE', 'PAUSE', 'SUPPRESSED', 'SUPPRESSION_LIFTED', 'LOGIN', 'LOGOUT',
  'ADMIN_ACTION', 'USER_DELETED', 'LETTER_DONE', 'PROVIDER_EVENT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const RESPONSE_LENGTHS = ['short', 'medium', 'long'] as const;
export type ResponseLength = (typeof RESPONSE_LENGTHS)[number];

export const LOGIN_TOKEN_PURPOSES = ['login', 'footer_login'] as const;
export type LoginTokenPurpose = (typeof LOGIN_TOKEN_PURPOSES)[number];
/** What a session may do: `settings` (from a letter's footer link) never reaches the admin console. */
export const SESSION_SCOPES = ['full', 'settings'] as const;
export type SessionScope = (typeof SESSION_SCOPES)[number];

/**
 * The audit actor of the operator CLI (apps/ops): event_log.actor is a user id for console
 * actions and this name for the CLI's, so both sit in one audit log and can be filtered.
 */
export const OPS_CLI_ACTOR = 'ops-cli';
