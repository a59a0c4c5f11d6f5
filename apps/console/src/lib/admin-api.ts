/**
 * The admin API as the console calls it (apps/api/src/admin/*.controller.ts; OpenAPI at
 * /api/docs). Every path lives here so the pages read as UI, not as URL plumbing.
 */
import { api, query } from './http.client';
import { listOf, type Paged } from './api-types';
import type { DiffLine } from '@mz/line-diff';
// Types only (erased from the bundle): the contract the api and the composer validate with.
import type { LetterPreview, PreviewLetterJob, ResponseLength, UserRole, UserStatus } from '@mz/contracts';
import type { ConversationViewJson, FooterPreviewBody, FooterPutBody, PersonaCreateBody, PromptCreateBody, SimulateReplyBody, TopicCreateBody } from '@mz/api-schemas';

export interface AdminTopic {
  id: string;
  code: string;
  name: string;
  description: string;
  personaId: string;
  personaName: string;
  model: string | null;
  // Voice overrides: null inherits the persona's (temperature: the creativity's mapping).
  temperature: number | null;
  responseLength: ResponseLength | null;
  creativity: number | null;
  instructions: string | null;
  /** The voice letters of this topic are written with (overrides applied). */
  effective: { creativity: number; responseLength: ResponseLength; instructions: string };
  active: boolean;
  subscribers: number;
  activePrompts: { version: number; weight: number }[];
}

export type { ResponseLength };

export interface AdminPersona {
  id: string;
  name: string;
  era: string;
  styleNotes: string;
  creativity: number;
  responseLength: ResponseLength;
  instructions: string;
  topics?: number;
}

/** The voice a preview is written with (what the form shows, saved or not): the job contract's. */
export type PreviewVoice = PreviewLetterJob['voice'];
/** A sample letter from the real composer (not stored, not sent). */
export type { LetterPreview };

export interface PromptVersion {
  id: string;
  topicId: string;
  version: number;
  systemTemplate: string;
  userTemplate: string;
  changeNote: string | null;
  active: boolean;
  weight: number;
  createdByEmail: string | null;
  createdAt: string;
  letters: number;
}

export interface PromptDiff {
  from: number;
  to: number;
  system: { lines: DiffLine[]; unified: string };
  user: { lines: DiffLine[]; unified: string };
}

export interface AdminUser {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  status: UserStatus;
  createdAt: string;
  lastLoginAt: string | null;
  activeSubscriptions?: number;
  lettersSent?: number;
}

export type Conversation = ConversationViewJson;

export interface AdminLetter {
  id: string;
  userId: string;
  userEmail: string;
  topic: string;
  topicName: string;
  kind: string;
  status: string;
  scheduledFor: string;
  localDate: string;
  sentAt: string | null;
  subject: string | null;
  attempts: number;
  errorType: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  skipReason: string | null;
  model: string | null;
  promptVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface AdminEvent {
  id: string | number;
  type: string;
  actor: string;
  actorEmail?: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  userId?: string | null;
  letterId?: string | null;
}

export interface AdminReply {
  id: string;
  messageId?: string;
  source: string;
  kind: string | null;
  intent: string | null;
  confidence: number | null;
  needsReview: boolean;
  reviewedAt?: string | null;
  processedAt?: string | null;
  error: string | null;
  fromAddress?: string | null;
  subject?: string | null;
  text: string | null;
  /** Where the forwarded message starts in `text` (apps/inbound's analysis), or null. */
  forwardedAt?: number | null;
  note: string | null;
  userId?: string | null;
  userEmail?: string | null;
  letterId: string | null;
  topic?: string | null;
  receivedAt: string;
}

export interface AdminReplyDetail extends AdminReply {
  analysis: Record<string, unknown> | null;
  envelopeFrom?: string | null;
}

/** A suppressed address: why, since when, and what did it. */
export interface AdminSuppression {
  id: string;
  address: string;
  reason: 'hard_bounce' | 'complaint' | 'manual';
  detail: string | null;
  createdAt: string;
  userId: string | null;
  letterId: string | null;
  inboundMessageId: string | null;
}

export interface AuditEntry {
  id: string | number;
  at: string;
  actorId: string;
  actorEmail: string | null;
  action: string;
  userId: string | null;
  letterId: string | null;
  subscriptionId: string | null;
  metadata: Record<string, unknown>;
}

export interface AdminMetrics {
  days: number;
  generatedAt: string;
  perDay: { day: string; sent: number; failed: number; skipped: number; replies: number; latenessP50Sec: number | null }[];
  lateness: { letters: number; p50Sec: number | null; p99Sec: number | null; maxSec: number | null } | null;
  doneRateByTopic: { topic: string; name: string; sent: number; done: number; replied: number; doneRate: number | null }[];
  doneRateByPromptVersion: { topic: string; promptVersion: number; sent: number; done: number; doneRate: number | null }[];
  lettersByStatus: Record<string, number>;
  queues: { queue: string; counts: Record<string, number> | null; error?: string }[];
  llmCost: AdminLlmCost;
}

/** What the LLM cost in the window (USD at the configured model prices). */
export interface AdminLlmCost {
  totalUsd: number;
  /** Over letters of a priced model; null when there were none. */
  perLetterUsd: number | null;
  letters: { letters: number; unpricedLetters: number; usd: number; promptTokens: number; cachedTokens: number };
  replies: { replies: number; usd: number; promptTokens: number; cachedTokens: number };
  replyShare: number | null;
  cacheHitShare: number | null;
  perDay: { day: string; lettersUsd: number; repliesUsd: number }[];
  byTopic: { topic: string; name: string; letters: number; usd: number; perLetterUsd: number | null }[];
  byPromptVersion: { topic: string; promptVersion: number; letters: number; usd: number; perLetterUsd: number | null }[];
}

export interface AdminLetterDetail extends AdminLetter {
  subscriptionId: string;
  messageId: string;
  bodyText: string | null;
  bodyHtml: string | null;
  summary: string | null;
  themes: string[];
  tone: string | null;
  adviceFocus: string | null;
  variationTags: string[];
  promptTokens: number | null;
  completionTokens: number | null;
  composeMs: number | null;
  sendMs: number | null;
  composedAt: string | null;
  leaseUntil: string | null;
  smtpResponse: string | null;
  /** The first delivery event a mail provider reported, and which provider (the letter's History has every provider event). */
  deliveredAt: string | null;
  deliveredBy: string | null;
  /** Degraded mode: why the offline composer wrote it although an LLM is configured. */
  fallbackReason: string | null;
  /** The language it was written in (null: composed before languages, English), and the one its subscription asks for. */
  language: string | null;
  subscriptionLanguage: string | null;
  prompt: { messages: unknown; response: string | null; createdAt: string } | null;
  events: AdminEvent[];
  replies: AdminReply[];
}

export type ThreadItem =
  | { type: 'letter'; at: string; letter: Record<string, unknown> & { id: string; subject: string | null; status: string; topicName: string; bodyHtml: string | null; bodyText: string | null } }
  | { type: 'reply'; at: string; reply: Record<string, unknown> & { id: string; kind: string | null; intent: string | null; text: string | null; forwardedAt?: number | null; note: string | null } };

export interface Footer {
  id: string;
  textTemplate: string;
  htmlTemplate: string;
  updatedByEmail: string | null;
  updatedAt: string;
}

export interface ConfigEntry {
  key: string;
  value: unknown;
  description: string | null;
  updatedByEmail: string | null;
  updatedAt: string;
  editable: boolean;
}

const A = '/api/admin';
const id = (s: string) => encodeURIComponent(s);

export const adminApi = {
  topics: async () => listOf<AdminTopic>(await api.get(`${A}/topics`), 'topics'),
  updateTopic: (topicId: string, patch: Partial<Omit<AdminTopic, 'id' | 'code'>>) => api.patch<AdminTopic>(`${A}/topics/${id(topicId)}`, patch),
  createTopic: (body: TopicCreateBody) => api.post<AdminTopic>(`${A}/topics`, body),
  personas: async () => listOf<AdminPersona>(await api.get(`${A}/personas`), 'personas'),
  createPersona: (body: PersonaCreateBody) => api.post<AdminPersona>(`${A}/personas`, body),
  previewTopic: (topicId: string, voice: PreviewVoice) => api.post<LetterPreview>(`${A}/topics/${id(topicId)}/preview`, voice),
  updatePersona: (personaId: string, patch: Partial<AdminPersona>) => api.patch<AdminPersona>(`${A}/personas/${id(personaId)}`, patch),
  deletePersona: (personaId: string) => api.del(`${A}/personas/${id(personaId)}`),

  prompts: async (topicId: string) => listOf<PromptVersion>(await api.get(`${A}/topics/${id(topicId)}/prompts`), 'versions', 'prompts'),
  createPrompt: (topicId: string, body: PromptCreateBody) =>
    api.post<PromptVersion>(`${A}/topics/${id(topicId)}/prompts`, body),
  promptDiff: (topicId: string, from: number, to: number) => api.get<PromptDiff>(`${A}/topics/${id(topicId)}/prompts/diff${query({ from, to })}`),
  activatePrompt: (promptId: string) => api.post<PromptVersion>(`${A}/prompts/${id(promptId)}/activate`),
  setWeights: async (topicId: string, weights: { version: number; weight: number }[]) =>
    listOf<PromptVersion>(await api.put(`${A}/topics/${id(topicId)}/prompts/weights`, { weights }), 'versions', 'prompts'),

  users: (q: { q?: string; status?: string; role?: string; page?: number }) => api.get<Paged<AdminUser>>(`${A}/users${query(q)}`),
  user: (userId: string) => api.get<{ user: AdminUser; counts: Record<string, number>; subscriptions: unknown[] }>(`${A}/users/${id(userId)}`),
  suspend: (userId: string) => api.post(`${A}/users/${id(userId)}/suspend`),
  unsuspend: (userId: string) => api.post(`${A}/users/${id(userId)}/unsuspend`),
  exportUser: (userId: string) => api.get<unknown>(`${A}/users/${id(userId)}/export`),
  deleteUser: (userId: string) => api.del(`${A}/users/${id(userId)}`),
  conversations: (q: { q?: string; lastIntent?: string; topic?: string; page?: number }) => api.get<Paged<Conversation>>(`${A}/conversations${query(q)}`),
  thread: (userId: string) => api.get<{ user: { id: string; email: string; status: string }; items: ThreadItem[] }>(`${A}/users/${id(userId)}/thread`),

  letters: (q: { status?: string; kind?: string; errorType?: string; userId?: string; topic?: string; page?: number }) =>
    api.get<Paged<AdminLetter> & { countsByStatus: Record<string, number> }>(`${A}/letters${query(q)}`),
  letter: (letterId: string) => api.get<AdminLetterDetail>(`${A}/letters/${id(letterId)}`),
  retry: (letterId: string) => api.post<unknown>(`${A}/letters/${id(letterId)}/retry`),

  replies: (q: { kind?: string; userId?: string; needsReview?: string; page?: number }) => api.get<Paged<AdminReply>>(`${A}/replies${query(q)}`),
  reviewQueue: async () => listOf<AdminReply>(await api.get(`${A}/replies/review`), 'replies'),
  reply: (replyId: string) => api.get<AdminReplyDetail>(`${A}/replies/${id(replyId)}`),
  confirmUnsubscribe: (replyId: string) => api.post(`${A}/replies/${id(replyId)}/confirm-unsubscribe`),
  dismiss: (replyId: string) => api.post(`${A}/replies/${id(replyId)}/dismiss`),

  footer: async () => (await api.get<{ footer: Footer | null }>(`${A}/footer`)).footer,
  saveFooter: async (body: FooterPutBody) => (await api.put<{ footer: Footer | null }>(`${A}/footer`, body)).footer,
  previewFooter: (body: FooterPreviewBody) =>
    api.post<{ text: string; html: string; warnings: string[] }>(`${A}/footer/preview`, body),

  config: async () => listOf<ConfigEntry>(await api.get(`${A}/config`), 'config', 'entries'),
  setConfig: (key: string, value: unknown) => api.put<ConfigEntry>(`${A}/config/${id(key)}`, { value }),

  metrics: (days: number) => api.get<AdminMetrics>(`${A}/metrics${query({ days })}`),
  simulateReply: (body: SimulateReplyBody) => api.post<{ inboundMessageId: string; messageId: string }>(`${A}/simulate-reply`, body),
  suppressions: (q: { q?: string; reason?: string; page?: number }) => api.get<Paged<AdminSuppression>>(`${A}/suppressions${query(q)}`),
  liftSuppression: (suppressionId: string) => api.del(`${A}/suppressions/${id(suppressionId)}`),
  audit: (q: { action?: string; actor?: string; page?: number }) => api.get<Paged<AuditEntry>>(`${A}/audit${query(q)}`),
};
