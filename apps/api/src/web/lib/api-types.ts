/**
 * Shapes of the JSON API the console reads (apps/api/src/subscriber/subscriber.schemas.ts and
 * the admin schemas are the source of truth; OpenAPI at /api/docs). Dates arrive as ISO strings.
 */
import { api } from './http.client';

export interface Persona {
  name: string;
  era: string;
}

export interface PublicTopic {
  code: string;
  name: string;
  description: string;
  persona: Persona | null;
}

export interface Subscription {
  topic: PublicTopic;
  subscribed: boolean;
  enabled: boolean;
  sendTime: string;
  timezone: string | null;
  contextNote: string | null;
  nextRunAt: string | null;
  pausedUntil: string | null;
  streak: number;
  lastLetterAt: string | null;
  lastScheduledLocalDate: string | null;
}

export interface SubscriptionChange {
  topic: string;
  enabled: boolean;
  sendTime: string;
  timezone: string;
  contextNote?: string | null;
}

export interface PreviewRun {
  utc: string;
  local: string;
}

export interface Reply {
  id: string;
  receivedAt: string;
  intent: string | null;
  text: string | null;
  note: string | null;
}

export interface MyLetter {
  id: string;
  topic: { code: string; name: string };
  kind: 'scheduled' | 'send_now';
  status: string;
  scheduledFor: string;
  sentAt: string | null;
  subject: string | null;
  bodyText: string | null;
  bodyHtml: string | null;
  done: boolean;
  replies: Reply[];
}

export interface Paged<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

/** Accepts a bare array or an `{items}`/`{topics}`/`{subscriptions}` envelope. */
export function listOf<T>(res: unknown, ...keys: string[]): T[] {
  if (Array.isArray(res)) return res as T[];
  if (res && typeof res === 'object') {
    for (const k of ['items', ...keys]) {
      const v = (res as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

export async function loadTopics(): Promise<PublicTopic[]> {
  return listOf<PublicTopic>(await api.get('/api/topics'), 'topics');
}

export async function loadSubscriptions(): Promise<Subscription[]> {
  return listOf<Subscription>(await api.get('/api/subscriptions'), 'subscriptions');
}

export async function saveSubscriptions(changes: SubscriptionChange[]): Promise<Subscription[]> {
  return listOf<Subscription>(await api.put('/api/subscriptions', { subscriptions: changes }), 'subscriptions');
}
