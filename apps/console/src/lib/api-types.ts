/**
 * Shapes of the JSON API the console reads, derived from the zod schemas the api validates and
 * documents them with (libs/api-schemas; OpenAPI at /api/docs): type-only imports, erased from
 * the bundle. Dates arrive as ISO strings.
 */
import type { LetterViewJson, PreviewRunJson, ReplyViewJson, SignupChoiceBody, SubscriptionChangeBody, SubscriptionViewJson, TopicSampleJson, TopicViewJson } from '@mz/api-schemas';
import { api } from './http.client';

export type PublicTopic = TopicViewJson;
export type Persona = PublicTopic['persona'];
export type Subscription = SubscriptionViewJson;
export type SubscriptionChange = SubscriptionChangeBody;
export type PreviewRun = PreviewRunJson;
export type Reply = ReplyViewJson;
export type MyLetter = LetterViewJson;
export type SignupChoice = SignupChoiceBody;
export type TopicSample = TopicSampleJson;

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

export function loadTopicSample(code: string): Promise<TopicSample> {
  return api.get<TopicSample>(`/api/topics/${encodeURIComponent(code)}/sample`);
}

export async function loadSubscriptions(): Promise<Subscription[]> {
  return listOf<Subscription>(await api.get('/api/subscriptions'), 'subscriptions');
}

export async function saveSubscriptions(changes: SubscriptionChange[]): Promise<Subscription[]> {
  return listOf<Subscription>(await api.put('/api/subscriptions', { subscriptions: changes }), 'subscriptions');
}
