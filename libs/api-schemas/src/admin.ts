import { z } from 'zod';
import { CONTROL_CHAR_MESSAGE, FAILURE_CLASSES, hasControlChars, INBOUND_KINDS, LETTER_KINDS, LETTER_STATUSES, OPS_CLI_ACTOR, PreviewLetterJob, readerVarsIn, REPLY_INTENTS, RESPONSE_LENGTHS, USER_ROLES, USER_STATUSES } from '@mz/contracts';

const text = (max: number) => z.string().trim().min(1).max(max);
/** Names and labels: one line, no control characters. */
const line = (max: number) => text(max).refine((s) => !hasControlChars(s), CONTROL_CHAR_MESSAGE);

const creativity = z.number().min(0).max(1);
/** The editor's extra instructions for a voice ('' none). */
const instructions = z.string().trim().max(4000);

const personaFields = { name: line(120), era: line(120), styleNotes: text(4000), creativity, responseLength: z.enum(RESPONSE_LENGTHS), instructions };
export const PersonaCreate = z.strictObject({
  ...personaFields,
  creativity: creativity.default(0.5),
  responseLength: personaFields.responseLength.default('medium'),
  instructions: instructions.default(''),
});
export const PersonaPatch = z.strictObject(personaFields).partial().refine((v) => Object.keys(v).length > 0, 'nothing to change');
export type PersonaCreateInput = z.infer<typeof PersonaCreate>;
export type PersonaPatchInput = z.infer<typeof PersonaPatch>;

/**
 * A prompt version's two templates. The system template takes persona and topic placeholders
 * only, so it stays one cacheable prefix across readers; per-reader ones belong in the user template.
 */
export const PromptTexts = z.strictObject({
  systemTemplate: text(20_000).superRefine((t, ctx) => {
    const reader = readerVarsIn(t);
    if (reader.length) {
      ctx.addIssue({
        code: 'custom',
        message: `uses per-reader placeholder(s) ${reader.map((n) => `{{${n}}}`).join(', ')}: move them to the user template, so the system message is the same for every reader (prompt caching)`,
      });
    }
  }),
  userTemplate: text(20_000),
});

const topicFields = {
  name: line(120),
  description: text(1000),
  personaId: z.uuid(),
  model: z.string().trim().max(200).refine((s) => !hasControlChars(s), CONTROL_CHAR_MESSAGE).nullable(),
  // Voice settings: null inherits the persona's (temperature: what the creativity maps to).
  temperature: z.number().min(0).max(2).nullable(),
  responseLength: z.enum(RESPONSE_LENGTHS).nullable(),
  creativity: creativity.nullable(),
  instructions: instructions.nullable(),
  active: z.boolean(),
};
export const TopicCreate = z.strictObject({
  code: z.string().regex(/^[a-z0-9-]{2,24}$/, '2-24 characters: a-z, 0-9, -'),
  ...topicFields,
  model: topicFields.model.optional(),
  temperature: topicFields.temperature.default(null),
  responseLength: topicFields.responseLength.default(null),
  creativity: topicFields.creativity.default(null),
  instructions: topicFields.instructions.default(null),
  active: topicFields.active.default(true),
  /** The first prompt version; when omitted, the oldest topic's first version is copied. */
  prompt: PromptTexts.optional(),
});
/** The code is not editable: it tags every sent subject ([mz:code]) that replies are matched by. */
export const TopicPatch = z.strictObject(topicFields).partial().refine((v) => Object.keys(v).length > 0, 'nothing to change');
export type TopicCreateInput = z.infer<typeof TopicCreate>;
export type TopicPatchInput = z.infer<typeof TopicPatch>;

/** The voice a preview is written with: the effective settings as the console's form shows them. */
export const LetterPreviewInput = PreviewLetterJob.shape.voice;
export type LetterPreviewParams = z.infer<typeof LetterPreviewInput>;

export const PromptCreate = PromptTexts.extend({
  changeNote: z.string().trim().max(1000).optional(),
  /** Make the new version the only active one right away. */
  activate: z.boolean().default(false),
});
export type PromptCreateInput = z.infer<typeof PromptCreate>;

export const PromptDiffQuery = z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });
export type PromptDiffParams = z.infer<typeof PromptDiffQuery>;

export const PromptWeights = z.strictObject({
  weights: z
    .array(z.strictObject({ version: z.number().int().min(1), weight: z.number().int().min(0).max(10_000) }))
    .min(1)
    .max(20)
    .refine((w) => new Set(w.map((x) => x.version)).size === w.length, 'each version once')
    .refine((w) => w.some((x) => x.weight > 0), 'at least one version needs a weight above 0'),
});
export type PromptWeightsInput = z.infer<typeof PromptWeights>;

export const UsersQuery = z.object({
  q: z.string().trim().max(320).refine((s) => !hasControlChars(s), CONTROL_CHAR_MESSAGE).optional(),
  status: z.enum(USER_STATUSES).optional(),
  role: z.enum(USER_ROLES).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type UsersParams = z.infer<typeof UsersQuery>;

export const ConversationsQuery = z.object({
  q: z.string().trim().max(320).optional().describe('email or name fragment'),
  lastIntent: z.enum([...REPLY_INTENTS, 'none']).optional().describe('the intent of the latest reply; none = no reply yet'),
  topic: z.string().regex(/^[a-z0-9-]{2,24}$/).optional().describe('only messages of this topic are counted'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type ConversationsParams = z.infer<typeof ConversationsQuery>;

/** One subscriber's thread in the conversations list. */
export const ConversationView = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  lettersSent: z.number().int(),
  replies: z.number().int(),
  messages: z.number().int().describe('letters sent plus replies matched'),
  lastActivityAt: z.iso.datetime().nullable(),
  lastIntent: z.string().nullable().describe('the intent of the latest reply'),
});

export const LettersAdminQuery = z.object({
  status: z.enum(LETTER_STATUSES).optional(),
  kind: z.enum(LETTER_KINDS).optional(),
  errorType: z.enum(FAILURE_CLASSES).optional(),
  userId: z.uuid().optional(),
  topic: z.string().regex(/^[a-z0-9-]{2,24}$/).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});
export type LettersAdminParams = z.infer<typeof LettersAdminQuery>;

export const RepliesQuery = z.object({
  kind: z.enum(INBOUND_KINDS).optional(),
  userId: z.uuid().optional(),
  needsReview: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});
export type RepliesParams = z.infer<typeof RepliesQuery>;

export const FooterPut = z.strictObject({ textTemplate: text(5000), htmlTemplate: text(20_000) });
export type FooterPutInput = z.infer<typeof FooterPut>;
export const FooterPreview = FooterPut.extend({ topicName: line(120).default('Resilience') });
export type FooterPreviewInput = z.infer<typeof FooterPreview>;

export const ConfigPut = z.strictObject({ value: z.unknown() });

export const MetricsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) });
export type MetricsParams = z.infer<typeof MetricsQuery>;

export const SimulateReply = z.strictObject({
  letterId: z.uuid(),
  text: z.string().min(1).max(20_000),
  /** Defaults to the subscriber's address; another address shows what happens to a stranger's reply. */
  from: z.email().optional(),
});
export type SimulateReplyInput = z.infer<typeof SimulateReply>;

export const SuppressionsQuery = z.object({
  /** Part of the address (case-insensitive). */
  q: z.string().trim().min(1).max(320).optional(),
  reason: z.enum(['hard_bounce', 'complaint', 'manual']).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
});
export type SuppressionsParams = z.infer<typeof SuppressionsQuery>;

export const AuditQuery = z.object({
  action: z.string().regex(/^[a-z_.-]{1,64}$/).optional(),
  /** An admin's user id, or the operator CLI's actor name. */
  actor: z.union([z.uuid(), z.literal(OPS_CLI_ACTOR)]).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
});
export type AuditParams = z.infer<typeof AuditQuery>;
