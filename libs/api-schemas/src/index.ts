/**
 * The HTTP API's shapes, as the api validates them (zod): request bodies and queries it parses,
 * response views it documents in OpenAPI. The api imports the schemas; the web console imports
 * the types derived from them (type-only, erased from its bundle), so the two cannot drift.
 */
export * from './admin';
export * from './subscriber';

import type { z } from 'zod';
import type { ConversationView, FooterPreview, FooterPut, PersonaCreate, PromptCreate, SimulateReply, TopicCreate } from './admin';
import type { LetterView, PreviewResponse, ReplyView, SignupChoice, SubscriptionsPut, SubscriptionView, TopicSampleView, TopicView } from './subscriber';

// What a client sends (defaults may be left out: z.input) and what it gets back (z.output of
// the response views, which describe dates as ISO strings — exactly the JSON on the wire).
export type TopicCreateBody = z.input<typeof TopicCreate>;
export type PersonaCreateBody = z.input<typeof PersonaCreate>;
export type PromptCreateBody = z.input<typeof PromptCreate>;
export type FooterPutBody = z.input<typeof FooterPut>;
export type FooterPreviewBody = z.input<typeof FooterPreview>;
export type SimulateReplyBody = z.input<typeof SimulateReply>;
export type SubscriptionChangeBody = z.input<typeof SubscriptionsPut>['subscriptions'][number];
export type TopicViewJson = z.output<typeof TopicView>;
export type SubscriptionViewJson = z.output<typeof SubscriptionView>;
export type ReplyViewJson = z.output<typeof ReplyView>;
export type LetterViewJson = z.output<typeof LetterView>;
export type ConversationViewJson = z.output<typeof ConversationView>;
export type SignupChoiceBody = z.input<typeof SignupChoice>;
export type TopicSampleJson = z.output<typeof TopicSampleView>;
export type PreviewRunJson = z.output<typeof PreviewResponse>['runs'][number];
