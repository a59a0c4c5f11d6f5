import { z } from 'zod';
import { singleLine } from '@mz/contracts';
import { SignupChoice } from '@mz/api-schemas';

export const LoginLinkBody = z.strictObject({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(320)
    .pipe(z.email({ message: 'expected an email address' })),
  /** Optional: topics, time and zone chosen on the landing page, applied when this link is confirmed. */
  signup: SignupChoice.optional(),
});
export type LoginLinkBodyInput = z.infer<typeof LoginLinkBody>;

export const LoginLinkAccepted = z.object({ status: z.literal('accepted'), message: z.string() });

export const MeResponse = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(['subscriber', 'admin']),
  status: z.enum(['active', 'suspended', 'deleted']),
  createdAt: z.iso.datetime(),
  lastLoginAt: z.iso.datetime().nullable(),
  /** settings: this session came from a letter's footer link and cannot open the console. */
  sessionScope: z.enum(['full', 'settings']),
  /** Mail to this address is suppressed (bounced, complained, or by an admin): no letters reach it. */
  suppression: z.object({ reason: z.enum(['hard_bounce', 'complaint', 'manual']), since: z.iso.datetime() }).nullable(),
});

export const MePatch = z.strictObject({ name: singleLine(100).nullable().transform((v) => (v ? v : null)) });
export type MePatchInput = z.infer<typeof MePatch>;
