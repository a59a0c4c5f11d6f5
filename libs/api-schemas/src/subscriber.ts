import { z } from 'zod';
import { canonicalLanguage, MAX_LANGUAGE_TAG } from '@mz/contracts';
import { isValidSendTime, isValidTimezone, MAX_PREVIEW_RUNS } from '@mz/schedule';

export const TopicCode = z.string().regex(/^[a-z0-9-]{2,24}$/, 'expected a topic code');
export const Timezone = z.string().max(64).refine(isValidTimezone, { message: 'expected an IANA timezone such as "Europe/Paris"' });
export const SendTime = z.string().refine(isValidSendTime, { message: 'expected "HH:MM" between 00:00 and 23:59' });
/**
 * A BCP 47 language tag (docs/architecture.md §3.3), stored canonical: "EN-us" → "en-US". Refused:
 * malformed ("en_US"), private-use ("x-klingon", "qaa"), no language ("und"), over 35 characters.
 */
export const LanguageTag = z
  .string()
  .max(MAX_LANGUAGE_TAG, `at most ${MAX_LANGUAGE_TAG} characters`)
  .refine((v) => canonicalLanguage(v) !== null, { message: 'expected a BCP 47 language tag such as "en", "de-AT" or "pt-BR"' })
  .transform((v) => canonicalLanguage(v)!)
  .describe('BCP 47 language tag the letters are written in; stored canonical (Intl.getCanonicalLocales)');
const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected "YYYY-MM-DD"');

/**
 * One topic's settings. `contextNote`: omitted → unchanged, null or "" → cleared. `language`:
 * omitted → unchanged ("en" for a new subscription; the console sends the browser's language).
 */
export const SubscriptionSettings = z.strictObject({
  enabled: z.boolean(),
  sendTime: SendTime,
  timezone: Timezone,
  contextNote: z.string().max(2000, 'at most 2000 characters').nullable().optional(),
  language: LanguageTag.optional(),
});
export type SubscriptionSettingsInput = z.infer<typeof SubscriptionSettings>;

export const SubscriptionsPut = z.strictObject({
  subscriptions: z.array(SubscriptionSettings.extend({ topic: TopicCode })).min(1).max(50),
});
export type SubscriptionsPutInput = z.infer<typeof SubscriptionsPut>;

/**
 * The landing page's sign-up choice, sent with the sign-in request and applied when that link is
 * confirmed (docs/architecture.md §5): which topics, at what local time, in which zone (the
 * browser's, editable). Codes are checked against the active topics before anything is stored.
 */
export const SignupChoice = z.strictObject({
  topics: z
    .array(TopicCode)
    .min(1, 'choose at least one topic')
    .max(20)
    .refine((codes) => new Set(codes).size === codes.length, { message: 'each topic once' }),
  sendTime: SendTime,
  timezone: Timezone,
});
export type SignupChoiceInput = z.infer<typeof SignupChoice>;

/** The sample letter the landing page shows for a topic (offline-composed, cached: §5). */
export const TopicSampleView = z.object({
  topic: z.string(),
  subject: z.string(),
  bodyHtml: z.string().describe('sanitised HTML, as a letter is rendered'),
  bodyText: z.string(),
});

export const PreviewQuery = z.object({
  timezone: Timezone,
  sendTime: SendTime,
  after: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 instant' }).optional(),
  lastLocalDate: LocalDate.optional(),
  count: z.coerce.number().int().min(1).max(MAX_PREVIEW_RUNS).default(3),
});
export type PreviewParams = z.infer<typeof PreviewQuery>;

export const PreviewResponse = z.object({
  runs: z.array(z.object({ utc: z.iso.datetime(), local: z.string().describe('local wall-clock time "YYYY-MM-DDTHH:MM"') })),
});

export const TopicView = z.object({
  code: z.string(),
  name: z.string(),
  description: z.string(),
  persona: z.object({ name: z.string(), era: z.string() }),
});

export const SubscriptionView = z.object({
  topic: TopicView,
  subscribed: z.boolean().describe('false: never set up (the other fields are defaults)'),
  enabled: z.boolean(),
  sendTime: z.string(),
  timezone: z.string().nullable(),
  contextNote: z.string().nullable(),
  language: z.string().describe('BCP 47 tag the letters are asked for in ("en" until chosen)'),
  letterLanguage: z.string().describe('the language letters are actually written in: `language` when an LLM writes them, "en" when none is configured (the offline composer writes English only)'),
  nextRunAt: z.iso.datetime().nullable(),
  pausedUntil: z.iso.datetime().nullable(),
  streak: z.number().int(),
  lastLetterAt: z.iso.datetime().nullable(),
  lastScheduledLocalDate: z.iso.date().nullable().describe('the local date the scheduler last created a letter for; it will not create another for that date'),
});

export const ReplyView = z.object({
  id: z.uuid(),
  receivedAt: z.iso.datetime(),
  intent: z.string().nullable(),
  text: z.string().nullable().describe('plain text: render as text, never as HTML'),
  note: z.string().nullable(),
});

export const LetterView = z.object({
  id: z.uuid(),
  topic: z.object({ code: z.string(), name: z.string() }),
  kind: z.enum(['scheduled', 'send_now']),
  status: z.string(),
  scheduledFor: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
  subject: z.string().nullable(),
  bodyText: z.string().nullable(),
  bodyHtml: z.string().nullable().describe('sanitised HTML (present once sent)'),
  done: z.boolean(),
  replies: z.array(ReplyView),
});

export const MarkDoneResponse = z.object({
  letterId: z.uuid(),
  changed: z.boolean().describe('false: the letter was already done (by a reply or an earlier click); nothing changed'),
  streak: z.number().int().describe('the topic\'s streak after this'),
});

export const LettersQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(50).default(10),
  topic: TopicCode.optional(),
});
export type LettersParams = z.infer<typeof LettersQuery>;
