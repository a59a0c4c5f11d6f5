import type { EntityManager } from 'typeorm';
import { logEvent } from '@mz/db';

export interface AdminActionInput {
  /** Dotted verb naming what was done: 'topic.update', 'user.suspend', 'prompt.activate', … */
  action: string;
  userId?: string | null;
  letterId?: string | null;
  subscriptionId?: string | null;
  /** What changed (ids, fields, before/after of settings). Never personal data. */
  details?: Record<string, unknown>;
}

/**
 * Who did it: a signed-in admin (their user id; the audit page shows their email) or the operator
 * CLI (`ops-cli`, docs/operations.md), so console and CLI actions sit in one audit log.
 */
export interface AdminActor { id: string }

/** Every mutating admin call writes one ADMIN_ACTION event in the transaction of its change. */
export function logAdminAction(m: EntityManager, admin: AdminActor, a: AdminActionInput): Promise<void> {
  return logEvent(m, {
    type: 'ADMIN_ACTION',
    actor: admin.id,
    userId: a.userId ?? null,
    letterId: a.letterId ?? null,
    subscriptionId: a.subscriptionId ?? null,
    metadata: { action: a.action, ...(a.details ?? {}) },
  });
}

/** Before/after of the fields that changed, long texts shortened (the row keeps the full value). */
export function changesOf(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after)) {
    if (after[key] === undefined) continue;
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    out[key] = { from: shorten(before[key]), to: shorten(after[key]) };
  }
  return out;
}

const shorten = (v: unknown) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…` : v);
